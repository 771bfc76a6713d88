/**
 * The contract between the generated manifests and the runtime programs: command lines, file
 * paths inside the Copa job pod, container names, and the formats of the ConfigMaps that the
 * exporter and the collector exchange. The generator builds arguments with the `*Args` functions;
 * the runtime parses them with the `parse*Args` functions: one place for both sides.
 *
 * Shared with the runtime programs: Node built-ins only.
 */
import { parseArgs } from 'node:util';
import type { FleetException } from './exceptions.ts';

/** Container names of the Copa job pod, in start order. */
export const JOB_CONTAINERS = {
  /** Native sidecar: starts first, is stopped last, reports whatever happened. */
  exporter: 'exporter',
  /** Native sidecar: rootless BuildKit (absent with a remote BuildKit). */
  buildkit: 'buildkitd',
  /** Init container: Trivy scan of the source image. */
  scan: 'scan',
  /** Init container: Copa patch and push (through `copa-fleet-exporter exec`, which keeps a log). */
  patch: 'patch',
  /**
   * Init container, only when `dependencyTrack` is configured: CycloneDX BOM of the patched image
   * (JOB_FILES.bom). An init container, not a second main container, so that two Trivy processes
   * never share the scan cache at once.
   */
  bom: 'bom',
  /** Main container: Trivy scan of the pushed patched image (digest and after-counts). */
  verify: 'verify',
} as const;

/**
 * A Pushgateway credential as the exporter and the collector read it: the files `username` and
 * `password` in one directory, i.e. a kubernetes.io/basic-auth Secret mounted as a volume. Files,
 * not environment variables: the kubelet updates a mounted Secret in place, and the value never
 * appears in the pod spec or `kubectl describe`.
 */
export const PUSHGATEWAY_CREDENTIALS_DIR = '/var/run/secrets/copa-fleet/pushgateway';
export const BASIC_AUTH_KEYS = { username: 'username', password: 'password' } as const;

/** Paths in the pod's shared `emptyDir`. */
export const WORK_DIR = '/work';
/** The files of the shared work directory, rooted at `workDir` (the exporter's tests use a temp dir). */
export function jobFiles(workDir: string) {
  return {
    scanBefore: `${workDir}/scan-before.json`,
    scanAfter: `${workDir}/scan-after.json`,
    copaLog: `${workDir}/copa.log`,
    /** Written by `copa-fleet-exporter exec`: a decimal exit code, or `signal:<NAME>` (e.g. `signal:SIGKILL`). */
    copaExitCode: `${workDir}/copa.exit`,
    vex: `${workDir}/patch.vex.json`,
    bom: `${workDir}/patched.cdx.json`,
    /** Written by the exporter after a successful push: a restarted exporter sidecar never counts a run twice. */
    reportedMarker: `${workDir}/exporter.reported`,
  } as const;
}
export const JOB_FILES = jobFiles(WORK_DIR);

/** Where the rootless BuildKit sidecar listens (shared emptyDir between the sidecar and Copa). */
export const BUILDKIT_SOCKET_DIR = '/run/buildkit';
export const BUILDKIT_ADDRESS = `unix://${BUILDKIT_SOCKET_DIR}/buildkitd.sock`;

/** Executables in the runtime image. */
export const RUNTIME_BIN = {
  exporter: '/app/bin/copa-fleet-exporter',
  collector: '/app/bin/copa-fleet-collector',
  copa: '/usr/local/bin/copa',
} as const;

/** Default ConfigMap names (namespaced in the fleet namespace). */
export const CONFIGMAPS = {
  /**
   * The shared patched-digest store of earlier releases (one key per CronJob, every exporter could
   * patch every key). Read-only now: the collector reads it only for CronJobs without a record
   * of their own (digestRecordName), until `defaults.legacyDigestStore: false`.
   */
  patchedDigests: 'copa-fleet-patched-digests',
  /** Written by synth: what the collector needs from the inventory. */
  inventory: 'copa-fleet-inventory',
  /**
   * The collector's persisted SLA clock (first-seen times): the base name of its shards
   * (`stateShardName`). The ConfigMap of this exact name is the unsharded state of earlier
   * versions, read once and emptied by the collector (migration), still generated so that a GitOps
   * prune never deletes it before its first-seen times were moved.
   */
  collectorState: 'copa-fleet-collector-state',
} as const;

/**
 * The SLA clock is sharded over this many ConfigMaps by a hash of the image (state-format.ts
 * `stateShardOf`). A fixed number, not a knob: the collector's RBAC names every shard
 * (resourceNames), and a changed count would strand entries in shards it can no longer write.
 * 32 shards keep 5,000 images x 60 CVEs at about a third of a ConfigMap's 1 MiB each (docs/benchmarks.md).
 */
export const STATE_SHARDS = 32;

/** Label on every state shard (value: the shard index): the collector lists its shards by it. */
export const STATE_SHARD_LABEL = 'copa-fleet.dev/state-shard';

/** Name of shard `index` of the state ConfigMap `base`: `<base>-07`. */
export function stateShardName(base: string, index: number): string {
  return `${base}-${String(index).padStart(2, '0')}`;
}

/** Every shard name, in index order. */
export function stateShardNames(base: string): string[] {
  return Array.from({ length: STATE_SHARDS }, (_, index) => stateShardName(base, index));
}
export const INVENTORY_CONFIGMAP_KEY = 'inventory.json';

/**
 * One patched-digest record per CronJob: a ConfigMap only that CronJob's exporter may patch (RBAC
 * cannot restrict a patch to one key of a shared ConfigMap, but it can restrict it to one
 * ConfigMap by name). Its one key is the CronJob name, its value a PatchedDigestRecord.
 */
export function digestRecordName(cronjob: string): string {
  return `${cronjob}-digest`;
}
/** Label of every per-CronJob digest record: the collector lists and watches them by it. */
export const DIGEST_RECORD_LABEL = {
  key: 'copa-fleet.dev/record',
  value: 'patched-digest',
} as const;

/** Label on every Copa Job/CronJob so the collector can watch exactly the pipeline's jobs. */
export const PIPELINE_LABEL = { key: 'app.kubernetes.io/part-of', value: 'copa-fleet' } as const;
/** Label carrying the CronJob name (= patched-digest key, Pushgateway group) on Jobs and Pods. */
export const CRONJOB_LABEL = 'copa-fleet.dev/cronjob';

/** trivy-operator's VulnerabilityReport API (one report per workload x container). */
export const VULNERABILITY_REPORT_API = {
  group: 'aquasecurity.github.io',
  version: 'v1alpha1',
  plural: 'vulnerabilityreports',
  kind: 'VulnerabilityReport',
} as const;

/** Value of one key of the patched-digest ConfigMap (the key is the CronJob name), JSON-encoded. */
export interface PatchedDigestRecord {
  /** Normalised repository. */
  readonly image: string;
  readonly tag: string;
  readonly patchedTag: string;
  /** `sha256:<hex>` of the pushed patched image. */
  readonly digest: string;
  /** RFC 3339. */
  readonly patchedAt: string;
  /**
   * Evidence from Copa's OpenVEX document: the vulnerability ids it states `fixed` in this digest
   * (sorted, at most MAX_RECORDED_FIXED of runtime/exporter/vex.ts; `fixedCount` counts them all).
   * Absent in records written before it existed or when Copa wrote no document.
   */
  readonly fixed?: readonly string[];
  readonly fixedCount?: number;
}

/** The `inventory.json` key of the inventory ConfigMap. */
export interface CollectorInventory {
  readonly namespace: string;
  /**
   * The fleet has `clusters` (written by synth as `true` in every cluster's ConfigMap, left out
   * otherwise; absent: false). Only then does the collector export the per-digest families the
   * global rules join across clusters (`fleet_running_digest_containers`,
   * `fleet_running_digest_critical_containers`): no single-cluster rule, panel or report reads them.
   */
  readonly multiCluster?: boolean;
  /** Severity label values whose CVEs the SLA clock tracks (those with SLA hours). */
  readonly severitiesInScope: readonly string[];
  readonly images: readonly CollectorInventoryImage[];
  /** Reviewed exceptions; whether each is in force is the collector's decision at run time. */
  readonly exceptions: readonly FleetException[];
  readonly silenceWatch?: SilenceWatchSettings;
}
/**
 * The `silenceWatch` key of the inventory JSON (absent: no Alertmanager is watched). Written by
 * synth from `alerting.silenceWatch` and from the generated alert rules: the collector decides
 * from `alerts` whether a silence's matchers would mute a copa-fleet alert.
 */
export interface SilenceWatchSettings {
  readonly alertmanagers: readonly WatchedAlertmanager[];
  readonly intervalSeconds: number;
  /** A JavaScript regular expression; a comment it matches carries a ticket reference. */
  readonly ticketPattern: string;
  readonly alerts: readonly WatchedAlert[];
  /**
   * Every label name copa-fleet alerts use: a matcher on one of them that an alert does not carry
   * sees the empty value (Alertmanager's rule for a missing label). A matcher on any other label
   * (an external label Prometheus adds) may see any value, unless `externalLabels` fixes it.
   */
  readonly knownLabels: readonly string[];
  /** Labels Prometheus adds to every alert (its external labels), when the inventory names them. */
  readonly externalLabels: Readonly<Record<string, string>>;
}

export interface WatchedAlertmanager {
  /** Base URL of the Alertmanager API: `<url>/api/v2/silences` is polled. */
  readonly url: string;
  /** File holding a bearer token (a mounted Secret key), read before every poll. */
  readonly bearerTokenFile?: string;
  /** File holding the PEM CA bundle that signs the Alertmanager's certificate. */
  readonly caFile?: string;
}

/**
 * Where a dynamic label's values come from: the inventory's images, teams or CronJob names, a
 * fixed list, or `any` (unknown values, e.g. a workload namespace).
 */
export type WatchedLabelValues = 'image' | 'team' | 'cronjob' | 'any' | readonly string[];

/** One alerting rule, as a silence sees it. */
export interface WatchedAlert {
  readonly alertname: string;
  /** The rule's `severity` label. */
  readonly severity: string;
  /** Every label with a fixed value (severity, namespace, static labels). */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels the rule's expression sets, with where their values come from. */
  readonly dynamic: Readonly<Record<string, WatchedLabelValues>>;
}

/** Mount paths of the silence watch's Secrets in the collector pod (one directory per Alertmanager, by index). */
export function silenceWatchMount(index: number): {
  readonly dir: string;
  readonly tokenFile: string;
  readonly caFile: string;
} {
  const dir = `/etc/copa-fleet/alertmanagers/${index}`;
  return { dir, tokenFile: `${dir}/token`, caFile: `${dir}/ca.crt` };
}

export interface CollectorInventoryImage {
  readonly image: string;
  readonly cronjob: string;
  readonly team: string;
  readonly tag: string;
  readonly patchedTag: string;
  readonly scheduleIntervalSeconds: number;
  /** Severity label value -> hours. */
  readonly slaHours: Readonly<Record<string, number>>;
  /** `fixable`: only CVEs with a fixed version run the SLA clock; `all`: every CVE. */
  readonly slaScope: 'fixable' | 'all';
}

// ---------------------------------------------------------------- exporter command line

export interface ExporterOptions {
  /** Normalised repository (`image` label). */
  readonly image: string;
  /** CronJob name: Pushgateway grouping key and patched-digest store key. */
  readonly cronjob: string;
  readonly sourceRef: string;
  readonly patchedRef: string;
  readonly copaVersion: string;
  readonly pushgatewayUrl: string;
  /** Directory of the push credential (PUSHGATEWAY_CREDENTIALS_DIR); absent: unauthenticated pushes. */
  readonly pushgatewayCredentialsDir?: string;
  /** Namespace and name of the patched-digest ConfigMap. */
  readonly namespace: string;
  readonly digestStore: string;
  /** Seconds the exporter may spend retrying the Pushgateway before exiting non-zero. */
  readonly graceSeconds: number;
  /** The Job's activeDeadlineSeconds, to recognise a timeout. */
  readonly deadlineSeconds: number;
  readonly dependencyTrackUrl?: string;
  readonly dependencyTrackProjectVersion?: string;
}

/** Environment variables the exporter reads (set by the generator through the downward API / Secrets). */
export const EXPORTER_ENV = {
  podName: 'POD_NAME',
  podNamespace: 'POD_NAMESPACE',
  dependencyTrackApiKey: 'DEPENDENCY_TRACK_API_KEY',
  /** Overrides WORK_DIR (tests and local runs; the generator never sets it). */
  workDir: 'COPA_FLEET_WORK_DIR',
} as const;

const EXPORTER_FLAGS = {
  image: 'image',
  cronjob: 'cronjob',
  sourceRef: 'source-ref',
  patchedRef: 'patched-ref',
  copaVersion: 'copa-version',
  pushgatewayUrl: 'pushgateway-url',
  pushgatewayCredentialsDir: 'pushgateway-credentials-dir',
  namespace: 'namespace',
  digestStore: 'digest-store',
  graceSeconds: 'grace-seconds',
  deadlineSeconds: 'deadline-seconds',
  dependencyTrackUrl: 'dependency-track-url',
  dependencyTrackProjectVersion: 'dependency-track-project-version',
} as const satisfies Record<keyof ExporterOptions, string>;

/** `copa-fleet-exporter report --image … --cronjob …`: the exporter sidecar's arguments. */
export function exporterReportArgs(options: ExporterOptions): string[] {
  const args = ['report'];
  for (const key of Object.keys(EXPORTER_FLAGS) as (keyof ExporterOptions)[]) {
    const value = options[key];
    if (value !== undefined) args.push(`--${EXPORTER_FLAGS[key]}`, String(value));
  }
  return args;
}

/** `copa-fleet-exporter exec --log FILE --exit-code FILE -- copa patch …`: runs Copa, keeps its log. */
export function exporterExecArgs(command: readonly string[]): string[] {
  return [
    'exec',
    '--log',
    JOB_FILES.copaLog,
    '--exit-code',
    JOB_FILES.copaExitCode,
    '--',
    ...command,
  ];
}

export interface ExporterExecOptions {
  readonly logFile: string;
  readonly exitCodeFile: string;
  readonly command: readonly string[];
}

/** Parses `exec` arguments (`--log FILE --exit-code FILE -- COMMAND…`); throws an Error naming the problem. */
export function parseExporterExecArgs(argv: readonly string[]): ExporterExecOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { log: { type: 'string' }, 'exit-code': { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  if (values.log === undefined || values.log === '') throw new Error('missing --log');
  if (values['exit-code'] === undefined || values['exit-code'] === '')
    throw new Error('missing --exit-code');
  if (positionals.length === 0) throw new Error('missing the command to run after --');
  return { logFile: values.log, exitCodeFile: values['exit-code'], command: positionals };
}

/** Parses `report` arguments; throws an Error naming the flag on bad input. */
export function parseExporterReportArgs(argv: readonly string[]): ExporterOptions {
  const options = Object.fromEntries(
    Object.values(EXPORTER_FLAGS).map((flag) => [flag, { type: 'string' as const }]),
  );
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  const get = (key: keyof ExporterOptions): string | undefined => values[EXPORTER_FLAGS[key]];
  const required = (key: keyof ExporterOptions): string => {
    const value = get(key);
    if (value === undefined || value === '') throw new Error(`missing --${EXPORTER_FLAGS[key]}`);
    return value;
  };
  const seconds = (key: keyof ExporterOptions): number => {
    const value = Number(required(key));
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`--${EXPORTER_FLAGS[key]} must be a positive number of seconds`);
    return value;
  };
  const credentialsDir = get('pushgatewayCredentialsDir');
  const dtUrl = get('dependencyTrackUrl');
  const dtVersion = get('dependencyTrackProjectVersion');
  return {
    image: required('image'),
    cronjob: required('cronjob'),
    sourceRef: required('sourceRef'),
    patchedRef: required('patchedRef'),
    copaVersion: required('copaVersion'),
    pushgatewayUrl: required('pushgatewayUrl'),
    ...(credentialsDir !== undefined &&
      credentialsDir !== '' && { pushgatewayCredentialsDir: credentialsDir }),
    namespace: required('namespace'),
    digestStore: required('digestStore'),
    graceSeconds: seconds('graceSeconds'),
    deadlineSeconds: seconds('deadlineSeconds'),
    ...(dtUrl !== undefined && { dependencyTrackUrl: dtUrl }),
    ...(dtVersion !== undefined && { dependencyTrackProjectVersion: dtVersion }),
  };
}

// ---------------------------------------------------------------- collector command line

export interface CollectorOptions {
  /** Namespace of the pipeline (CronJobs, Jobs, ConfigMaps). */
  readonly namespace: string;
  readonly inventoryConfigMap: string;
  readonly digestStore: string;
  readonly stateConfigMap: string;
  readonly port: number;
  /** The Pushgateway the exporters push to; with the grace below, the collector cleans up its stale groups. */
  readonly pushgatewayUrl?: string;
  /** Cleanup on: delete a CronJob's group once the CronJob is out of the inventory and its last push is this old. */
  readonly pushgatewayCleanupGraceSeconds?: number;
  /** Directory of the cleanup's credential (PUSHGATEWAY_CREDENTIALS_DIR); absent: unauthenticated requests. */
  readonly pushgatewayCredentialsDir?: string;
}

const COLLECTOR_FLAGS = {
  namespace: 'namespace',
  inventoryConfigMap: 'inventory-configmap',
  digestStore: 'digest-store',
  stateConfigMap: 'state-configmap',
  port: 'port',
  pushgatewayUrl: 'pushgateway-url',
  pushgatewayCleanupGraceSeconds: 'pushgateway-cleanup-grace-seconds',
  pushgatewayCredentialsDir: 'pushgateway-credentials-dir',
} as const satisfies Record<keyof CollectorOptions, string>;

export const COLLECTOR_PORT = 9464;

export function collectorArgs(options: CollectorOptions): string[] {
  return (Object.keys(COLLECTOR_FLAGS) as (keyof CollectorOptions)[]).flatMap((key) =>
    options[key] === undefined ? [] : [`--${COLLECTOR_FLAGS[key]}`, String(options[key])],
  );
}

export function parseCollectorArgs(argv: readonly string[]): CollectorOptions {
  const options = Object.fromEntries(
    Object.values(COLLECTOR_FLAGS).map((flag) => [flag, { type: 'string' as const }]),
  );
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  const get = (key: keyof CollectorOptions, fallback: string): string =>
    values[COLLECTOR_FLAGS[key]] ?? fallback;
  const port = Number(get('port', String(COLLECTOR_PORT)));
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error('--port must be a TCP port');
  const namespace = values[COLLECTOR_FLAGS.namespace];
  if (namespace === undefined || namespace === '') throw new Error('missing --namespace');
  const pushgatewayUrl = values[COLLECTOR_FLAGS.pushgatewayUrl];
  if (pushgatewayUrl !== undefined && URL.parse(pushgatewayUrl) === null)
    throw new Error('--pushgateway-url must be a URL');
  const graceText = values[COLLECTOR_FLAGS.pushgatewayCleanupGraceSeconds];
  const grace = graceText === undefined ? undefined : Number(graceText);
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0))
    throw new Error('--pushgateway-cleanup-grace-seconds must be a whole number of seconds');
  if (grace !== undefined && pushgatewayUrl === undefined)
    throw new Error('--pushgateway-cleanup-grace-seconds needs --pushgateway-url');
  const credentialsDir = values[COLLECTOR_FLAGS.pushgatewayCredentialsDir];
  if (credentialsDir !== undefined && pushgatewayUrl === undefined)
    throw new Error('--pushgateway-credentials-dir needs --pushgateway-url');
  return {
    namespace,
    inventoryConfigMap: get('inventoryConfigMap', CONFIGMAPS.inventory),
    digestStore: get('digestStore', CONFIGMAPS.patchedDigests),
    stateConfigMap: get('stateConfigMap', CONFIGMAPS.collectorState),
    port,
    ...(pushgatewayUrl !== undefined && { pushgatewayUrl }),
    ...(grace !== undefined && { pushgatewayCleanupGraceSeconds: grace }),
    ...(credentialsDir !== undefined &&
      credentialsDir !== '' && { pushgatewayCredentialsDir: credentialsDir }),
  };
}
