/**
 * A small model of a fleet's observable state over time, rendered into promtool input series:
 * what the collector exports (scraped, with the target labels a ServiceMonitor adds), what the
 * exporter pushed to the Pushgateway (kept forever, with the grouping labels), and `up`. Scenarios
 * describe images (runs, CVEs, containers, scans, ...) in seconds since t=0 (promtool's epoch);
 * events before 0 are allowed and shape the state at t=0.
 */
import {
  COLLECTOR_RESOURCES,
  type FailureReason,
  JOBS,
  L,
  METRICS,
  RUN_OUTCOMES,
  type RunOutcome,
  SEVERITY_BY_KEY,
  type Severity,
  SUCCESS_OUTCOMES,
  UPSTREAM_METRICS,
} from '../../../src/shared/metrics.ts';

/** Seconds between two input samples (a scrape interval). */
export const STEP = 300;
export const hours = (value: number): number => value * 3600;
export const minutes = (value: number): number => value * 60;

export interface Run {
  readonly at: number;
  readonly outcome: RunOutcome;
  readonly durationSeconds?: number;
  /** Dependency-Track BOM upload of this run, when enabled. */
  readonly bom?: 'uploaded' | 'failed';
}

export interface Cve {
  readonly id: string;
  readonly severity: Severity;
  readonly firstSeen: number;
  /** The digest that carries it (running containers on this digest expose it). */
  readonly digest: string;
  /** No fixed version (slaScope fixable): off the clock, counted in image_unfixable_cves only. */
  readonly unfixable?: boolean;
}

/** A reviewed exception as the collector exports it (risk acceptance). */
export interface WorldException {
  readonly key: string;
  readonly vulnerability: string;
  /** Repositories it covers; `*` for the whole fleet. */
  readonly images: readonly string[];
  readonly reason: string;
  readonly owner: string;
  readonly ticket: string;
  /** In force from `approved` until `expires` (seconds; `expires` at 00:00 UTC of a day). */
  readonly approved: number;
  readonly expires: number;
}

export interface Container {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly digest: string;
  readonly from?: number;
  readonly until?: number;
}

export interface ImageState {
  readonly image: string;
  readonly cronjob: string;
  readonly team: string;
  readonly intervalSeconds: number;
  readonly slaHours: Readonly<Partial<Record<Severity, number>>>;
  /** When the image is in the inventory (default: always). The collector exports it only then. */
  readonly inventory?: { readonly from?: number; readonly until?: number };
  /** Runs the exporter reported (pushed at `at`). */
  readonly runs?: readonly Run[];
  /** CronJob status.lastScheduleTime values, as the collector sees them. */
  readonly schedules?: readonly number[];
  /** Job failures only the collector sees. */
  readonly jobFailures?: ReadonlyArray<{
    readonly reason: FailureReason;
    readonly from: number;
    readonly until?: number;
  }>;
  readonly cves?: readonly Cve[];
  readonly containers?: readonly Container[];
  /** Patched digests pushed (the latest at t is the one drift compares with). */
  readonly patches?: ReadonlyArray<{ readonly at: number; readonly digest: string }>;
  /** Times the newest VulnerabilityReport was written (none: its running digests were never scanned). */
  readonly scans?: readonly number[];
  /** CronJob creationTimestamp as the collector sees it (default: 30 days before t=0); `none`: no CronJob object. */
  readonly created?: number | 'none';
}

export interface World {
  readonly namespace: string;
  readonly images: readonly ImageState[];
  readonly exceptions?: readonly WorldException[];
  readonly unscannedNamespaces?: ReadonlyArray<{
    readonly namespace: string;
    readonly pods: number;
    readonly from?: number;
  }>;
  /** Alertmanager silences the collector's silence watch exports (times in seconds of the scenario). */
  readonly silences?: readonly WorldSilence[];
  readonly collector?: {
    /** Scrapes fail in [from, until): up = 0, the collector's series go stale. */
    readonly down?: { readonly from: number; readonly until?: number };
    /** The scrape target disappears from this time on: no `up` at all. */
    readonly goneFrom?: number;
    /** false: the scrape does not honour the collector's labels (they become exported_*). */
    readonly honorLabels?: boolean;
    /** The collector target's `instance` (pod IP and port); two fleets in one Prometheus have different ones. */
    readonly instance?: string;
  };
  readonly pushgateway?: {
    /**
     * The Pushgateway restarts at `at` and answers no scrape for `downFor` seconds. `persistent`:
     * it reads its persistence file at start and every group comes back as it was; otherwise the
     * groups of runs pushed before the restart are gone (the next push starts from nothing).
     */
    readonly restart?: {
      readonly at: number;
      readonly downFor: number;
      readonly persistent: boolean;
    };
  };
}

export interface WorldSilence {
  readonly alertmanager: string;
  readonly id: string;
  readonly state: 'active' | 'pending';
  readonly createdBy: string;
  readonly ticket: boolean;
  readonly mutedAlerts: string;
  readonly mutedSeverity: string;
  readonly startsAt: number;
  readonly endsAt: number;
}

export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

type Labels = Readonly<Record<string, string>>;
type ValueAt = (t: number) => number | undefined;

const COPA_VERSION = 'v0.14.2';
/** Labels a ServiceMonitor scrape of the collector adds (the collector runs in the fleet namespace). */
const collectorTarget = (namespace: string, instance = '10.1.2.3:9464'): Labels => ({
  [L.job]: JOBS.collector,
  instance,
  namespace,
  pod: 'copa-fleet-collector-6b7c9-x2x4q',
  container: 'collector',
  service: JOBS.collector,
  endpoint: 'metrics',
});
/** Labels the Pushgateway's scrape adds besides the pushed ones (honorLabels keeps `job`). */
const pushgatewayTarget = (namespace: string): Labels => ({
  namespace,
  pod: 'copa-fleet-pushgateway-5c9d7-k8m2p',
  container: 'pushgateway',
  service: JOBS.pushgateway,
  endpoint: 'http',
});

function latest<T>(
  items: readonly T[] | undefined,
  at: (item: T) => number,
  t: number,
): T | undefined {
  let found: T | undefined;
  for (const item of items ?? [])
    if (at(item) <= t && (found === undefined || at(item) >= at(found))) found = item;
  return found;
}

const within = (t: number, from = -Infinity, until = Infinity) => t >= from && t < until;

class SeriesSet {
  readonly entries: Array<{ metric: string; labels: Labels; value: ValueAt }> = [];
  add(metric: string, labels: Labels, value: ValueAt): void {
    this.entries.push({ metric, labels, value });
  }
}

/** Renders a sampled series in promtool notation: `_` before it exists, `stale` once it ends. */
function renderValues(value: ValueAt, end: number, step: number): string {
  const out: string[] = [];
  let defined = false;
  for (let t = 0; t <= end; t += step) {
    const v = value(t);
    if (v === undefined) {
      out.push(defined ? 'stale' : '_');
      defined = false;
    } else {
      out.push(Number.isInteger(v) ? String(v) : v.toFixed(6));
      defined = true;
    }
  }
  return out.join(' ');
}

function selector(metric: string, labels: Labels): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}="${v}"`);
  return `${metric}{${parts.join(', ')}}`;
}

/** What a scrape of the collector stores: the target's labels added, collisions renamed unless honoured. */
function scraped(labels: Labels, target: Labels, honorLabels: boolean): Labels {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (!honorLabels && key in target) result[`exported_${key}`] = value;
    else result[key] = value;
  }
  for (const [key, value] of Object.entries(target)) if (!(key in result)) result[key] = value;
  return result;
}

function runningAt(image: ImageState, t: number): Container[] {
  return (image.containers ?? []).filter((c) => within(t, c.from, c.until));
}

/** The CVE is on a running digest at t (the collector then tracks its age). */
function carriedAt(image: ImageState, cve: Cve, t: number): boolean {
  return t >= cve.firstSeen && runningAt(image, t).some((c) => c.digest === cve.digest);
}

/** The digest carries a Critical CVE at t (with `accepted`, accepted CVEs do not count). */
function criticalAt(
  image: ImageState,
  digest: string,
  t: number,
  accepted: (cve: Cve) => boolean = () => false,
): boolean {
  return (image.cves ?? []).some(
    (v) =>
      v.digest === digest &&
      v.severity === SEVERITY_BY_KEY.critical &&
      v.firstSeen <= t &&
      !accepted(v),
  );
}

/** Scans are per image here: a running digest counts as scanned once the image has a scan. */
const scannedAt = (image: ImageState, t: number): boolean =>
  latest(image.scans, (s) => s, t) !== undefined;

/** Running containers at t on a pre-patch digest or a scanned digest with a Critical CVE (each counted once); with `accepted`, accepted CVEs do not count. */
function noncompliantAt(
  image: ImageState,
  t: number,
  accepted: (cve: Cve) => boolean = () => false,
): number {
  const patch = latest(image.patches, (p) => p.at, t);
  return runningAt(image, t).filter(
    (c) =>
      (scannedAt(image, t) && criticalAt(image, c.digest, t, accepted)) ||
      (patch !== undefined && c.digest !== patch.digest),
  ).length;
}

/** Running containers at t whose digest was never scanned and that are not non-compliant anyway (compliance unknown). */
function unknownAt(image: ImageState, t: number): number {
  return scannedAt(image, t) ? 0 : runningAt(image, t).length - noncompliantAt(image, t);
}

const inForceAt = (e: WorldException, t: number) => t >= e.approved && t < e.expires;
const inScope = (e: WorldException, image: ImageState) =>
  e.images.includes('*') || e.images.includes(image.image);

/** The CVE on the image is covered by an exception in force at t. */
function acceptedAt(world: World, image: ImageState, cve: Cve, t: number): boolean {
  return (world.exceptions ?? []).some(
    (e) => e.vulnerability === cve.id && inScope(e, image) && inForceAt(e, t),
  );
}

/** Default CronJob creation and Pushgateway start: long before any scenario. */
const LONG_AGO = -30 * 86400;
/** The generated Pushgateway's own scrape target labels (its own series carry no `job`: the target's applies). */
const pushgatewaySelf = (namespace: string): Labels => ({
  [L.job]: JOBS.pushgateway,
  instance: '10.1.2.4:9091',
  ...pushgatewayTarget(namespace),
});

/** `step`: seconds between samples (STEP unless a scenario spans days: see Scenario.step). */
export function renderWorld(world: World, end: number, step: number = STEP): InputSeries[] {
  const set = new SeriesSet();
  const honor = world.collector?.honorLabels ?? true;
  const target = collectorTarget(world.namespace, world.collector?.instance);
  const { down, goneFrom } = world.collector ?? {};
  const gone = (t: number) => goneFrom !== undefined && t >= goneFrom;
  const collectorUp = (t: number) =>
    !(down !== undefined && within(t, down.from, down.until)) && !gone(t);
  const fromCollector = (metric: string, labels: Labels, value: ValueAt) =>
    set.add(metric, scraped(labels, target, honor), (t) => (collectorUp(t) ? value(t) : undefined));
  const restart = world.pushgateway?.restart;
  const pushgatewayUp = (t: number) =>
    restart === undefined || !within(t, restart.at, restart.at + restart.downFor);
  const fromPushgateway = (metric: string, labels: Labels, value: ValueAt) =>
    set.add(metric, { ...pushgatewayTarget(world.namespace), ...labels }, (t) =>
      pushgatewayUp(t) ? value(t) : undefined,
    );
  /** A push made at `pushedAt` is still held at t (an in-memory Pushgateway forgets it at its restart). */
  const held = (pushedAt: number, t: number) =>
    restart === undefined || restart.persistent || t < restart.at || pushedAt >= restart.at;

  // ---- collector health and `up`
  set.add(UPSTREAM_METRICS.up, target, (t) => (gone(t) ? undefined : collectorUp(t) ? 1 : 0));
  for (const resource of Object.values(COLLECTOR_RESOURCES)) {
    fromCollector(METRICS.collectorInformerSynced.name, { [L.resource]: resource }, () => 1);
  }
  fromCollector(METRICS.collectorLastSyncTimestamp.name, {}, (t) => t - 30);
  fromCollector(
    METRICS.collectorApiErrorsTotal.name,
    { [L.resource]: COLLECTOR_RESOURCES.pods },
    (t) => Math.floor(t / 3600),
  );
  fromCollector(
    METRICS.collectorWatchRestartsTotal.name,
    { [L.resource]: COLLECTOR_RESOURCES.vulnerabilityReports },
    (t) => Math.floor(t / 1800),
  );
  for (const alertmanager of new Set((world.silences ?? []).map((x) => x.alertmanager))) {
    fromCollector(METRICS.silenceWatchUp.name, { [L.alertmanager]: alertmanager }, () => 1);
  }
  for (const x of world.silences ?? []) {
    const key = { [L.alertmanager]: x.alertmanager, [L.silenceId]: x.id };
    const info = {
      [L.silenceState]: x.state,
      [L.createdBy]: x.createdBy,
      [L.ticket]: String(x.ticket),
      [L.mutedAlerts]: x.mutedAlerts,
      [L.mutedSeverity]: x.mutedSeverity,
    };
    fromCollector(METRICS.silenceInfo.name, { ...key, ...info }, () => 1);
    fromCollector(METRICS.silenceStartsAt.name, key, () => x.startsAt);
    fromCollector(METRICS.silenceEndsAt.name, key, () => x.endsAt);
  }
  for (const gap of world.unscannedNamespaces ?? []) {
    fromCollector(METRICS.namespaceUnscanned.name, { [L.namespace]: gap.namespace }, (t) =>
      within(t, gap.from) ? gap.pods : undefined,
    );
  }

  const inventoriedAt = (image: ImageState, t: number) =>
    within(t, image.inventory?.from, image.inventory?.until);
  fromCollector(METRICS.noncompliantContainers.name, {}, (t) =>
    world.images.reduce(
      (sum, image) => sum + (inventoriedAt(image, t) ? noncompliantAt(image, t) : 0),
      0,
    ),
  );
  fromCollector(METRICS.noncompliantContainersAccepted.name, {}, (t) =>
    world.images.reduce(
      (sum, image) =>
        sum +
        (inventoriedAt(image, t)
          ? noncompliantAt(image, t, (cve) => acceptedAt(world, image, cve, t))
          : 0),
      0,
    ),
  );
  for (const e of world.exceptions ?? []) {
    const exception = { [L.exception]: e.key };
    const expires = new Date(e.expires * 1000).toISOString().slice(0, 10);
    fromCollector(
      METRICS.exceptionInfo.name,
      {
        ...exception,
        [L.vulnerability]: e.vulnerability,
        [L.images]: e.images.join(','),
        [L.reason]: e.reason,
        [L.owner]: e.owner,
        [L.ticket]: e.ticket,
        [L.expires]: expires,
      },
      () => 1,
    );
    fromCollector(METRICS.exceptionExpiryTimestamp.name, exception, () => e.expires);
    fromCollector(METRICS.exceptionInForce.name, exception, (t) => (inForceAt(e, t) ? 1 : 0));
    fromCollector(
      METRICS.exceptionCoveredImages.name,
      exception,
      (t) =>
        world.images.filter(
          (image) =>
            inventoriedAt(image, t) &&
            inScope(e, image) &&
            (image.cves ?? []).some((c) => c.id === e.vulnerability && carriedAt(image, c, t)),
        ).length,
    );
  }
  fromCollector(METRICS.complianceUnknownContainers.name, {}, (t) =>
    world.images.reduce(
      (sum, image) => sum + (inventoriedAt(image, t) ? unknownAt(image, t) : 0),
      0,
    ),
  );
  // The generated Pushgateway's own start time (a restart restarts the process, persistent or not).
  set.add(UPSTREAM_METRICS.processStartTimeSeconds, pushgatewaySelf(world.namespace), (t) =>
    !pushgatewayUp(t)
      ? undefined
      : restart !== undefined && t >= restart.at
        ? restart.at
        : LONG_AGO,
  );

  for (const image of world.images) {
    const inventoried = (t: number) => inventoriedAt(image, t);
    const collected = (metric: string, labels: Labels, value: ValueAt) =>
      fromCollector(metric, { [L.image]: image.image, ...labels }, (t) =>
        inventoried(t) ? value(t) : undefined,
      );

    // ---- inventory, as the collector exports it
    collected(
      METRICS.inventoryImageInfo.name,
      { [L.cronjob]: image.cronjob, [L.team]: image.team },
      () => 1,
    );
    collected(METRICS.inventoryScheduleIntervalSeconds.name, {}, () => image.intervalSeconds);
    for (const [severity, slaHours] of Object.entries(image.slaHours)) {
      collected(METRICS.inventorySlaHours.name, { [L.severity]: severity }, () => slaHours);
    }

    // ---- running state
    collected(METRICS.runningContainers.name, {}, (t) => runningAt(image, t).length || undefined);
    collected(METRICS.unscannedContainers.name, {}, (t) =>
      scannedAt(image, t) ? 0 : runningAt(image, t).length,
    );
    collected(METRICS.imageScanAgeSeconds.name, {}, (t) => {
      const scan = latest(image.scans, (s) => s, t);
      return scan !== undefined && runningAt(image, t).length > 0 ? t - scan : undefined;
    });
    for (const severity of Object.keys(image.slaHours)) {
      collected(METRICS.imageUnfixableCves.name, { [L.severity]: severity }, (t) => {
        const unfixable = new Set(
          (image.cves ?? [])
            .filter(
              (c) => c.unfixable === true && c.severity === severity && carriedAt(image, c, t),
            )
            .map((c) => c.id),
        );
        return unfixable.size > 0 ? unfixable.size : undefined;
      });
    }
    for (const cve of image.cves ?? []) {
      if (cve.unfixable === true) continue;
      const labels = { [L.digest]: cve.digest, [L.cveId]: cve.id, [L.severity]: cve.severity };
      collected(METRICS.imageCveAgeHours.name, labels, (t) =>
        carriedAt(image, cve, t) ? (t - cve.firstSeen) / 3600 : undefined,
      );
      const sla = image.slaHours[cve.severity];
      if (sla !== undefined) {
        collected(
          METRICS.slaBreachTotal.name,
          { [L.cveId]: cve.id, [L.thresholdHours]: String(sla) },
          (t) => (t > cve.firstSeen + hours(sla) ? 1 : undefined),
        );
      }
    }
    for (const [severity, sla] of Object.entries(image.slaHours)) {
      // Distinct CVE ids of the severity past the SLA, accepted ones apart; only non-zero counts are exported.
      const pastSla = (t: number, accepted: boolean) => {
        const past = new Set(
          (image.cves ?? [])
            .filter(
              (c) =>
                c.unfixable !== true &&
                c.severity === severity &&
                carriedAt(image, c, t) &&
                t - c.firstSeen > hours(sla) &&
                acceptedAt(world, image, c, t) === accepted,
            )
            .map((c) => c.id),
        );
        return past.size > 0 ? past.size : undefined;
      };
      collected(METRICS.imageCveSlaBreaches.name, { [L.severity]: severity }, (t) =>
        pastSla(t, false),
      );
      collected(METRICS.imageCveSlaBreachesAccepted.name, { [L.severity]: severity }, (t) =>
        pastSla(t, true),
      );
    }
    const criticalDigests = new Set(
      (image.cves ?? [])
        .filter((c) => c.severity === SEVERITY_BY_KEY.critical)
        .map((c) => c.digest),
    );
    const pods = new Map<string, Container>();
    for (const c of image.containers ?? []) pods.set(`${c.namespace}/${c.pod}/${c.digest}`, c);
    for (const pod of pods.values()) {
      collected(
        METRICS.runningContainersWithCriticalCve.name,
        { [L.namespace]: pod.namespace, [L.pod]: pod.pod, [L.digest]: pod.digest },
        (t) => {
          const count = runningAt(image, t).filter(
            (c) =>
              c.namespace === pod.namespace &&
              c.pod === pod.pod &&
              c.digest === pod.digest &&
              criticalDigests.has(c.digest) &&
              (image.cves ?? []).some((v) => v.digest === c.digest && v.firstSeen <= t),
          ).length;
          return count > 0 ? count : undefined;
        },
      );
    }
    for (const c of image.containers ?? []) {
      for (const patch of image.patches ?? []) {
        collected(
          METRICS.containerDigestDrift.name,
          {
            [L.namespace]: c.namespace,
            [L.pod]: c.pod,
            [L.container]: c.container,
            [L.digest]: c.digest,
            [L.patchedDigest]: patch.digest,
          },
          (t) =>
            within(t, c.from, c.until) &&
            latest(image.patches, (p) => p.at, t) === patch &&
            c.digest !== patch.digest
              ? 1
              : undefined,
        );
      }
    }

    // ---- the CronJob as the collector sees it
    const cronjobLabels = { [L.cronjob]: image.cronjob };
    const created = image.created ?? LONG_AGO;
    if (created !== 'none')
      collected(METRICS.cronjobCreatedTimestamp.name, cronjobLabels, () => created);
    if (image.schedules !== undefined) {
      collected(METRICS.cronjobLastScheduleTimestamp.name, cronjobLabels, (t) =>
        latest(image.schedules, (s) => s, t),
      );
    }
    for (const failure of image.jobFailures ?? []) {
      collected(
        METRICS.jobLastFailure.name,
        { ...cronjobLabels, [L.failureReason]: failure.reason },
        (t) => (within(t, failure.from, failure.until) ? 1 : undefined),
      );
    }

    // ---- what the exporter pushed (the Pushgateway keeps it, inventory or not)
    const runs = [...(image.runs ?? [])].sort((a, b) => a.at - b.at);
    if (runs.length === 0) continue;
    const group = { [L.job]: JOBS.exporter, [L.cronjob]: image.cronjob };
    const pushed = (metric: string, labels: Labels, value: ValueAt) =>
      fromPushgateway(metric, { ...group, [L.image]: image.image, ...labels }, value);
    const runsUntil = (t: number) => runs.filter((r) => r.at <= t && held(r.at, t));
    const isSuccess = (r: Run) => (SUCCESS_OUTCOMES as readonly string[]).includes(r.outcome);
    const countOrUndefined = (n: number) => (n > 0 ? n : undefined);

    pushed(METRICS.patchSuccessTotal.name, { [L.copaVersion]: COPA_VERSION }, (t) =>
      countOrUndefined(runsUntil(t).filter(isSuccess).length),
    );
    for (const reason of new Set(runs.filter((r) => !isSuccess(r)).map((r) => r.outcome))) {
      pushed(
        METRICS.patchFailureTotal.name,
        { [L.failureReason]: reason, [L.copaVersion]: COPA_VERSION },
        (t) => countOrUndefined(runsUntil(t).filter((r) => r.outcome === reason).length),
      );
    }
    pushed(METRICS.runLastTimestamp.name, {}, (t) => runsUntil(t).at(-1)?.at);
    pushed(
      METRICS.runLastSuccessTimestamp.name,
      {},
      (t) => runsUntil(t).filter(isSuccess).at(-1)?.at,
    );
    pushed(METRICS.runDurationSeconds.name, {}, (t) => {
      const last = runsUntil(t).at(-1);
      return last === undefined ? undefined : (last.durationSeconds ?? 600);
    });
    for (const outcome of Object.keys(RUN_OUTCOMES) as RunOutcome[]) {
      pushed(METRICS.runLastOutcome.name, { [L.outcome]: outcome }, (t) => {
        const last = runsUntil(t).at(-1);
        // The exporter pushes only the last outcome's series (value 1).
        return last === undefined || last.outcome !== outcome ? undefined : 1;
      });
    }
    for (const [severity, before] of [
      ['Critical', 2],
      ['High', 5],
    ] as const) {
      pushed(
        METRICS.imageVulnerabilities.name,
        { [L.severity]: severity, [L.stage]: 'before' },
        (t) => (runsUntil(t).length > 0 ? before : undefined),
      );
      // After the patch: 0 everywhere, which the exporter does not push (absent = 0).
    }
    for (const patch of image.patches ?? []) {
      pushed(
        METRICS.patchedImageInfo.name,
        { [L.tag]: 'patched', [L.digest]: patch.digest },
        (t) =>
          latest(image.patches, (p) => p.at, t) === patch && held(patch.at, t) ? 1 : undefined,
      );
    }
    if (runs.some((r) => r.bom !== undefined)) {
      pushed(METRICS.dependencyTrackUploadFailureTotal.name, {}, (t) =>
        countOrUndefined(runsUntil(t).filter((r) => r.bom === 'failed').length),
      );
      pushed(
        METRICS.dependencyTrackUploadLastSuccessTimestamp.name,
        {},
        (t) =>
          runsUntil(t)
            .filter((r) => r.bom === 'uploaded')
            .at(-1)?.at,
      );
    }
    // The Pushgateway's own per-group series: grouping labels only.
    fromPushgateway(UPSTREAM_METRICS.pushTimeSeconds, group, (t) => runsUntil(t).at(-1)?.at);
  }

  return set.entries
    .map((entry) => ({
      series: selector(entry.metric, entry.labels),
      values: renderValues(entry.value, end, step),
    }))
    .filter((entry) => /[0-9]/.test(entry.values));
}

/** Prometheus' `humanizeDuration` template function (for expected annotations). */
export function humanizeDuration(seconds: number): string {
  const whole = Math.trunc(seconds);
  const [s, m, h, d] = [
    whole % 60,
    Math.trunc(whole / 60) % 60,
    Math.trunc(whole / 3600) % 24,
    Math.trunc(whole / 86400),
  ];
  if (d !== 0) return `${d}d ${h}h ${m}m ${s}s`;
  if (h !== 0) return `${h}h ${m}m ${s}s`;
  if (m !== 0) return `${m}m ${s}s`;
  return `${Number(seconds.toPrecision(4))}s`;
}
