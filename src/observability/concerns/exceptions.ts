/**
 * Risk acceptance (issue 13): reviewed exceptions from the inventory, which the collector honours
 * at run time. The collector decides which exceptions are in force with its own clock and counts
 * accepted breaches apart (`image_cve_sla_breaches_accepted`), so CriticalCVESLABreach (sla.ts,
 * reading `image_cve_sla_breaches`) stays quiet while a CVE is accepted and fires, with the CVE's
 * original first-seen time, the moment the exception lapses. This concern watches the exceptions
 * themselves: lapsed, lapsing, and covering nothing running; and shows the compliance ratio with
 * accepted risk next to the strict one, and the CVEs no one can patch yet.
 *
 * Every series here is one per exception or per image and severity: bounded by the reviewed list.
 */
import { ALERTS, L, METRICS, RECORDS } from '../../shared/metrics.ts';
import { barGaugePanel, noneIfCollected, statPanel, steps, tablePanel } from '../panels.ts';
import { by, on } from '../promql.ts';
import type { FleetQueries } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import {
  COMPLIANCE_THRESHOLDS,
  complianceUnknownContainers,
  runningContainersTotal,
} from './drift.ts';
import type { Concern } from '../types.ts';

const { exception, vulnerability, images, reason, owner, ticket, expires, image, severity } = L;

/** CVEExceptionExpiringSoon fires this many days before the expiry. */
export const EXPIRING_SOON_DAYS = 7;
/** CVEExceptionUnused fires after the exception covered nothing running for this long. */
export const UNUSED_FOR = '7d';

const DAY_SECONDS = 86_400;
const INFO_LABELS = [vulnerability, images, reason, owner, ticket, expires] as const;
/** What each alert of this concern outputs: the exception and its reviewed fields (withInfo). */
const OUTPUT_LABELS = [exception, ...INFO_LABELS];

/**
 * The per-exception series of this fleet, deduplicated across the collector's replicas or scrape
 * targets: per cluster (`q.by`, the dashboard's rows), or over all clusters (`fleetWide`, the
 * alerts). An exception is an inventory fact that every cluster's collector exports, so a per-cluster
 * alert would fire once per cluster for one exception. Over all clusters (`max`): in force where any
 * collector honours it, and used where any cluster runs what it covers.
 */
function exceptionQueries(q: FleetQueries, fleetWide: boolean) {
  const grouping = fleetWide ? by : q.by;
  const joining = fleetWide ? on : q.on;
  const perException = (metric: Parameters<FleetQueries['series']>[0]) =>
    `max ${grouping(exception)} (${q.series(metric)})`;
  const info = `max ${grouping(exception, ...INFO_LABELS)} (${q.series(METRICS.exceptionInfo)})`;
  return {
    expiry: perException(METRICS.exceptionExpiryTimestamp),
    inForce: perException(METRICS.exceptionInForce),
    coveredImages: perException(METRICS.exceptionCoveredImages),
    /** `on (exception)`, joined the same way. */
    on: joining(exception),
    /** Adds the reviewed fields (vulnerability, images, owner, ticket, ...) to a per-exception expression. */
    withInfo: (expr: string) =>
      `(${expr}) * ${joining(exception)} group_left (${INFO_LABELS.join(', ')}) ${info}`,
  };
}

const who = `owner {{ $labels.${owner} }}, ticket {{ $labels.${ticket} }}`;

export function exceptionsConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  const { expiry, inForce, coveredImages, on: onException, withInfo } = exceptionQueries(q, true);
  const perCluster = exceptionQueries(q, false);
  const running = runningContainersTotal(q);
  return {
    name: 'exceptions',
    records: [
      {
        record: RECORDS.slaBreachesAccepted,
        // Zero for every tracked severity without accepted breaches, as RECORDS.slaBreaches.
        expr:
          `sum ${q.by(severity)} (max ${q.by(image, severity)} (${q.series(METRICS.imageCveSlaBreachesAccepted)}))` +
          ` or 0 * count ${q.by(severity)} (${q.series(METRICS.inventorySlaHours)})`,
      },
      {
        record: RECORDS.patchComplianceRatioAccepted,
        // As RECORDS.patchComplianceRatio (drift.ts): absent without the collector's count, never a
        // false 100 %, and a never-scanned container is not known compliant, accepted risk or not.
        expr: `clamp_min(${running} - ${q.agg('max', q.series(METRICS.noncompliantContainersAccepted))} - ${complianceUnknownContainers(q)}, 0) / (${running} > 0)`,
      },
    ],
    alerts: [
      {
        alert: ALERTS.exceptionExpired,
        outputLabels: OUTPUT_LABELS,
        fleetWide: true,
        // Not in force and past its expiry (an exception approved for a later date is not "expired").
        expr: withInfo(
          `(time() - ${expiry}) / ${DAY_SECONDS} > 0 and ${onException} (${inForce} == 0)`,
        ),
        severity: 'warning',
        summary: `Exception for {{ $labels.${vulnerability} }} expired on {{ $labels.${expires} }}`,
        description:
          `The exception for {{ $labels.${vulnerability} }} on {{ $labels.${images} }} ({{ $labels.${reason} }}; ${who}) lapsed on {{ $labels.${expires} }}: ` +
          `its CVE counts towards the SLA again, and CriticalCVESLABreach fires for it with the age it always had. Renew it in the inventory or remove it.`,
      },
      {
        alert: ALERTS.exceptionExpiringSoon,
        outputLabels: OUTPUT_LABELS,
        fleetWide: true,
        expr: withInfo(
          `(${expiry} - time()) / ${DAY_SECONDS} < ${EXPIRING_SOON_DAYS} and ${onException} (${inForce} == 1)`,
        ),
        severity: 'info',
        summary: `Exception for {{ $labels.${vulnerability} }} expires on {{ $labels.${expires} }}`,
        description:
          `The exception for {{ $labels.${vulnerability} }} on {{ $labels.${images} }} ({{ $labels.${reason} }}; ${who}) expires in {{ $value | printf "%.1f" }} day(s), ` +
          `on {{ $labels.${expires} }}. Patch, renew it after review, or let it lapse.`,
      },
      {
        alert: ALERTS.exceptionUnused,
        outputLabels: OUTPUT_LABELS,
        fleetWide: true,
        expr: withInfo(`${coveredImages} == 0 and ${onException} (${inForce} == 1)`),
        for: UNUSED_FOR,
        severity: 'info',
        summary: `Exception for {{ $labels.${vulnerability} }} covers nothing running`,
        description:
          `For ${UNUSED_FOR}, no running container of {{ $labels.${images} }} carried {{ $labels.${vulnerability} }} (${who}): ` +
          `the fix shipped or the image is gone. Remove the exception from the inventory.`,
      },
    ],
    panels: {
      complianceWithAcceptedRisk: statPanel({
        title: 'Patch compliance with accepted risk',
        description:
          'As "Patch compliance", except that a container whose Critical CVEs are all covered by exceptions in force counts as compliant. The gap between the two is the accepted risk.',
        queries: [{ expr: q.record(RECORDS.patchComplianceRatioAccepted) }],
        width: 4,
        height: 4,
        unit: 'percentunit',
        thresholds: COMPLIANCE_THRESHOLDS,
      }),
      acceptedRisk: tablePanel({
        title: 'Accepted risk',
        description:
          'Every exception of the inventory: the vulnerability, the images it covers, owner, ticket, expiry, whether it is in force, and how many inventoried images run the vulnerability within its scope (0: in use by nothing).',
        queries: [
          { expr: perCluster.withInfo(perCluster.inForce) },
          { expr: perCluster.withInfo(perCluster.coveredImages) },
        ],
        width: 24,
        height: 8,
        hide: [exception],
        rename: {
          [vulnerability]: 'Vulnerability',
          [images]: 'Images',
          [owner]: 'Owner',
          [ticket]: 'Ticket',
          [expires]: 'Expires',
          [reason]: 'Reason',
          'Value #A': 'In force',
          'Value #B': 'Images running it',
        },
        colorColumn: 'In force',
        thresholds: [
          { value: null, color: 'red' },
          { value: 1, color: 'green' },
        ],
        noValue: noneIfCollected('No exceptions'),
      }),
      acceptedBreaches: barGaugePanel({
        title: 'Accepted SLA breaches',
        description:
          'CVEs past their SLA that an exception in force covers, by image and severity: counted apart from the SLA breaches, which page.',
        queries: [
          {
            expr: q.withImageTeam(
              `max ${q.by(image, severity)} (${q.series(METRICS.imageCveSlaBreachesAccepted)})`,
            ),
            legend: `{{${image}}} ({{${severity}}})`,
          },
        ],
        width: 12,
        height: 8,
        thresholds: steps([1, 'orange']),
        noValue: noneIfCollected(),
      }),
      unfixableCves: barGaugePanel({
        title: 'CVEs without a fix',
        description:
          'CVEs of a tracked severity on running digests whose VulnerabilityReport names no fixed version, by image and severity. With slaScope fixable (the default) they do not run the SLA clock until a fix appears.',
        queries: [
          {
            expr: q.withImageTeam(
              `max ${q.by(image, severity)} (${q.series(METRICS.imageUnfixableCves)})`,
            ),
            legend: `{{${image}}} ({{${severity}}})`,
          },
        ],
        width: 12,
        height: 8,
        thresholds: steps([1, 'orange']),
        noValue: noneIfCollected(),
      }),
    },
  } satisfies Concern;
}
