/**
 * The metric vocabulary: every metric name, label name, label value set and job name that the
 * exporter and the collector emit and that the rules and the dashboard read. One source of truth,
 * shared by the generator (rules, dashboard) and the runtime programs (exporter, collector).
 *
 * Conventions:
 * - `image` is always the normalised repository (`registry/path`, see image-ref.ts): no tag, no digest.
 * - Digests travel in `digest`-like labels, always as `sha256:<hex>`.
 * - `severity` takes the values of SEVERITIES, in trivy-operator's spelling.
 *
 * Shared with the runtime programs: keep it dependency-free.
 */

/** trivy-operator's severity spelling (`Critical`, not `CRITICAL`), used in every `severity` label. */
export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Inventory key (lower case) -> label value. */
export const SEVERITY_BY_KEY = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
} as const satisfies Record<string, Severity>;
export type SeverityKey = keyof typeof SEVERITY_BY_KEY;
export const SEVERITY_KEYS = Object.keys(SEVERITY_BY_KEY) as SeverityKey[];

/** Maps Trivy's upper-case JSON severities and trivy-operator's spellings to ours. */
export function toSeverity(value: string): Severity {
  const lower = value.toLowerCase();
  return (SEVERITY_BY_KEY as Record<string, Severity>)[lower] ?? 'Unknown';
}

/**
 * How a Copa run ended. `patched` and `up_to_date` are successes; every other value is a
 * `failure_reason`. Fixed set: the exporter never invents another value.
 */
export const RUN_OUTCOMES = {
  patched: 'a new patched image was pushed',
  up_to_date: 'nothing fixable: Copa exited 0 and pushed nothing',
  scan_failed: 'the Trivy scan of the source image failed or wrote no usable report',
  report_invalid: 'a Trivy report was missing or malformed',
  patch_failed: 'Copa failed while patching',
  push_failed: 'Copa patched the image but pushing it to the registry failed',
  buildkit_unavailable: 'Copa could not reach BuildKit',
  image_pull_failed: 'a container image of the job (or the source image) could not be pulled',
  timeout: 'the run exceeded its deadline',
  canceled:
    'the run was stopped from outside before its deadline (pod deleted, node drained, eviction)',
  oom_killed: 'the patch step was OOM-killed',
  crashed: 'the patch step was killed by a signal or ended abnormally',
  pod_not_started: 'the job pod never started (scheduling, admission, quota)',
  missed_schedule: 'the CronJob missed its schedule',
  unknown: 'the run failed for an unclassified reason',
} as const;
export type RunOutcome = keyof typeof RUN_OUTCOMES;
export const SUCCESS_OUTCOMES = ['patched', 'up_to_date'] as const satisfies readonly RunOutcome[];
export type FailureReason = Exclude<RunOutcome, (typeof SUCCESS_OUTCOMES)[number]>;
export const FAILURE_REASONS = (Object.keys(RUN_OUTCOMES) as RunOutcome[]).filter(
  (o): o is FailureReason => !(SUCCESS_OUTCOMES as readonly string[]).includes(o),
);

/** Label names. */
export const L = {
  image: 'image',
  digest: 'digest',
  cveId: 'cve_id',
  severity: 'severity',
  copaVersion: 'copa_version',
  failureReason: 'failure_reason',
  thresholdHours: 'threshold_hours',
  namespace: 'namespace',
  pod: 'pod',
  container: 'container',
  patchedDigest: 'patched_digest',
  cronjob: 'cronjob',
  team: 'team',
  stage: 'stage',
  outcome: 'outcome',
  tag: 'tag',
  resource: 'resource',
  job: 'job',
  /** Prometheus' target label (`host:port`): identifies a scrape target, e.g. one collector pod. */
  instance: 'instance',
  /** Risk acceptance (src/shared/exceptions.ts): the exception's key and its reviewed fields. */
  exception: 'exception',
  vulnerability: 'vulnerability',
  images: 'images',
  reason: 'reason',
  owner: 'owner',
  // `ticket` (below, shared with the silence watch): the exception's review ticket.
  expires: 'expires',
  // ---- Labels only the alerting rules add (never emitted by the exporter or the collector) ----
  /** Alert label carrying the CVE severity (`severity` on an alert is the alert's own severity). */
  cveSeverity: 'cve_severity',
  /**
   * Alert label carrying a workload namespace: every alert's `namespace` is the fleet namespace, so
   * that the AlertmanagerConfig's injected `namespace` matcher routes it.
   */
  exportedNamespace: 'exported_namespace',
  exportedPod: 'exported_pod',
  /** Alert label of CopaPatchJobMissing: which evidence is missing (MISSING_REASONS). */
  missingReason: 'missing_reason',
  /** Rule label of the 15-minute CVE age record: which shard of `cve_id` wrote the series (sla.ts). */
  cveIdShard: 'cve_id_shard',
  /** Alertmanager's alert-name label. */
  alertname: 'alertname',
  /** Where the collector read a CronJob's latest patched digest (DIGEST_RECORD_SOURCES). */
  recordSource: 'source',
  // ---- The silence watch (collector) ----
  /** An Alertmanager of `alerting.silenceWatch.alertmanagers`: its URL as the inventory writes it. */
  alertmanager: 'alertmanager',
  silenceId: 'silence_id',
  /** Alertmanager's `createdBy` of a silence. */
  createdBy: 'created_by',
  /** `active` or `pending` (Alertmanager's status.state; expired silences are not exported). */
  silenceState: 'state',
  /** `true` when the silence's comment carries a ticket reference (`alerting.silenceWatch.ticketPattern`). */
  ticket: 'ticket',
  /** The copa-fleet alert names the silence would mute, sorted, comma-separated. */
  mutedAlerts: 'muted_alerts',
  /** The highest alert severity among the muted copa-fleet alerts (ALERT_SEVERITIES). */
  mutedSeverity: 'muted_severity',
} as const;

/** Values of the `stage` label on copa_image_vulnerabilities. */
export const SCAN_STAGES = ['before', 'after'] as const;
export type ScanStage = (typeof SCAN_STAGES)[number];

/** Values of the `source` label of copa_fleet_collector_digest_records. */
export const DIGEST_RECORD_SOURCES = ['own', 'legacy', 'rejected'] as const;
export type DigestRecordSource = (typeof DIGEST_RECORD_SOURCES)[number];

/** Prometheus `job` label values (Pushgateway grouping key job; the collector's scrape job). */
export const JOBS = {
  exporter: 'copa-fleet-exporter',
  collector: 'copa-fleet-collector',
  /** The generated Pushgateway's own scrape job (its Service name); pushed series keep `job` = exporter (honorLabels). */
  pushgateway: 'copa-fleet-pushgateway',
} as const;

/** The Pushgateway grouping key besides `job`: the CronJob name (never the image: it contains `/`). */
export const PUSH_GROUPING_LABEL = L.cronjob;

/**
 * Values of the `resource` label on the collector's health metrics (informer_synced, api_errors_total,
 * watch_restarts_total): each thing the collector lists and watches, or reads and writes.
 */
export const COLLECTOR_RESOURCES = {
  pods: 'pods',
  vulnerabilityReports: 'vulnerabilityreports',
  jobs: 'jobs',
  cronJobs: 'cronjobs',
  inventory: 'inventory-configmap',
  /** The shared patched-digest store of earlier releases (read-only migration source). */
  patchedDigests: 'patched-digests-configmap',
  /** The per-CronJob patched-digest records, listed by label. */
  digestRecords: 'digest-record-configmaps',
  state: 'state-configmap',
} as const;
export type CollectorResource = (typeof COLLECTOR_RESOURCES)[keyof typeof COLLECTOR_RESOURCES];

export type MetricType = 'counter' | 'gauge';
export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  /** Who emits it: the in-pod exporter (via the Pushgateway) or the drift collector (scraped). */
  readonly source: 'exporter' | 'collector';
}

function def<const N extends string, const Ls extends readonly string[]>(
  name: N,
  type: MetricType,
  source: MetricDef['source'],
  labels: Ls,
  help: string,
) {
  return { name, type, source, labels, help } as const;
}

export const METRICS = {
  // ---- The public contract (names and labels are fixed) ----
  imageCveAgeHours: def(
    'image_cve_age_hours',
    'gauge',
    'collector',
    [L.image, L.digest, L.cveId, L.severity],
    'Hours since the CVE was first seen on this image repository (SLA clock; persisted across restarts and rescans), per running digest that carries it.',
  ),
  patchSuccessTotal: def(
    'copa_patch_success_total',
    'counter',
    'exporter',
    [L.image, L.copaVersion],
    'Copa runs that ended patched or up to date (accumulated across runs by the exporter).',
  ),
  patchFailureTotal: def(
    'copa_patch_failure_total',
    'counter',
    'exporter',
    [L.image, L.failureReason, L.copaVersion],
    'Copa runs that failed, by failure_reason (accumulated across runs by the exporter).',
  ),
  slaBreachTotal: def(
    'image_patch_sla_breach_total',
    'counter',
    'collector',
    [L.image, L.cveId, L.thresholdHours],
    'SLA breaches: incremented once when a CVE on a running image passes its SLA hours.',
  ),
  runningContainersWithCriticalCve: def(
    'running_containers_with_critical_cve',
    'gauge',
    'collector',
    [L.namespace, L.pod, L.image, L.digest],
    'Running containers of this pod whose running digest carries at least one Critical CVE.',
  ),

  // ---- Exporter: one Pushgateway group per CronJob ----
  runLastTimestamp: def(
    'copa_run_last_timestamp_seconds',
    'gauge',
    'exporter',
    [L.image],
    'Unix time the last Copa run of this image ended (heartbeat), whatever its outcome.',
  ),
  runLastSuccessTimestamp: def(
    'copa_run_last_success_timestamp_seconds',
    'gauge',
    'exporter',
    [L.image],
    'Unix time of the last run that ended patched or up to date.',
  ),
  runDurationSeconds: def(
    'copa_run_duration_seconds',
    'gauge',
    'exporter',
    [L.image],
    'Wall time of the last run, scan to push.',
  ),
  runLastOutcome: def(
    'copa_run_last_outcome',
    'gauge',
    'exporter',
    [L.image, L.outcome],
    'Always 1, labelled with the outcome of the last run (the only outcome series of the image).',
  ),
  patchedImageInfo: def(
    'copa_patched_image_info',
    'gauge',
    'exporter',
    [L.image, L.tag, L.digest],
    'Always 1: the digest of the latest patched image pushed for this image.',
  ),
  imageVulnerabilities: def(
    'copa_image_vulnerabilities',
    'gauge',
    'exporter',
    [L.image, L.severity, L.stage],
    'Fixable OS vulnerabilities of the registry image by severity, before and after the patch; only non-zero counts are pushed (absent = 0).',
  ),
  dependencyTrackUploadFailureTotal: def(
    'copa_dependency_track_upload_failure_total',
    'counter',
    'exporter',
    [L.image],
    'Dependency-Track BOM uploads that failed after all retries (accumulated across runs).',
  ),
  dependencyTrackUploadLastSuccessTimestamp: def(
    'copa_dependency_track_upload_last_success_timestamp_seconds',
    'gauge',
    'exporter',
    [L.image],
    'Unix time of the last successful Dependency-Track BOM upload.',
  ),

  // ---- Collector: drift, coverage, inventory, job health ----
  containerDigestDrift: def(
    'running_container_digest_drift',
    'gauge',
    'collector',
    [L.namespace, L.pod, L.container, L.image, L.digest, L.patchedDigest],
    '1 for a running container whose digest differs from the latest patched digest of its image.',
  ),
  runningContainers: def(
    'fleet_running_containers',
    'gauge',
    'collector',
    [L.image],
    'Running containers of an inventoried image (the denominator of patch compliance).',
  ),
  runningDigestContainers: def(
    'fleet_running_digest_containers',
    'gauge',
    'collector',
    [L.namespace, L.image, L.digest],
    "Running containers of an inventoried image per workload namespace and running digest: what the global rules of a multi-cluster fleet join with the patch cluster's copa_patched_image_info (a workload cluster has no patched-digest records). Exported only in a multi-cluster fleet (inventory clusters).",
  ),
  runningDigestCriticalContainers: def(
    'fleet_running_digest_critical_containers',
    'gauge',
    'collector',
    [L.namespace, L.image, L.digest],
    'As fleet_running_digest_containers, only for running digests whose newest VulnerabilityReport has a Critical CVE: the global rules count these containers non-compliant without reading every CVE age (rule cost). Exported only in a multi-cluster fleet (inventory clusters).',
  ),
  imageScanAgeSeconds: def(
    'image_scan_age_seconds',
    'gauge',
    'collector',
    [L.image],
    'Seconds since the newest Trivy VulnerabilityReport of a running inventoried image was written.',
  ),
  namespaceUnscanned: def(
    'fleet_namespace_unscanned',
    'gauge',
    'collector',
    [L.namespace],
    'Running pods in a namespace that has no VulnerabilityReport at all (a coverage gap).',
  ),
  inventoryImageInfo: def(
    'fleet_inventory_image_info',
    'gauge',
    'collector',
    [L.image, L.cronjob, L.team],
    'Always 1 per enabled inventory image: lets rules find images that never reported.',
  ),
  inventoryScheduleIntervalSeconds: def(
    'fleet_inventory_schedule_interval_seconds',
    'gauge',
    'collector',
    [L.image],
    "Longest gap between two scheduled runs of the image's CronJob.",
  ),
  imageCveSlaBreaches: def(
    'image_cve_sla_breaches',
    'gauge',
    'collector',
    [L.image, L.severity],
    "CVEs of this severity on running digests of the image that are older (SLA clock) than the image's SLA hours for the severity; only non-zero counts are exported (absent = 0).",
  ),
  noncompliantContainers: def(
    'fleet_noncompliant_containers',
    'gauge',
    'collector',
    [],
    'Running containers of inventoried images that run a digest other than the latest patched one of their image, or a digest with a Critical CVE.',
  ),
  inventorySlaHours: def(
    'fleet_inventory_sla_hours',
    'gauge',
    'collector',
    [L.image, L.severity],
    'SLA hours per image and severity, from the inventory.',
  ),
  jobLastFailure: def(
    'copa_job_last_failure',
    'gauge',
    'collector',
    [L.image, L.cronjob, L.failureReason],
    '1 while the most recent Job of the CronJob failed in a way the in-pod exporter cannot report.',
  ),
  cronjobLastScheduleTimestamp: def(
    'copa_cronjob_last_schedule_timestamp_seconds',
    'gauge',
    'collector',
    [L.image, L.cronjob],
    'CronJob status.lastScheduleTime.',
  ),
  cronjobCreatedTimestamp: def(
    'copa_cronjob_created_timestamp_seconds',
    'gauge',
    'collector',
    [L.image, L.cronjob],
    "CronJob metadata.creationTimestamp of an inventoried CronJob: when the image entered the cluster's inventory (the start of its first-run wait).",
  ),
  unscannedContainers: def(
    'fleet_unscanned_containers',
    'gauge',
    'collector',
    [L.image],
    'Running containers of an inventoried image whose running digest has no VulnerabilityReport: their CVEs are unknown (a coverage gap).',
  ),
  complianceUnknownContainers: def(
    'fleet_compliance_unknown_containers',
    'gauge',
    'collector',
    [],
    'Running containers of inventoried images not counted in fleet_noncompliant_containers whose running digest has no VulnerabilityReport: neither known compliant nor known non-compliant.',
  ),
  collectorDigestRecords: def(
    'copa_fleet_collector_digest_records',
    'gauge',
    'collector',
    [L.recordSource],
    'Inventoried CronJobs by where the collector read their latest patched digest: own (their own record), legacy (the shared store of earlier releases: at 0 it can be deleted), rejected (their own record names another image and was refused).',
  ),

  // ---- Collector: risk acceptance and the SLA scope (issue 13; one series per exception, never per container) ----
  imageCveSlaBreachesAccepted: def(
    'image_cve_sla_breaches_accepted',
    'gauge',
    'collector',
    [L.image, L.severity],
    'CVEs of this severity past their SLA on running digests of the image that an exception in force covers: counted apart from image_cve_sla_breaches; only non-zero counts are exported (absent = 0).',
  ),
  imageUnfixableCves: def(
    'image_unfixable_cves',
    'gauge',
    'collector',
    [L.image, L.severity],
    'Distinct CVEs of a tracked severity on running digests of the image whose VulnerabilityReport entries name no fixed version; only non-zero counts are exported (absent = 0).',
  ),
  noncompliantContainersAccepted: def(
    'fleet_noncompliant_containers_with_accepted_risk',
    'gauge',
    'collector',
    [],
    'fleet_noncompliant_containers, except that a digest whose Critical CVEs are all covered by exceptions in force counts as compliant.',
  ),
  exceptionInfo: def(
    'fleet_exception_info',
    'gauge',
    'collector',
    [L.exception, L.vulnerability, L.images, L.reason, L.owner, L.ticket, L.expires],
    'Always 1 per exception of the inventory (in force or not): its vulnerability, scope, reason, owner, ticket and expiry date.',
  ),
  exceptionExpiryTimestamp: def(
    'fleet_exception_expiry_timestamp_seconds',
    'gauge',
    'collector',
    [L.exception],
    'Unix time the exception lapses (00:00 UTC of its expiry date).',
  ),
  exceptionInForce: def(
    'fleet_exception_in_force',
    'gauge',
    'collector',
    [L.exception],
    "1 while the exception is in force (from its approval date until its expiry date, decided by the collector's clock), else 0.",
  ),
  exceptionCoveredImages: def(
    'fleet_exception_covered_images',
    'gauge',
    'collector',
    [L.exception],
    "Inventoried images with a running container, within the exception's scope, whose digest carries the exception's vulnerability (0: the exception covers nothing running).",
  ),

  collectorLastSyncTimestamp: def(
    'copa_fleet_collector_last_sync_timestamp_seconds',
    'gauge',
    'collector',
    [],
    'Unix time the collector last had every informer synced and recomputed its metrics.',
  ),
  collectorInformerSynced: def(
    'copa_fleet_collector_informer_synced',
    'gauge',
    'collector',
    [L.resource],
    '1 while the informer for this resource holds a complete, current list.',
  ),
  collectorApiErrorsTotal: def(
    'copa_fleet_collector_api_errors_total',
    'counter',
    'collector',
    [L.resource],
    'Errors from the Kubernetes API (list, watch, state writes).',
  ),
  collectorWatchRestartsTotal: def(
    'copa_fleet_collector_watch_restarts_total',
    'counter',
    'collector',
    [L.resource],
    'Watches restarted (expiry, 410 Gone, connection loss).',
  ),
  pushgatewayStaleGroups: def(
    'copa_fleet_pushgateway_stale_groups',
    'gauge',
    'collector',
    [],
    'Pushgateway groups of CronJobs no longer in the inventory that are still within the cleanup grace (seen at the last cleanup pass).',
  ),
  pushgatewayGroupsDeletedTotal: def(
    'copa_fleet_pushgateway_groups_deleted_total',
    'counter',
    'collector',
    [],
    'Pushgateway groups the collector deleted: their CronJob left the inventory and their last push is older than the grace.',
  ),
  pushgatewayCleanupFailuresTotal: def(
    'copa_fleet_pushgateway_cleanup_failures_total',
    'counter',
    'collector',
    [],
    'Failed Pushgateway requests of the cleanup (listing the groups or deleting one); retried at the next pass.',
  ),

  // ---- Collector: the silence watch (one series set per active or pending silence that would mute a copa-fleet alert) ----
  silenceInfo: def(
    'copa_fleet_silence_info',
    'gauge',
    'collector',
    [
      L.alertmanager,
      L.silenceId,
      L.silenceState,
      L.createdBy,
      L.ticket,
      L.mutedAlerts,
      L.mutedSeverity,
    ],
    'Always 1 per active or pending Alertmanager silence whose matchers would mute at least one copa-fleet alert.',
  ),
  silenceStartsAt: def(
    'copa_fleet_silence_starts_at_timestamp_seconds',
    'gauge',
    'collector',
    [L.alertmanager, L.silenceId],
    'Unix time the silence starts (startsAt).',
  ),
  silenceEndsAt: def(
    'copa_fleet_silence_ends_at_timestamp_seconds',
    'gauge',
    'collector',
    [L.alertmanager, L.silenceId],
    'Unix time the silence ends (endsAt).',
  ),
  silenceWatchUp: def(
    'copa_fleet_silence_watch_up',
    'gauge',
    'collector',
    [L.alertmanager],
    "1 when the last poll of the Alertmanager's silences succeeded, 0 when it failed (its silence series then keep their last known values).",
  ),
  silenceWatchLastSuccess: def(
    'copa_fleet_silence_watch_last_success_timestamp_seconds',
    'gauge',
    'collector',
    [L.alertmanager],
    "Unix time the Alertmanager's silences were last read (absent until the first success).",
  ),
  silenceWatchErrorsTotal: def(
    'copa_fleet_silence_watch_errors_total',
    'counter',
    'collector',
    [L.alertmanager],
    "Failed polls of the Alertmanager's silences (connection, TLS, HTTP status, malformed answer).",
  ),
} as const;

export type MetricKey = keyof typeof METRICS;
export type MetricName = (typeof METRICS)[MetricKey]['name'];

/** Recording rule names (the seed's five are part of the contract). */
export const RECORDS = {
  runningCriticalCveImages: 'fleet:running_critical_cve_images:count',
  slaBreach24h: 'fleet:sla_breach_24h:count',
  patchSuccessRate7d: 'copa:patch_success_rate_7d:ratio',
  patchComplianceRatio: 'fleet:patch_compliance_ratio:gauge',
  digestDriftContainers: 'fleet:digest_drift_containers:count',
  // ---- Added by the observability rules ----
  /** CVEs (image x cve_id) older than the image's SLA hours for their severity, by image and severity. */
  slaBreachesByImage: 'image:cve_sla_breaches:count',
  /** The same summed over the fleet, by severity (0 for tracked severities without breaches). */
  slaBreaches: 'fleet:cve_sla_breaches:count',
  /** Successful Copa runs in the last 7 days, by image (inventoried CronJobs only). */
  patchSuccessIncrease7d: 'image:copa_patch_success:increase7d',
  /** Failed Copa runs in the last 7 days, by image and failure_reason (inventoried CronJobs only). */
  patchFailureIncrease7d: 'image:copa_patch_failure:increase7d',
  /** Patch compliance where Critical CVEs covered by exceptions in force do not count against a container. */
  patchComplianceRatioAccepted: 'fleet:patch_compliance_ratio_with_accepted_risk:gauge',
  /** Accepted CVEs past their SLA, summed over the fleet by severity. */
  slaBreachesAccepted: 'fleet:cve_sla_breaches_accepted:count',
  /** Running containers of inventoried images whose compliance is unknown (never scanned), over all of them. */
  patchComplianceUnknownRatio: 'fleet:patch_compliance_unknown:ratio',
  /**
   * Per CVE (image x cve_id x severity), the highest `image_cve_age_hours` of the last 15 minutes,
   * recorded every 15 minutes (sla.ts): the SLA clock at a fixed coarse density whatever the scrape
   * interval, read by the auditor's report for period facts.
   */
  cveAgeHours15m: 'image_cve:cve_age_hours:max_over_time15m',
  /** How many CVE series the same evaluation recorded: one series, so a cheap proof of when the record exists. */
  cveAgeRecords15m: 'fleet:cve_age_hours_max_over_time15m:count',
} as const;

/**
 * Recording rules only the global rules of a multi-cluster fleet have (drift.ts): the join of the
 * clusters' running digests with the patch cluster's patched digests, computed once per evaluation
 * and read by the drift records, the alert and the dashboard.
 */
export const GLOBAL_RECORDS = {
  /** The latest patched digests of inventoried CronJobs, by image and digest (the patch cluster's, for every cluster). */
  patchedDigests: 'fleet:patched_digests:group',
  /** Running containers on a digest that is none of their image's latest patched digests, by cluster, namespace, image and digest. */
  driftedDigestContainers: 'fleet:drifted_digest_containers:sum',
} as const;

/**
 * Series the rules read that other components expose: Prometheus' own scrape health and the
 * Pushgateway's per-group push time (every pushed group carries it, with the grouping labels).
 */
export const UPSTREAM_METRICS = {
  up: 'up',
  pushTimeSeconds: 'push_time_seconds',
  /** Every Prometheus client's process start time; read from the generated Pushgateway's own scrape job. */
  processStartTimeSeconds: 'process_start_time_seconds',
} as const;

/** Values of the `severity` label on alerts (lower case, as Alertmanager routes expect). */
export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Values of `missing_reason` on CopaPatchJobMissing. */
export const MISSING_REASONS = {
  no_recent_run:
    'no run (exporter heartbeat or CronJob schedule) within the schedule interval plus grace',
  no_recent_success: 'runs happen, but none succeeded within the schedule interval plus grace',
  never_reported:
    'its CronJob was created longer ago than the schedule interval plus grace, and no run ever reported',
  never_succeeded:
    'its CronJob was created (and the Pushgateway started) longer ago than the schedule interval plus grace, runs reported, none succeeded',
  cronjob_missing:
    'in the inventory, but its CronJob has not existed for an hour: the manifests were not applied, or the CronJob was deleted',
} as const;
export type MissingReason = keyof typeof MISSING_REASONS;

/** Alert names: part of the contract (routes, runbooks, silences refer to them). */
export const ALERTS = {
  slaBreach: 'CriticalCVESLABreach',
  jobFailed: 'CopaPatchJobFailed',
  jobMissing: 'CopaPatchJobMissing',
  unpatchedDigest: 'PodsRunningUnpatchedDigest',
  scanStale: 'TrivyScanStale',
  namespaceNotScanned: 'NamespaceNotScanned',
  imageNotScanned: 'RunningImageNotScanned',
  pushgatewayGroupStale: 'PushgatewayGroupStale',
  collectorDown: 'DriftCollectorDown',
  /** Multi-cluster only: the global layer has no patched digests of the patch cluster, so drift in this cluster is unknown. */
  patchedDigestsUnavailable: 'PatchedDigestsUnavailable',
  dependencyTrackUploadFailing: 'DependencyTrackUploadFailing',
  exceptionExpired: 'CVEExceptionExpired',
  exceptionExpiringSoon: 'CVEExceptionExpiringSoon',
  exceptionUnused: 'CVEExceptionUnused',
  silencedTooLong: 'CopaAlertSilencedTooLong',
  silenceWatchDown: 'CopaSilenceWatchDown',
} as const;

/** Alerts only the global rules of a multi-cluster fleet have. */
export const MULTI_CLUSTER_ALERTS: readonly string[] = [ALERTS.patchedDigestsUnavailable];
