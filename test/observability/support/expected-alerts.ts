/**
 * The alerts a scenario expects, as Prometheus renders them: labels, and the annotations written
 * out in full (promtool compares them exactly), so a wrong label or template shows as a failure.
 */
import type { FleetImage } from '../../../src/model/fleet.ts';
import {
  ALERTS,
  type FailureReason,
  type MissingReason,
  type Severity,
} from '../../../src/shared/metrics.ts';
import type { AlertName } from '../../../src/observability/types.ts';
import { NAMESPACE, RUNBOOK_BASE } from './fixture.ts';
import { humanizeDuration, type WorldException } from './world.ts';

export interface ExpectedAlert {
  readonly alertname: AlertName;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
}

/** The fleet's longest schedule interval (the weekly image) plus the 2 h grace. */
const DEPENDENCY_TRACK_WINDOW = '170h';

const runbook = (alert: AlertName) => `${RUNBOOK_BASE}/${alert}.md`;

function alert(
  alertname: AlertName,
  severity: string,
  labels: Record<string, string>,
  summary: string,
  description: string,
): ExpectedAlert {
  return {
    alertname,
    labels: { ...labels, severity, namespace: NAMESPACE },
    annotations: { summary, description, runbook_url: runbook(alertname) },
  };
}

export function slaBreach(image: FleetImage, cve: Severity, count: number): ExpectedAlert {
  return alert(
    ALERTS.slaBreach,
    cve === 'Critical' ? 'critical' : cve === 'High' ? 'warning' : 'info',
    { image: image.image, cve_severity: cve, team: image.team },
    `${cve} CVEs past their SLA on ${image.image}`,
    `${count} ${cve} CVE(s) have been on running containers of ${image.image} for longer than the image's ${cve} SLA (team ${image.team}).`,
  );
}

export function jobFailed(image: FleetImage, reason: FailureReason): ExpectedAlert {
  return alert(
    ALERTS.jobFailed,
    'warning',
    { image: image.image, cronjob: image.name, team: image.team, failure_reason: reason },
    `Copa run for ${image.image} failed: ${reason}`,
    `The last run of CronJob ${NAMESPACE}/${image.name} (${image.image}) ended with failure_reason=${reason}. The image gets no patches until a run succeeds.`,
  );
}

export function jobMissingStale(
  image: FleetImage,
  reason: Extract<MissingReason, 'no_recent_run' | 'no_recent_success'>,
  ageSeconds: number,
): ExpectedAlert {
  const what =
    reason === 'no_recent_run'
      ? 'the last run (exporter heartbeat or CronJob schedule) was'
      : 'runs happen, but the last successful one was';
  return alert(
    ALERTS.jobMissing,
    'warning',
    { image: image.image, cronjob: image.name, team: image.team, missing_reason: reason },
    `No recent successful Copa run for ${image.image} (${reason})`,
    `CronJob ${NAMESPACE}/${image.name} (${image.image}): ${what} ${humanizeDuration(ageSeconds)} ago, more than its schedule interval plus 2 h. The image silently stopped receiving patches.`,
  );
}

/** A first run that never came (`window`: since the CronJob was created) or never succeeded (since then, or since the Pushgateway started). */
export function jobMissingNever(
  image: FleetImage,
  reason: Extract<MissingReason, 'never_reported' | 'never_succeeded'>,
  window: number,
): ExpectedAlert {
  const description =
    reason === 'never_reported'
      ? ` was created ${humanizeDuration(window)} ago, more than its schedule interval plus 2 h, and no run ever reported: the image has never been patched.`
      : `: its runs reported, but no successful run is on record in the ${humanizeDuration(window)} since it was created (or the Pushgateway started), more than its schedule interval plus 2 h: the image is not being patched.`;
  return alert(
    ALERTS.jobMissing,
    'warning',
    { image: image.image, cronjob: image.name, team: image.team, missing_reason: reason },
    `No recent successful Copa run for ${image.image} (${reason})`,
    `CronJob ${NAMESPACE}/${image.name} (${image.image})${description}`,
  );
}

export function jobMissingCronJob(image: FleetImage): ExpectedAlert {
  return alert(
    ALERTS.jobMissing,
    'warning',
    {
      image: image.image,
      cronjob: image.name,
      team: image.team,
      missing_reason: 'cronjob_missing',
    },
    `No recent successful Copa run for ${image.image} (cronjob_missing)`,
    `${image.image} is in the inventory, but its CronJob ${NAMESPACE}/${image.name} has not existed for 1h: the generated manifests were not applied, or the CronJob was deleted. The image gets no patches.`,
  );
}

export function imageNotScanned(image: FleetImage, containers: number): ExpectedAlert {
  return alert(
    ALERTS.imageNotScanned,
    'warning',
    { image: image.image, team: image.team },
    `Running image ${image.image} was never scanned`,
    `${containers} running container(s) of ${image.image} have run a digest without any VulnerabilityReport for 1h: its CVEs are unknown, and those containers count as not known to be compliant (team ${image.team}).`,
  );
}

export function unpatchedDigest(
  image: FleetImage,
  workloadNamespace: string,
  containers: number,
): ExpectedAlert {
  return alert(
    ALERTS.unpatchedDigest,
    'warning',
    { image: image.image, exported_namespace: workloadNamespace, team: image.team },
    `Pods in ${workloadNamespace} still run an unpatched digest of ${image.image}`,
    `${containers} running container(s) of ${image.image} in namespace ${workloadNamespace} have run a digest other than the latest patched one for more than 30m. Roll the workloads out (team ${image.team}).`,
  );
}

export function scanStale(image: FleetImage, ageSeconds: number): ExpectedAlert {
  return alert(
    ALERTS.scanStale,
    'warning',
    { image: image.image, team: image.team },
    `Trivy scan of ${image.image} is stale`,
    `The newest VulnerabilityReport of the running image ${image.image} is ${humanizeDuration(ageSeconds)} old (limit 30 h): its CVE list and SLA clock are not current (team ${image.team}).`,
  );
}

export function namespaceNotScanned(workloadNamespace: string, pods: number): ExpectedAlert {
  return alert(
    ALERTS.namespaceNotScanned,
    'warning',
    { exported_namespace: workloadNamespace },
    `Namespace ${workloadNamespace} has running pods but no Trivy report`,
    `${pods} running pod(s) in namespace ${workloadNamespace} and no VulnerabilityReport there for 1h: the trivy-operator does not watch it, so its CVEs are invisible to the SLA.`,
  );
}

export function pushgatewayStale(image: FleetImage, ageSeconds: number): ExpectedAlert {
  return alert(
    ALERTS.pushgatewayGroupStale,
    'warning',
    { image: image.image, cronjob: image.name, team: image.team },
    `Pushgateway group of ${image.image} is stale`,
    `The Pushgateway group job="copa-fleet-exporter", cronjob="${image.name}" (${image.image}) was last pushed ${humanizeDuration(ageSeconds)} ago, later than one schedule interval plus 90 min: its run metrics are stale (team ${image.team}).`,
  );
}

export function collectorDown(): ExpectedAlert {
  return alert(
    ALERTS.collectorDown,
    'critical',
    {},
    'The copa-fleet drift collector is down or not synced',
    'For 10m, no scrape target of job "copa-fleet-collector" was up, or it exported no inventory, or one of its informers was not synced. ' +
      'Drift, CVE age, coverage and inventory series are missing, and every copa-fleet alert that joins on them is silent.',
  );
}

export function dependencyTrackFailing(image: FleetImage, failures: number): ExpectedAlert {
  return alert(
    ALERTS.dependencyTrackUploadFailing,
    'warning',
    { image: image.image, cronjob: image.name, team: image.team },
    `Dependency-Track BOM upload failing for ${image.image}`,
    `${failures} BOM upload(s) of ${image.image} (CronJob ${NAMESPACE}/${image.name}) to Dependency-Track failed after all retries within the last ${DEPENDENCY_TRACK_WINDOW}, and the latest run uploaded none (team ${image.team}).`,
  );
}

function exceptionLabels(e: WorldException): Record<string, string> {
  return {
    exception: e.key,
    vulnerability: e.vulnerability,
    images: e.images.join(','),
    reason: e.reason,
    owner: e.owner,
    ticket: e.ticket,
    expires: new Date(e.expires * 1000).toISOString().slice(0, 10),
  };
}

export function exceptionExpired(e: WorldException): ExpectedAlert {
  const l = exceptionLabels(e);
  return alert(
    ALERTS.exceptionExpired,
    'warning',
    l,
    `Exception for ${l.vulnerability} expired on ${l.expires}`,
    `The exception for ${l.vulnerability} on ${l.images} (${l.reason}; owner ${l.owner}, ticket ${l.ticket}) lapsed on ${l.expires}: ` +
      'its CVE counts towards the SLA again, and CriticalCVESLABreach fires for it with the age it always had. Renew it in the inventory or remove it.',
  );
}

export function exceptionExpiringSoon(e: WorldException, daysLeft: string): ExpectedAlert {
  const l = exceptionLabels(e);
  return alert(
    ALERTS.exceptionExpiringSoon,
    'info',
    l,
    `Exception for ${l.vulnerability} expires on ${l.expires}`,
    `The exception for ${l.vulnerability} on ${l.images} (${l.reason}; owner ${l.owner}, ticket ${l.ticket}) expires in ${daysLeft} day(s), on ${l.expires}. Patch, renew it after review, or let it lapse.`,
  );
}

export function exceptionUnused(e: WorldException): ExpectedAlert {
  const l = exceptionLabels(e);
  return alert(
    ALERTS.exceptionUnused,
    'info',
    l,
    `Exception for ${l.vulnerability} covers nothing running`,
    `For 7d, no running container of ${l.images} carried ${l.vulnerability} (owner ${l.owner}, ticket ${l.ticket}): the fix shipped or the image is gone. Remove the exception from the inventory.`,
  );
}
