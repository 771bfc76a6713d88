/**
 * The inventory: the one user-facing config object. Every default lives here, next to its
 * documentation (`.describe()` feeds the JSON Schema that editors use, and docs/inventory.md).
 * Objects are strict: a typo is an error, never silently ignored.
 */
import { z } from 'zod';
import { imageCronJobName } from '../model/naming.ts';
import { RESCAN_MARGIN_HOURS } from '../model/scan-freshness.ts';
import { DEFAULT_TAG, parseImageRef } from '../shared/image-ref.ts';
import { ALERT_SEVERITIES } from '../shared/metrics.ts';
import { cronProblem } from './cron.ts';
import {
  checkExceptions,
  datesProblems,
  DEFAULT_MAX_EXCEPTION_DAYS,
  exceptionFileSchema,
  exceptionSchema,
  inventoryImageKeys,
} from './exceptions-schema.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const TIME_OF_DAY = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const DURATION = /^[0-9]+(ms|s|m|h|d|w|y)$/;
const PROM_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const DEFAULT_TEAM = 'platform';

const duration = () =>
  z.string().regex(DURATION, 'must be a duration such as "30s", "20m" or "4h"');

const DURATION_UNIT_SECONDS = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_536_000,
} as const;
/** Seconds of a validated duration (Prometheus units: `y` is 365 days). */
export function durationSeconds(value: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d|w|y)$/.exec(value);
  if (match === null) throw new Error(`not a duration: ${value}`);
  return Number(match[1]) * DURATION_UNIT_SECONDS[match[2] as keyof typeof DURATION_UNIT_SECONDS];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dnsSubdomain = () =>
  z
    .string()
    .max(253)
    .regex(DNS_SUBDOMAIN, 'must be a DNS subdomain: lower-case letters, digits, "-" and "."');

/** URLs end up in dist/ (committed to Git): credentials in them would be secrets in plain text. */
const credentialFreeUrl = () =>
  z.url().refine((value) => {
    const url = URL.parse(value);
    return url === null || (url.username === '' && url.password === '');
  }, 'must not contain a user name or password: the URL is written into dist/; use the Secret references instead');

const dnsLabel = () =>
  z
    .string()
    .max(63)
    .regex(
      DNS_LABEL,
      'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit',
    );

const labels = z
  .record(
    z.string().regex(LABEL_KEY, 'must be a Kubernetes label key'),
    z.string().max(63).regex(LABEL_VALUE, 'must be a Kubernetes label value'),
  )
  .describe('Kubernetes labels (key: value).');

/**
 * Prometheus label matchers (name: value, equality). Names follow Prometheus' label name rule;
 * `__`-prefixed names are Prometheus-internal and never present on stored series.
 */
const promLabelName = () =>
  z
    .string()
    .regex(
      PROM_LABEL_NAME,
      'must be a Prometheus label name: letters, digits and "_", not starting with a digit',
    )
    .refine(
      (name) => !name.startsWith('__'),
      'must not start with "__" (reserved for Prometheus-internal labels)',
    );

const promSelector = z.record(
  promLabelName(),
  z.string().min(1, 'must not be empty: an empty value matches series without the label'),
);

const quantity = z
  .string()
  .regex(QUANTITY, 'must be a Kubernetes quantity such as "250m", "512Mi" or "1"');

export const cronSchedule = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** Intl knows the IANA zones; Kubernetes (Go) also needs the exact spelling, so a case-only difference is an error. */
function timeZoneProblem(value: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return 'must be an IANA time zone such as "Etc/UTC" or "Europe/Berlin"';
  }
  return resolved !== value && resolved.toLowerCase() === value.toLowerCase()
    ? `must be spelled "${resolved}"`
    : undefined;
}

/**
 * trivy-operator reports CVEs without a fixed version (`trivy.ignoreUnfixed: false`, its default and
 * ours): Copa cannot patch them, so by default they are shown but do not run an SLA clock.
 */
export const SLA_SCOPES = ['fixable', 'all'] as const;
const slaScope = () => z.enum(SLA_SCOPES);

const slaHours = z
  .number()
  .positive('SLA hours must be greater than 0')
  .max(24 * 365, 'SLA hours must be at most 8760 (one year)');

export const slaSchema = z
  .strictObject({
    critical: slaHours.optional().describe('Hours a Critical CVE may stay on a running image.'),
    high: slaHours.optional().describe('Hours a High CVE may stay on a running image.'),
    medium: slaHours.optional().describe('Hours a Medium CVE may stay (tracked only when set).'),
    low: slaHours.optional().describe('Hours a Low CVE may stay (tracked only when set).'),
  })
  .meta({
    id: 'SLA',
    title: 'SLA',
    description:
      'SLA in hours per severity. Severities without an SLA are not tracked by the SLA clock.',
  });

const resourcesSchema = z
  .strictObject({
    requests: z
      .strictObject({
        cpu: quantity.describe('CPU request.'),
        memory: quantity.describe('Memory request.'),
      })
      .describe('What the scheduler reserves.'),
    limits: z
      .strictObject({
        cpu: quantity.describe('CPU limit.'),
        memory: quantity.describe('Memory limit.'),
      })
      .describe('Hard caps (memory over the limit is an OOM kill).'),
  })
  .meta({ id: 'Resources', title: 'Resources', description: 'Container requests and limits.' });

const res = (cpu: string, memory: string, limitCpu: string, limitMemory: string) => ({
  requests: { cpu, memory },
  limits: { cpu: limitCpu, memory: limitMemory },
});

export const imageRef = z.string().superRefine((value, ctx) => {
  const parsed = parseImageRef(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: `is not a valid image reference: ${parsed.reason}` });
  } else if (parsed.ref.digest !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        'must be a tag reference (Copa patches a tag and pushes a new tag); remove the @digest',
    });
  }
});

const secretKeyRef = z
  .strictObject({
    name: dnsLabel().describe('Secret name.'),
    key: z.string().min(1).describe('Key inside the Secret.'),
  })
  .meta({
    id: 'SecretKeyRef',
    title: 'SecretKeyRef',
    description:
      'A reference to one key of a Secret. Secret values are never written into generated files.',
  });

export const imageSchema = z
  .strictObject({
    ref: imageRef.describe(
      'Source image as a tag reference, e.g. `registry.example.com/myapp:1.4.2` or `nginx:1.27`.',
    ),
    schedule: cronSchedule
      .optional()
      .describe(
        'Standard 5-field cron in the schedule time zone. Default: a time spread deterministically across `defaults.schedule.window`.',
      ),
    patchedTag: z
      .string()
      .regex(/^[\w][\w.-]{0,127}$/, 'must be a valid tag')
      .optional()
      .describe(
        "Tag Copa pushes the patched image to. Default: `<tag>-patched` (Copa's own default).",
      ),
    sla: slaSchema
      .optional()
      .describe('SLA hours overriding `defaults.sla` for this image (per severity).'),
    team: dnsLabel()
      .optional()
      .describe('Owning team: used in labels and alert routing. Default: `defaults.team`.'),
    slaScope: slaScope()
      .optional()
      .describe("Which CVEs count towards this image's SLA, overriding `defaults.slaScope`."),
    enabled: z
      .boolean()
      .default(true)
      .describe('Set to false to keep the entry but generate nothing for it.'),
  })
  .describe('One image that copa-fleet patches and tracks.');

const scheduleSchema = z
  .strictObject({
    window: z
      .strictObject({
        start: z
          .string()
          .regex(TIME_OF_DAY, 'must be HH:MM (24 h)')
          .default('01:00')
          .describe('First minute of the window (`HH:MM`).'),
        end: z
          .string()
          .regex(TIME_OF_DAY, 'must be HH:MM (24 h)')
          .default('05:00')
          .describe('End of the window (`HH:MM`, exclusive).'),
      })
      .prefault({})
      .describe(
        'Daily window that default schedules are spread across (a hash of the image picks the minute). `end` before `start` wraps past midnight.',
      ),
    timeZone: z
      .string()
      .superRefine((value, ctx) => {
        const problem = timeZoneProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default('Etc/UTC')
      .describe('IANA time zone of every CronJob schedule (CronJob `spec.timeZone`).'),
  })
  .prefault({});

const DEFAULT_NAMESPACE = 'copa-fleet';
const DEFAULT_RUNTIME_IMAGE = 'ghcr.io/copa-fleet/runtime:0.1.0';

const defaultsSchema = z
  .strictObject({
    namespace: dnsLabel()
      .default(DEFAULT_NAMESPACE)
      .describe('Namespace of every generated namespaced object.'),
    team: dnsLabel().default(DEFAULT_TEAM).describe('Team of images that name none.'),
    schedule: scheduleSchema.describe('When the Copa CronJobs run.'),
    sla: slaSchema.default({ critical: 24, high: 168 }).describe('Default SLA hours per severity.'),
    slaScope: slaScope()
      .default('fixable')
      .describe(
        'Which CVEs count towards the SLA: `fixable` (only CVEs whose VulnerabilityReport entry has a `fixedVersion`; the clock starts when a fix is first seen) or `all` (every CVE, from the moment it is first seen). Unfixable CVEs stay visible in their own series and panel either way.',
      ),
    maxExceptionDays: z
      .number()
      .int()
      .positive()
      .max(366)
      .default(DEFAULT_MAX_EXCEPTION_DAYS)
      .describe('Longest an exception may run: `expires` at most this many days after `approved`.'),
    copa: z
      .strictObject({
        version: z
          .string()
          .regex(/^v?[0-9]+\.[0-9]+\.[0-9]+$/, 'must be a version such as "0.14.2"')
          .default('0.14.2')
          .describe('Copa version bundled in the runtime image (reported as `copa_version`).'),
        timeout: duration().default('20m').describe('Copa `--timeout` for the patch step.'),
      })
      .prefault({})
      .describe('Copa, the patcher.'),
    trivy: z
      .strictObject({
        image: imageRef
          .default('docker.io/aquasec/trivy:0.70.0')
          .describe('Trivy CLI image used for the scans in the Copa job.'),
        timeout: duration().default('10m').describe('Trivy `--timeout` for each scan.'),
      })
      .prefault({})
      .describe('Trivy, the scanner run before and after each patch.'),
    buildkit: z
      .strictObject({
        image: imageRef
          .default('docker.io/moby/buildkit:v0.29.0-rootless')
          .describe('Rootless BuildKit image, run as a native sidecar of every Copa job.'),
        address: z
          .string()
          .regex(/^tcp:\/\/.+/, 'must be a tcp:// address')
          .optional()
          .describe(
            'A remote buildkitd (`tcp://host:port`, mTLS) instead of the sidecar. The one PSS exception then disappears.',
          ),
        tlsSecret: dnsLabel()
          .optional()
          .describe(
            'Secret with `ca.pem`, `cert.pem`, `key.pem` for a remote buildkitd (required with `address`).',
          ),
      })
      .prefault({})
      .describe('BuildKit, which Copa builds the patched image with.'),
    runtimeImage: imageRef
      .default(DEFAULT_RUNTIME_IMAGE)
      .describe(
        'The copa-fleet runtime image (exporter, collector, Copa). Build it from runtime/Dockerfile.',
      ),
    registryCredentialsSecret: dnsLabel()
      .default('copa-registry-credentials')
      .describe(
        'Secret of type kubernetes.io/dockerconfigjson with push access to the patched tags (key `.dockerconfigjson`).',
      ),
    pushgateway: z
      .strictObject({
        url: credentialFreeUrl()
          .optional()
          .describe(
            'Pushgateway URL. Default: the generated Pushgateway when `deploy` is true, otherwise required.',
          ),
        deploy: z
          .boolean()
          .default(true)
          .describe(
            'Generate a Pushgateway (Deployment, Service, ServiceMonitor with honorLabels).',
          ),
        image: imageRef
          .default('docker.io/prom/pushgateway:v1.11.1')
          .describe('Pushgateway image when deployed.'),
        persistence: z
          .strictObject({
            size: quantity
              .default('1Gi')
              .describe('Size of the PersistentVolumeClaim holding the persistence file.'),
            storageClassName: dnsSubdomain()
              .optional()
              .describe("StorageClass of the claim. Default: the cluster's default StorageClass."),
            interval: duration()
              .default('1m')
              .describe(
                '`--persistence.interval`: how often the Pushgateway writes its groups to the file (it also writes on a graceful shutdown); a crash loses at most this much.',
              ),
          })
          .prefault({})
          .describe(
            'The generated Pushgateway keeps its groups in `--persistence.file` on a PersistentVolumeClaim, so a restart loses no counter, last-success time or heartbeat.',
          ),
        cleanup: z
          .strictObject({
            enabled: z
              .boolean()
              .optional()
              .describe(
                'The drift collector deletes the Pushgateway groups of CronJobs no longer in the inventory. Default: true when `deploy` is true, false otherwise (a Pushgateway you run yourself may be shared).',
              ),
            grace: duration()
              .default('7d')
              .describe(
                'A group is deleted once its CronJob is out of the inventory and its last push is at least this old.',
              ),
          })
          .prefault({})
          .describe(
            "Cleanup of decommissioned images' groups (the Pushgateway never forgets a group by itself).",
          ),
        auth: z
          .strictObject({
            enabled: z
              .boolean()
              .optional()
              .describe(
                'Basic authentication on every Pushgateway request: the exporters push, the collector deletes and Prometheus scrapes each with its own credential. Default: true when `deploy` is true (the Secrets below must exist before the first deploy, docs/deploying.md#pushgateway-authentication), false otherwise (set it to true when your own Pushgateway checks these credentials).',
              ),
            webConfigSecret: dnsLabel()
              .default('copa-fleet-pushgateway-web-config')
              .describe(
                "Secret holding the generated Pushgateway's `--web.config.file` (exporter-toolkit format, bcrypt hashes) under the key `web-config.yml`; any other keys (e.g. TLS files) are mounted next to it.",
              ),
            exporterSecret: dnsLabel()
              .default('copa-fleet-pushgateway-exporter')
              .describe(
                'kubernetes.io/basic-auth Secret (`username`, `password`) the exporters push with; mounted into the exporter container only.',
              ),
            collectorSecret: dnsLabel()
              .default('copa-fleet-pushgateway-collector')
              .describe(
                'kubernetes.io/basic-auth Secret (`username`, `password`) the drift collector lists and deletes groups with.',
              ),
            prometheusSecret: dnsLabel()
              .default('copa-fleet-pushgateway-prometheus')
              .describe(
                "kubernetes.io/basic-auth Secret (`username`, `password`) the Pushgateway ServiceMonitor's `basicAuth` reads; the Prometheus Operator needs it in the fleet namespace.",
              ),
          })
          .prefault({})
          .describe(
            'Who may push, delete and scrape: Secret references only, never a password or hash in dist/.',
          ),
      })
      .prefault({})
      .describe("Where the exporter pushes each run's metrics."),
    job: z
      .strictObject({
        activeDeadlineSeconds: z
          .number()
          .int()
          .min(300)
          .default(3600)
          .describe('Hard limit of one Copa run.'),
        startingDeadlineSeconds: z
          .number()
          .int()
          .min(60)
          .default(1800)
          .describe('A run that could not start within this is counted as missed.'),
        backoffLimit: z
          .number()
          .int()
          .min(0)
          .max(6)
          .default(0)
          .describe(
            'Retries of a failed run (0: the next schedule retries; every failure is reported).',
          ),
        ttlSecondsAfterFinished: z
          .number()
          .int()
          .min(0)
          .default(172800)
          .describe('Finished Jobs are deleted after this.'),
      })
      .prefault({})
      .describe('Limits of each Copa Job.'),
    resources: z
      .strictObject({
        scan: resourcesSchema
          .default(res('250m', '512Mi', '1', '2Gi'))
          .describe('Trivy scan containers.'),
        patch: resourcesSchema
          .default(res('100m', '128Mi', '500m', '512Mi'))
          .describe('The Copa container.'),
        buildkit: resourcesSchema
          .default(res('500m', '1Gi', '2', '4Gi'))
          .describe('The rootless BuildKit sidecar.'),
        exporter: resourcesSchema
          .default(res('20m', '64Mi', '200m', '256Mi'))
          .describe('The exporter sidecar.'),
        collector: resourcesSchema
          .default(res('100m', '256Mi', '1', '512Mi'))
          .describe(
            'The drift collector (about 170 MiB at 10,000 Pods and 2,000 reports, see docs/benchmarks.md).',
          ),
        pushgateway: resourcesSchema
          .default(res('50m', '64Mi', '500m', '256Mi'))
          .describe('The generated Pushgateway.'),
      })
      .prefault({})
      .describe('Requests and limits per container role.'),
  })
  .prefault({})
  .describe('Settings shared by every image.');

const receiverSchema = z
  .strictObject({
    name: dnsLabel().describe('Receiver name, referenced by routes.'),
    pagerduty: z
      .strictObject({
        routingKey: secretKeyRef.describe(
          'Secret key holding the PagerDuty Events v2 routing key.',
        ),
      })
      .optional()
      .describe('PagerDuty Events v2 receiver.'),
    slack: z
      .strictObject({
        webhookUrl: secretKeyRef.describe('Secret key holding the Slack incoming-webhook URL.'),
        channel: z
          .string()
          .regex(/^#?[a-z0-9._-]+$/, 'must be a Slack channel name such as "#platform-alerts"')
          .optional()
          .describe('Channel override.'),
      })
      .optional()
      .describe('Slack incoming-webhook receiver.'),
  })
  .refine(
    (r) => (r.pagerduty === undefined) !== (r.slack === undefined),
    'a receiver needs exactly one of `pagerduty` or `slack`',
  );

const routeSchema = z
  .strictObject({
    receiver: dnsLabel().describe('Receiver of matching alerts.'),
    severity: z.enum(ALERT_SEVERITIES).optional().describe('Match alerts of this severity.'),
    team: dnsLabel().optional().describe('Match alerts of this team.'),
    continue: z.boolean().default(false).describe('Keep matching later routes.'),
  })
  .describe('Routes are tried in order; the first match wins unless `continue` is set.');

/** Default `ticketPattern`: a change or issue key such as `CHG-1234` or `JIRA-1234`. */
export const DEFAULT_TICKET_PATTERN = '\\b[A-Z][A-Z0-9]+-[0-9]+\\b';

const regexSource = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    try {
      new RegExp(value);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a regular expression (JavaScript syntax): ${(error as Error).message}`,
      });
    }
  });

const watchedAlertmanagerSchema = z
  .strictObject({
    url: credentialFreeUrl().describe(
      'Base URL of the Alertmanager API; `<url>/api/v2/silences` is polled. For Grafana-managed alerting: `https://<grafana>/api/alertmanager/grafana`.',
    ),
    bearerToken: secretKeyRef
      .optional()
      .describe(
        'Secret key holding a bearer token sent as `Authorization: Bearer` (e.g. a Grafana service account token).',
      ),
    ca: secretKeyRef
      .optional()
      .describe(
        "Secret key holding the PEM CA bundle of the Alertmanager's TLS certificate (default: the system CAs).",
      ),
  })
  .describe('One Alertmanager whose silences are watched.');

const silenceWatchSchema = z
  .strictObject({
    alertmanagers: z
      .array(watchedAlertmanagerSchema)
      .default([])
      .describe('Alertmanagers whose silences the drift collector polls (none: no silence watch).'),
    intervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(60)
      .describe('Seconds between two polls of each Alertmanager.'),
    maxHours: z
      .number()
      .positive()
      .max(24 * 365)
      .default(48)
      .describe(
        'A silence of copa-fleet alerts that ends more than this many hours after it started (or after now) needs a ticket reference, or CopaAlertSilencedTooLong fires.',
      ),
    ticketPattern: regexSource
      .default(DEFAULT_TICKET_PATTERN)
      .describe(
        'Regular expression (JavaScript syntax) a silence comment must match to carry a ticket reference. Default: keys such as `CHG-1234` or `JIRA-1234`.',
      ),
    externalLabels: labels
      .default({})
      .describe(
        'The external labels your Prometheus adds to every alert (e.g. `cluster: prod-eu`), so that a silence of another cluster is not taken for one of ours. Other labels the rules do not set may have any value.',
      ),
  })
  .prefault({})
  .describe(
    'Silence governance: which silences would mute copa-fleet alerts, for how long, with or without a ticket.',
  );

const alertingSchema = z
  .strictObject({
    defaultReceiver: dnsLabel()
      .optional()
      .describe('Receiver of alerts that match no route. Default: the first receiver.'),
    receivers: z
      .array(receiverSchema)
      .default([])
      .describe(
        'Where alerts go. Each receiver has a `name` and exactly one of `pagerduty` or `slack`.',
      ),
    routes: z.array(routeSchema).default([]).describe('Which alerts go where, tried in order.'),
    groupBy: z
      .array(z.string().min(1, 'must not be empty'))
      .default(['alertname', 'image', 'team'])
      .describe('Alertmanager group_by.'),
    groupWait: duration().default('30s').describe('Alertmanager group_wait.'),
    groupInterval: duration().default('5m').describe('Alertmanager group_interval.'),
    repeatInterval: duration().default('4h').describe('Alertmanager repeat_interval.'),
    runbookBaseUrl: credentialFreeUrl()
      .default('https://github.com/copa-fleet/copa-fleet/blob/main/docs/runbooks')
      .describe("Base of every alert's runbook_url (docs/runbooks in this repository by default)."),
    silenceWatch: silenceWatchSchema,
  })
  .prefault({})
  .describe('Alert routing: receivers reference Secrets, never inline keys.');

const prometheusSchema = z
  .strictObject({
    ruleLabels: labels
      .default({ release: 'kube-prometheus-stack' })
      .describe('Labels that your Prometheus ruleSelector matches on the PrometheusRule.'),
    serviceMonitorLabels: labels
      .default({ release: 'kube-prometheus-stack' })
      .describe('Labels that your Prometheus serviceMonitorSelector matches.'),
    clusterLabel: promLabelName()
      .default('cluster')
      .describe(
        "With `clusters`: the external label that tells the clusters' series apart in the global query layer (each cluster's Prometheus sets it to the cluster name); every global rule and panel aggregates and joins by it (kubernetes-mixin's `clusterLabel`). Unused without `clusters`.",
      ),
    scanMaxAgeHours: z
      .number()
      .positive()
      .optional()
      .describe(
        'A scan older than this raises TrivyScanStale. Default: `trivyOperator.reportTtlHours` plus 2 h (trivy-operator renews a report only when its TTL expires, and the rescan takes a while). Must be at least that when both are set.',
      ),
    missingRunGraceHours: z
      .number()
      .positive()
      .default(2)
      .describe('Grace added to the schedule interval before CopaPatchJobMissing.'),
    selectors: z
      .strictObject({
        collector: promSelector
          .optional()
          .describe(
            "Matchers every rule and panel puts on the drift collector's series (and its `up`). " +
              'Default: `{job: copa-fleet-collector, namespace: <fleet namespace>}`, the target labels the generated ServiceMonitor gives them; with `clusters` in different namespaces, each cluster with its `namespace`.',
          ),
        exporter: promSelector
          .optional()
          .describe(
            "Matchers every rule and panel puts on the exporters' series and the Pushgateway's `push_time_seconds`. " +
              "Default: `{job: copa-fleet-exporter, namespace: <fleet namespace>}` with the generated Pushgateway (which runs in the fleet namespace; with `clusters`, the patch cluster's `namespace`), `{job: copa-fleet-exporter}` with an external one.",
          ),
      })
      .prefault({})
      .describe(
        "Which series in Prometheus are this fleet's: set them when your scrape config relabels `job` or `namespace`, or to add e.g. a `cluster` matcher. " +
          'Each replaces its default entirely; `{}` turns the scoping off (only for a Prometheus that holds one fleet).',
      ),
  })
  .prefault({})
  .describe(
    'How the Prometheus Operator finds the generated rules and ServiceMonitors, and alert thresholds.',
  );

const grafanaSchema = z
  .strictObject({
    dashboardLabels: labels
      .default({ grafana_dashboard: '1' })
      .describe('Labels the Grafana dashboard sidecar selects ConfigMaps by.'),
    folder: z
      .string()
      .min(1)
      .optional()
      .describe('Folder annotation (`grafana_folder`) for the sidecar.'),
  })
  .prefault({})
  .describe('How the Grafana sidecar finds the generated dashboard.');

const dependencyTrackSchema = z
  .strictObject({
    url: credentialFreeUrl().describe('Dependency-Track API base URL.'),
    apiKey: secretKeyRef.describe('Secret holding the API key (BOM_UPLOAD permission).'),
    projectVersion: z
      .enum(['tag', 'patchedTag'])
      .default('patchedTag')
      .describe('Which tag becomes the project version.'),
  })
  .describe('Upload the post-patch CycloneDX BOM to Dependency-Track (optional).');

const trivyOperatorSchema = z
  .strictObject({
    reportTtlHours: z
      .number()
      .positive()
      .optional()
      .describe(
        'VulnerabilityReport TTL (`operator.scannerReportTTL`). Default: `prometheus.scanMaxAgeHours` minus 2 h when that is set, otherwise 24 h plus the schedule window, so reports never expire before the next nightly patch.',
      ),
    serviceMonitorLabels: labels
      .optional()
      .describe(
        'Labels of the trivy-operator ServiceMonitor. Default: `prometheus.serviceMonitorLabels`.',
      ),
  })
  .prefault({})
  .describe('Values for the trivy-operator Helm chart (dist/trivy-operator/values.yaml).');

const networkPoliciesSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        "Generate NetworkPolicies: the Pushgateway admits pushes only from the Copa job pods and scrapes only from Prometheus; the collector's metrics port admits only Prometheus. Set to false only where the CNI does not enforce NetworkPolicy (the objects would be inert), knowing that then any pod in the cluster can push fake run results to the Pushgateway.",
      ),
    prometheus: z
      .strictObject({
        namespaceSelector: labels
          .default({ 'kubernetes.io/metadata.name': 'monitoring' })
          .describe(
            'Labels of the namespace Prometheus runs in (`kubernetes.io/metadata.name` is set by Kubernetes on every namespace).',
          ),
        podSelector: labels
          .default({ 'app.kubernetes.io/name': 'prometheus' })
          .describe(
            'Labels of the Prometheus pods (kube-prometheus-stack labels them `app.kubernetes.io/name: prometheus`).',
          ),
      })
      .prefault({})
      .describe(
        'The Prometheus that scrapes the fleet: the only client the metrics ports admit besides the writers.',
      ),
  })
  .prefault({})
  .describe(
    'Ingress NetworkPolicies for the Pushgateway and the drift collector (docs/deploying.md#network-policies).',
  );

export const CLUSTER_ROLES = ['patch', 'workloads'] as const;
export type ClusterRole = (typeof CLUSTER_ROLES)[number];
/** Name of the dist/ directory of the global query layer: no cluster may take it. */
export const GLOBAL_DIRECTORY = 'global';

const clusterSchema = z
  .strictObject({
    name: dnsLabel()
      .refine(
        (name) => name !== GLOBAL_DIRECTORY,
        `must not be "${GLOBAL_DIRECTORY}" (the directory of the global query layer's rules and dashboard)`,
      )
      .describe(
        "The cluster's name: its directory under dist/ and the value of `prometheus.clusterLabel` that its Prometheus sets as an external label.",
      ),
    roles: z
      .array(z.enum(CLUSTER_ROLES))
      .min(1, 'give at least one role')
      .describe(
        "`patch`: runs the Copa CronJobs, the Pushgateway and the patched-digest records (exactly one cluster). `workloads`: runs inventoried images; its drift collector reports them. Every cluster gets a collector (the patch cluster's also watches the Copa Jobs).",
      ),
    namespace: dnsLabel()
      .optional()
      .describe(
        "Namespace of everything this cluster applies (its `dist/<cluster>/`: namespace, collector, RBAC, NetworkPolicies, admission policy, in the patch cluster the CronJobs and the Pushgateway). Default: `defaults.namespace`. The global rules select this cluster's series by the pair (cluster, namespace); their `namespace` rule label stays `defaults.namespace`, the namespace of `dist/global/`.",
      ),
    prometheus: z
      .strictObject({
        serviceMonitorLabels: labels
          .optional()
          .describe(
            "Labels this cluster's Prometheus selects ServiceMonitors by. Default: `prometheus.serviceMonitorLabels`.",
          ),
      })
      .prefault({})
      .describe("Overrides for this cluster's Prometheus."),
    // Named so that the mistake gets its own message rather than "unknown key".
    grafana: z
      .never({
        error:
          'a cluster carries no dashboard (its directory has no observability output; the dashboard is in dist/global/): set `global.grafana` instead',
      })
      .optional()
      .describe(
        'Not accepted: a cluster directory carries no rules and no dashboard (they are in `dist/global/`); Grafana labels of the global layer are `global.grafana`.',
      ),
  })
  .describe('One cluster of a multi-cluster fleet.');

/** Where the global layer's Prometheus (or ruler) and Grafana find `dist/global/`, when they select by other labels than a cluster's. */
const globalSchema = z
  .strictObject({
    prometheus: z
      .strictObject({
        ruleLabels: labels
          .optional()
          .describe(
            "Labels the global layer's Prometheus (or Prometheus Operator) ruleSelector matches on `dist/global/`'s PrometheusRule. Default: `prometheus.ruleLabels`.",
          ),
      })
      .prefault({})
      .describe("Overrides for the global layer's Prometheus."),
    grafana: z
      .strictObject({
        dashboardLabels: labels
          .optional()
          .describe(
            "Labels the global layer's Grafana sidecar selects the dashboard ConfigMap of `dist/global/` by. Default: `grafana.dashboardLabels`.",
          ),
        folder: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Folder annotation (`grafana_folder`) of that ConfigMap. Default: `grafana.folder`.',
          ),
      })
      .prefault({})
      .describe("Overrides for the global layer's Grafana."),
  })
  .describe(
    'With `clusters` only: overrides for `dist/global/` (the rules and the dashboard of the global query layer). Cluster directories carry no rules and no dashboard, so only the global layer has these.',
  );

export const inventorySchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema reference for editors.'),
    defaults: defaultsSchema,
    images: z
      .array(imageSchema)
      .min(1, 'list at least one image')
      .describe('The fleet: one entry per source image tag.'),
    alerting: alertingSchema,
    prometheus: prometheusSchema,
    grafana: grafanaSchema,
    trivyOperator: trivyOperatorSchema,
    dependencyTrack: dependencyTrackSchema.optional(),
    networkPolicies: networkPoliciesSchema,
    clusters: z
      .array(clusterSchema)
      .min(1, 'list at least one cluster, or leave `clusters` out for a single-cluster fleet')
      .optional()
      .describe(
        'Multi-cluster fleets (optional): one directory per cluster under dist/ plus `global/` with the rules and dashboard for the global query layer (Thanos Query, Mimir, a central Prometheus receiving remote write). Without it, one cluster and the single-cluster layout of dist/.',
      ),
    global: globalSchema.optional(),
    exceptions: z
      .array(exceptionSchema)
      .default([])
      .describe('Reviewed risk acceptances with an expiry (docs/inventory.md#risk-acceptance).'),
    exceptionFiles: z
      .array(exceptionFileSchema)
      .default([])
      .describe('OpenVEX documents imported as exceptions.'),
  })
  // Cross-field checks run even when other fields failed, so that every error comes out in one run.
  .superRefine(checkCrossReferences, { when: () => true });

type Ctx = z.RefinementCtx<unknown>;
type Loose = Readonly<Record<string, unknown>>;
const asObject = (value: unknown): Loose | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Loose)
    : undefined;
const asArray = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/** Reads the partly parsed inventory defensively: any part may be missing or of the wrong type. */
function checkCrossReferences(value: unknown, ctx: Ctx): void {
  const inventory = asObject(value);
  if (inventory === undefined) return;
  checkUniqueImages(asArray(inventory.images), ctx);
  const defaultTeam = asObject(inventory.defaults)?.team;
  checkOneTeamPerRepository(
    asArray(inventory.images),
    typeof defaultTeam === 'string' ? defaultTeam : DEFAULT_TEAM,
    ctx,
  );
  checkAlertingNames(asObject(inventory.alerting), ctx);
  if (inventory.clusters !== undefined) checkClusters(asArray(inventory.clusters), ctx);
  else if (inventory.global !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['global'],
      message:
        'is only used with `clusters` (it configures dist/global/ of a multi-cluster fleet): set `prometheus.ruleLabels` and `grafana` for a single-cluster fleet',
    });
  checkClusterNamespaces(inventory, ctx);
  const defaults = asObject(inventory.defaults);
  const maxDays =
    typeof defaults?.maxExceptionDays === 'number'
      ? defaults.maxExceptionDays
      : DEFAULT_MAX_EXCEPTION_DAYS;
  const imageKeys = inventoryImageKeys(asArray(inventory.images));
  checkExceptions(asArray(inventory.exceptions), imageKeys, maxDays, ctx);
  asArray(inventory.exceptionFiles).forEach((file, index) => {
    const entry = asObject(file);
    if (entry === undefined) return;
    for (const problem of datesProblems(entry, maxDays)) {
      ctx.addIssue({
        code: 'custom',
        path: ['exceptionFiles', index, ...problem.path],
        message: problem.message,
      });
    }
  });
  const pushgateway = asObject(defaults?.pushgateway);
  if (pushgateway?.deploy === false && pushgateway.url === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['defaults', 'pushgateway', 'url'],
      message: 'is required when defaults.pushgateway.deploy is false',
    });
  }
  checkScanFreshness(
    asObject(inventory.prometheus)?.scanMaxAgeHours,
    asObject(inventory.trivyOperator)?.reportTtlHours,
    ctx,
  );
  const buildkit = asObject(defaults?.buildkit);
  if (buildkit?.address !== undefined && buildkit.tlsSecret === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['defaults', 'buildkit', 'tlsSecret'],
      message: 'is required with defaults.buildkit.address (remote BuildKit uses mTLS)',
    });
  }
}

/**
 * TrivyScanStale must not fire before trivy-operator renews a report (model/scan-freshness.ts): the
 * threshold has to exceed the report TTL by the rescan margin. Only values of the right type are
 * compared; the field schemas report the others.
 */
function checkScanFreshness(maxAge: unknown, ttl: unknown, ctx: Ctx): void {
  if (typeof maxAge !== 'number' || !(maxAge > 0)) return;
  if (typeof ttl === 'number' && ttl > 0) {
    if (maxAge < ttl + RESCAN_MARGIN_HOURS) {
      ctx.addIssue({
        code: 'custom',
        path: ['prometheus', 'scanMaxAgeHours'],
        message:
          `must be at least trivyOperator.reportTtlHours + ${RESCAN_MARGIN_HOURS} (${ttl + RESCAN_MARGIN_HOURS}): trivy-operator renews a report only when its ${ttl} h TTL expires, ` +
          'so a lower limit raises TrivyScanStale for every image whose nightly run is up to date',
      });
    }
  } else if (maxAge <= RESCAN_MARGIN_HOURS) {
    ctx.addIssue({
      code: 'custom',
      path: ['prometheus', 'scanMaxAgeHours'],
      message: `must be more than ${RESCAN_MARGIN_HOURS} (the rescan margin): the report TTL is derived as scanMaxAgeHours - ${RESCAN_MARGIN_HOURS}`,
    });
  }
}

/**
 * Two entries that normalise to the same `registry/path:tag` would generate the same CronJob
 * twice. Distinct references get distinct CronJob names by construction (a hash of the
 * reference); the check makes the one-in-16-million hash collision an error, not an overwrite.
 */
function checkUniqueImages(images: readonly unknown[], ctx: Ctx): void {
  const seen = new Map<string, number>();
  const names = new Map<string, number>();
  images.forEach((image, index) => {
    const ref = asObject(image)?.ref;
    const parsed = typeof ref === 'string' ? parseImageRef(ref) : undefined;
    if (!parsed?.ok) return;
    const key = `${parsed.ref.name}:${parsed.ref.tag ?? DEFAULT_TAG}`;
    const first = seen.get(key);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['images', index, 'ref'],
        message: `duplicates images[${first}].ref: both normalise to "${key}"`,
      });
      return;
    }
    seen.set(key, index);
    const name = imageCronJobName(parsed.ref);
    const clash = names.get(name);
    if (clash !== undefined) {
      const message = `gets the same CronJob name "${name}" as images[${clash}].ref (a hash collision); please report it`;
      ctx.addIssue({ code: 'custom', path: ['images', index, 'ref'], message });
    } else names.set(name, index);
  });
}

/**
 * Several tags of one repository share the `image` label, and alerts about an image are routed by
 * its team: two teams for one repository would make every such alert ambiguous.
 */
function checkOneTeamPerRepository(
  images: readonly unknown[],
  defaultTeam: string,
  ctx: Ctx,
): void {
  const teams = new Map<string, { team: string; index: number }>();
  images.forEach((image, index) => {
    const entry = asObject(image);
    const parsed = typeof entry?.ref === 'string' ? parseImageRef(entry.ref) : undefined;
    if (!parsed?.ok) return;
    const team = typeof entry?.team === 'string' ? entry.team : defaultTeam;
    const first = teams.get(parsed.ref.name);
    if (first === undefined) teams.set(parsed.ref.name, { team, index });
    else if (first.team !== team) {
      const message = `is team "${team}", but images[${first.index}] of the same repository ${parsed.ref.name} is team "${first.team}": one repository has one owning team`;
      ctx.addIssue({ code: 'custom', path: ['images', index, 'team'], message });
    }
  });
}

/** Cluster names are directories and label values: unique; exactly one cluster runs the patch pipeline. */
function checkClusters(clusters: readonly unknown[], ctx: Ctx): void {
  const names = new Map<string, number>();
  const patch: number[] = [];
  clusters.forEach((cluster, index) => {
    const entry = asObject(cluster);
    const name = entry?.name;
    if (typeof name === 'string') {
      const first = names.get(name);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['clusters', index, 'name'],
          message: `duplicates clusters[${first}].name "${name}"`,
        });
      else names.set(name, index);
    }
    const roles = asArray(entry?.roles);
    if (roles.includes('patch')) patch.push(index);
    const seen = new Set<unknown>();
    roles.forEach((role, roleIndex) => {
      if (seen.has(role))
        ctx.addIssue({
          code: 'custom',
          path: ['clusters', index, 'roles', roleIndex],
          message: `lists "${String(role)}" twice`,
        });
      seen.add(role);
    });
  });
  if (patch.length === 0 && clusters.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['clusters'],
      message:
        'no cluster has the role "patch": exactly one cluster runs the Copa CronJobs and the Pushgateway',
    });
  }
  for (const index of patch.slice(1)) {
    ctx.addIssue({
      code: 'custom',
      path: ['clusters', index, 'roles'],
      message: `has the role "patch", like clusters[${patch[0]}]: exactly one cluster runs the patch pipeline`,
    });
  }
}

/**
 * A configured selector replaces its default entirely (prometheus.selectors): one that pins
 * `namespace` would never match a cluster that runs the fleet in another namespace, and that
 * cluster would look down (DriftCollectorDown) or, for the exporter, never run.
 */
function checkClusterNamespaces(inventory: Loose, ctx: Ctx): void {
  const clusters = asArray(inventory.clusters);
  const fallback = asObject(inventory.defaults)?.namespace;
  const fleetNamespace = typeof fallback === 'string' ? fallback : DEFAULT_NAMESPACE;
  const selectors = asObject(asObject(inventory.prometheus)?.selectors);
  for (const source of ['collector', 'exporter'] as const) {
    const pinned = asObject(selectors?.[source])?.namespace;
    if (typeof pinned !== 'string') continue;
    clusters.forEach((cluster, index) => {
      const entry = asObject(cluster);
      const roles = asArray(entry?.roles);
      if (source === 'exporter' && !roles.includes('patch')) return;
      const namespace = typeof entry?.namespace === 'string' ? entry.namespace : fleetNamespace;
      // An invalid namespace has its own error.
      if (namespace !== pinned && DNS_LABEL.test(namespace))
        ctx.addIssue({
          code: 'custom',
          path: ['prometheus', 'selectors', source, 'namespace'],
          message: `is "${pinned}", but clusters[${index}] (${String(entry?.name)}) runs the ${source === 'collector' ? 'collector' : 'Pushgateway'} in namespace "${namespace}": the selector would never match its series (leave \`namespace\` out of the selector, or make the namespaces agree)`,
        });
    });
  }
}

function checkAlertingNames(alerting: Loose | undefined, ctx: Ctx): void {
  const receivers = new Map<string, number>();
  asArray(alerting?.receivers).forEach((receiver, index) => {
    const name = asObject(receiver)?.name;
    if (typeof name !== 'string') return;
    const first = receivers.get(name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['alerting', 'receivers', index, 'name'],
        message: `duplicates alerting.receivers[${first}].name "${name}"`,
      });
    } else receivers.set(name, index);
  });
  const known = `defined: ${[...receivers.keys()].join(', ') || 'none'}`;
  asArray(alerting?.routes).forEach((route, index) => {
    const receiver = asObject(route)?.receiver;
    if (typeof receiver === 'string' && !receivers.has(receiver)) {
      ctx.addIssue({
        code: 'custom',
        path: ['alerting', 'routes', index, 'receiver'],
        message: `"${receiver}" is not defined in alerting.receivers (${known})`,
      });
    }
  });
  const defaultReceiver = alerting?.defaultReceiver;
  if (typeof defaultReceiver === 'string' && !receivers.has(defaultReceiver)) {
    ctx.addIssue({
      code: 'custom',
      path: ['alerting', 'defaultReceiver'],
      message: `"${defaultReceiver}" is not defined in alerting.receivers (${known})`,
    });
  }
}

/** The inventory as written (defaults not yet applied). */
export type InventoryInput = z.input<typeof inventorySchema>;
/** The inventory with every default applied. */
export type Inventory = z.output<typeof inventorySchema>;
export type ImageEntry = z.output<typeof imageSchema>;
export type Sla = z.output<typeof slaSchema>;
export type ClusterEntry = z.output<typeof clusterSchema>;
export type Resources = z.output<typeof resourcesSchema>;
export type SlaScope = (typeof SLA_SCOPES)[number];
