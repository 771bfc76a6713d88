/**
 * The inventory: the one user-facing config object. Every default lives here, next to its
 * documentation (`.describe()` feeds the JSON Schema that editors use, and docs/inventory.md).
 * Objects are strict: a typo is an error, never silently ignored.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseImageRef } from '../shared/image-ref.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const TIME_OF_DAY = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const DURATION = /^[0-9]+(ms|s|m|h|d|w|y)$/;

const dnsLabel = (what: string) =>
  z.string().max(63).regex(DNS_LABEL, `${what} must be a DNS label (lower-case letters, digits and "-", at most 63 characters)`);

const labels = z
  .record(z.string().regex(LABEL_KEY, 'must be a Kubernetes label key'), z.string().max(63).regex(LABEL_VALUE, 'must be a Kubernetes label value'))
  .describe('Kubernetes labels (key: value).');

const quantity = z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as "250m", "512Mi" or "1"');

export const cronSchedule = z
  .string()
  .refine((value) => value.trim().split(/\s+/).length === 5, 'must be a standard 5-field cron expression (minute hour day-of-month month day-of-week)')
  .refine((value) => {
    try {
      CronExpressionParser.parse(value);
      return true;
    } catch {
      return false;
    }
  }, 'is not a valid cron expression');

const slaHours = z.number().positive('SLA hours must be greater than 0').max(24 * 365, 'SLA hours must be at most 8760 (one year)');

export const slaSchema = z
  .strictObject({
    critical: slaHours.optional().describe('Hours a Critical CVE may stay on a running image.'),
    high: slaHours.optional().describe('Hours a High CVE may stay on a running image.'),
    medium: slaHours.optional().describe('Hours a Medium CVE may stay (tracked only when set).'),
    low: slaHours.optional().describe('Hours a Low CVE may stay (tracked only when set).'),
  })
  .describe('SLA in hours per severity. Severities without an SLA are not tracked by the SLA clock.');

const resourcesSchema = z
  .strictObject({
    requests: z.strictObject({ cpu: quantity, memory: quantity }),
    limits: z.strictObject({ cpu: quantity, memory: quantity }),
  })
  .describe('Container requests and limits.');

const res = (cpu: string, memory: string, limitCpu: string, limitMemory: string) => ({
  requests: { cpu, memory },
  limits: { cpu: limitCpu, memory: limitMemory },
});

export const imageRef = z.string().superRefine((value, ctx) => {
  const parsed = parseImageRef(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: `is not a valid image reference: ${parsed.reason}` });
  } else if (parsed.ref.digest !== undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a tag reference (Copa patches a tag and pushes a new tag); remove the @digest' });
  }
});

const secretKeyRef = z
  .strictObject({
    name: dnsLabel('Secret name').describe('Secret name.'),
    key: z.string().min(1).describe('Key inside the Secret.'),
  })
  .describe('A reference to one key of a Secret. Secret values are never written into generated files.');

export const imageSchema = z
  .strictObject({
    ref: imageRef.describe('Source image as a tag reference, e.g. `registry.example.com/myapp:1.4.2` or `nginx:1.27`.'),
    schedule: cronSchedule
      .optional()
      .describe('Standard 5-field cron in the schedule time zone. Default: a time spread deterministically across `defaults.schedule.window`.'),
    patchedTag: z
      .string()
      .regex(/^[\w][\w.-]{0,127}$/, 'must be a valid tag')
      .optional()
      .describe('Tag Copa pushes the patched image to. Default: `<tag>-patched` (Copa\'s own default).'),
    sla: slaSchema.optional().describe('SLA hours overriding `defaults.sla` for this image (per severity).'),
    team: dnsLabel('team').optional().describe('Owning team: used in labels and alert routing. Default: `defaults.team`.'),
    enabled: z.boolean().default(true).describe('Set to false to keep the entry but generate nothing for it.'),
  })
  .describe('One image that copa-fleet patches and tracks.');

const scheduleSchema = z
  .strictObject({
    window: z
      .strictObject({
        start: z.string().regex(TIME_OF_DAY, 'must be HH:MM (24 h)').default('01:00'),
        end: z.string().regex(TIME_OF_DAY, 'must be HH:MM (24 h)').default('05:00'),
      })
      .prefault({})
      .describe('Daily window that default schedules are spread across (a hash of the image picks the minute). `end` before `start` wraps past midnight.'),
    timeZone: z.string().min(1).default('Etc/UTC').describe('IANA time zone of every CronJob schedule (CronJob `spec.timeZone`).'),
  })
  .prefault({});

const DEFAULT_RUNTIME_IMAGE = 'ghcr.io/copa-fleet/runtime:0.1.0';

const defaultsSchema = z
  .strictObject({
    namespace: dnsLabel('namespace').default('copa-fleet').describe('Namespace of every generated namespaced object.'),
    team: dnsLabel('team').default('platform').describe('Team of images that name none.'),
    schedule: scheduleSchema.describe('When the Copa CronJobs run.'),
    sla: slaSchema.default({ critical: 24, high: 168 }).describe('Default SLA hours per severity. Default: `{critical: 24, high: 168}`.'),
    copa: z
      .strictObject({
        version: z.string().regex(/^v?[0-9]+\.[0-9]+\.[0-9]+$/).default('0.14.0').describe('Copa version bundled in the runtime image (reported as `copa_version`).'),
        timeout: z.string().regex(DURATION).default('20m').describe('Copa `--timeout` for the patch step.'),
      })
      .prefault({}),
    trivy: z
      .strictObject({
        image: imageRef.default('docker.io/aquasec/trivy:0.69.3').describe('Trivy CLI image used for the scans in the Copa job.'),
        timeout: z.string().regex(DURATION).default('10m').describe('Trivy `--timeout` for each scan.'),
      })
      .prefault({}),
    buildkit: z
      .strictObject({
        image: imageRef.default('docker.io/moby/buildkit:v0.26.3-rootless').describe('Rootless BuildKit image, run as a native sidecar of every Copa job.'),
        address: z
          .string()
          .regex(/^tcp:\/\/.+/, 'must be a tcp:// address')
          .optional()
          .describe('A remote buildkitd (`tcp://host:port`, mTLS) instead of the sidecar. The one PSS exception then disappears.'),
        tlsSecret: dnsLabel('Secret name')
          .optional()
          .describe('Secret with `ca.pem`, `cert.pem`, `key.pem` for a remote buildkitd (required with `address`).'),
      })
      .prefault({}),
    runtimeImage: imageRef.default(DEFAULT_RUNTIME_IMAGE).describe('The copa-fleet runtime image (exporter, collector, Copa). Build it from runtime/Dockerfile.'),
    registryCredentialsSecret: dnsLabel('Secret name')
      .default('copa-registry-credentials')
      .describe('Secret of type kubernetes.io/dockerconfigjson with push access to the patched tags (key `.dockerconfigjson`).'),
    pushgateway: z
      .strictObject({
        url: z.url().optional().describe('Pushgateway URL. Default: the generated Pushgateway when `deploy` is true, otherwise required.'),
        deploy: z.boolean().default(true).describe('Generate a Pushgateway (Deployment, Service, ServiceMonitor with honorLabels).'),
        image: imageRef.default('docker.io/prom/pushgateway:v1.11.1').describe('Pushgateway image when deployed.'),
      })
      .prefault({}),
    job: z
      .strictObject({
        activeDeadlineSeconds: z.number().int().min(300).default(3600).describe('Hard limit of one Copa run.'),
        startingDeadlineSeconds: z.number().int().min(60).default(1800).describe('A run that could not start within this is counted as missed.'),
        backoffLimit: z.number().int().min(0).max(6).default(0).describe('Retries of a failed run (0: the next schedule retries; every failure is reported).'),
        ttlSecondsAfterFinished: z.number().int().min(0).default(172800).describe('Finished Jobs are deleted after this.'),
      })
      .prefault({}),
    resources: z
      .strictObject({
        scan: resourcesSchema.default(res('250m', '512Mi', '1', '2Gi')),
        patch: resourcesSchema.default(res('100m', '128Mi', '500m', '512Mi')),
        buildkit: resourcesSchema.default(res('500m', '1Gi', '2', '4Gi')),
        exporter: resourcesSchema.default(res('20m', '64Mi', '200m', '256Mi')),
        collector: resourcesSchema.default(res('100m', '128Mi', '1', '512Mi')),
        pushgateway: resourcesSchema.default(res('50m', '64Mi', '500m', '256Mi')),
      })
      .prefault({})
      .describe('Requests and limits per container role.'),
  })
  .prefault({})
  .describe('Settings shared by every image.');

const receiverSchema = z
  .strictObject({
    name: dnsLabel('receiver name').describe('Receiver name, referenced by routes.'),
    pagerduty: z.strictObject({ routingKey: secretKeyRef }).optional().describe('PagerDuty Events v2 receiver.'),
    slack: z
      .strictObject({
        webhookUrl: secretKeyRef,
        channel: z.string().regex(/^#?[a-z0-9._-]+$/).optional().describe('Channel override.'),
      })
      .optional()
      .describe('Slack incoming-webhook receiver.'),
  })
  .refine((r) => (r.pagerduty === undefined) !== (r.slack === undefined), 'a receiver needs exactly one of `pagerduty` or `slack`');

const routeSchema = z
  .strictObject({
    receiver: dnsLabel('receiver name').describe('Receiver of matching alerts.'),
    severity: z.enum(['critical', 'warning', 'info']).optional().describe('Match alerts of this severity.'),
    team: dnsLabel('team').optional().describe('Match alerts of this team.'),
    continue: z.boolean().default(false).describe('Keep matching later routes.'),
  })
  .describe('Routes are tried in order; the first match wins unless `continue` is set.');

const alertingSchema = z
  .strictObject({
    defaultReceiver: dnsLabel('receiver name').optional().describe('Receiver of alerts that match no route. Default: the first receiver.'),
    receivers: z.array(receiverSchema).default([]),
    routes: z.array(routeSchema).default([]),
    groupBy: z.array(z.string().min(1)).default(['alertname', 'image', 'team']).describe('Alertmanager group_by.'),
    groupWait: z.string().regex(DURATION).default('30s'),
    groupInterval: z.string().regex(DURATION).default('5m'),
    repeatInterval: z.string().regex(DURATION).default('4h'),
    runbookBaseUrl: z
      .url()
      .default('https://github.com/copa-fleet/copa-fleet/blob/main/docs/runbooks')
      .describe('Base of every alert\'s runbook_url (docs/runbooks in this repository by default).'),
  })
  .prefault({})
  .describe('Alert routing: receivers reference Secrets, never inline keys.');

const prometheusSchema = z
  .strictObject({
    ruleLabels: labels.default({ release: 'kube-prometheus-stack' }).describe('Labels that your Prometheus ruleSelector matches on the PrometheusRule.'),
    serviceMonitorLabels: labels.default({ release: 'kube-prometheus-stack' }).describe('Labels that your Prometheus serviceMonitorSelector matches.'),
    scanMaxAgeHours: z.number().positive().default(26).describe('A scan older than this raises TrivyScanStale.'),
    missingRunGraceHours: z.number().positive().default(2).describe('Grace added to the schedule interval before CopaPatchJobMissing.'),
  })
  .prefault({});

const grafanaSchema = z
  .strictObject({
    dashboardLabels: labels.default({ grafana_dashboard: '1' }).describe('Labels the Grafana dashboard sidecar selects ConfigMaps by.'),
    folder: z.string().min(1).optional().describe('Folder annotation (`grafana_folder`) for the sidecar.'),
  })
  .prefault({});

const dependencyTrackSchema = z
  .strictObject({
    url: z.url().describe('Dependency-Track API base URL.'),
    apiKey: secretKeyRef.describe('Secret holding the API key (BOM_UPLOAD permission).'),
    projectVersion: z.enum(['tag', 'patchedTag']).default('patchedTag').describe('Which tag becomes the project version.'),
  })
  .describe('Upload the post-patch CycloneDX BOM to Dependency-Track (optional).');

const trivyOperatorSchema = z
  .strictObject({
    reportTtlHours: z.number().positive().optional().describe('VulnerabilityReport TTL. Default: 24 h plus the schedule window, so reports never expire before the next nightly patch.'),
    serviceMonitorLabels: labels.optional().describe('Labels of the trivy-operator ServiceMonitor. Default: `prometheus.serviceMonitorLabels`.'),
  })
  .prefault({})
  .describe('Values for the trivy-operator Helm chart (dist/trivy-operator/values.yaml).');

export const inventorySchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema reference for editors.'),
    defaults: defaultsSchema,
    images: z.array(imageSchema).min(1, 'list at least one image').describe('The fleet: one entry per source image tag.'),
    alerting: alertingSchema,
    prometheus: prometheusSchema,
    grafana: grafanaSchema,
    trivyOperator: trivyOperatorSchema,
    dependencyTrack: dependencyTrackSchema.optional(),
  })
  .superRefine((inv, ctx) => {
    const seen = new Map<string, number>();
    inv.images.forEach((image, index) => {
      const parsed = parseImageRef(image.ref);
      if (!parsed.ok) return;
      const key = `${parsed.ref.name}:${parsed.ref.tag ?? 'latest'}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['images', index, 'ref'], message: `duplicates images[${first}].ref: both normalise to ${key}` });
      } else seen.set(key, index);
    });
    const receivers = new Set(inv.alerting.receivers.map((r) => r.name));
    inv.alerting.routes.forEach((route, index) => {
      if (!receivers.has(route.receiver)) {
        ctx.addIssue({ code: 'custom', path: ['alerting', 'routes', index, 'receiver'], message: `names no receiver in alerting.receivers (have: ${[...receivers].join(', ') || 'none'})` });
      }
    });
    if (inv.alerting.defaultReceiver !== undefined && !receivers.has(inv.alerting.defaultReceiver)) {
      ctx.addIssue({ code: 'custom', path: ['alerting', 'defaultReceiver'], message: 'names no receiver in alerting.receivers' });
    }
    if (!inv.defaults.pushgateway.deploy && inv.defaults.pushgateway.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'pushgateway', 'url'], message: 'is required when defaults.pushgateway.deploy is false' });
    }
    if (inv.defaults.buildkit.address !== undefined && inv.defaults.buildkit.tlsSecret === undefined) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'buildkit', 'tlsSecret'], message: 'is required with defaults.buildkit.address (remote BuildKit uses mTLS)' });
    }
  });

/** The inventory as written (defaults not yet applied). */
export type InventoryInput = z.input<typeof inventorySchema>;
/** The inventory with every default applied. */
export type Inventory = z.output<typeof inventorySchema>;
export type ImageEntry = z.output<typeof imageSchema>;
export type Sla = z.output<typeof slaSchema>;
export type Resources = z.output<typeof resourcesSchema>;
