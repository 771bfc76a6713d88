/**
 * The few fields the collector keeps of each watched object. Everything else of an object is
 * garbage as soon as its event is handled: this is what keeps 10,000 Pods and 2,000
 * VulnerabilityReports within the memory budget.
 *
 * Strings that repeat across objects (namespaces, images, digests, CVE ids) are interned, so
 * that 2,000 reports listing the same CVE hold one copy of its id.
 */
import { CRONJOB_LABEL, JOB_CONTAINERS } from '../../src/shared/contract.ts';
import { runningContainers, type PodLike, type RunningContainer } from '../../src/shared/drift.ts';
import { isImagePullReason } from '../../src/shared/image-pull.ts';
import {
  DEFAULT_TAG,
  normalizeDigest,
  parseImageRef,
  repositoryOf,
} from '../../src/shared/image-ref.ts';
import { SEVERITIES, toSeverity, type Severity } from '../../src/shared/metrics.ts';
import type { RawObject } from './kube/kube-client.ts';

// ---------------------------------------------------------------- interning

const MAX_INTERNED = 500_000;
let interned = new Map<string, string>();

/** One shared copy per distinct string (the table is dropped when it grows past a bound: sharing is an optimisation, never a semantic). */
export function intern(value: string): string {
  const existing = interned.get(value);
  if (existing !== undefined) return existing;
  if (interned.size >= MAX_INTERNED) interned = new Map();
  interned.set(value, value);
  return value;
}

// ---------------------------------------------------------------- pods

/** Container states of a Copa job pod that the collector needs to classify job failures. */
export interface JobPodView {
  /** The Job that owns the pod. */
  readonly job: string;
  /** The exporter sidecar ran at some point: it can report whatever happened. */
  readonly exporterStarted: boolean;
  /** Some container is waiting on an image pull error. */
  readonly pullFailed: boolean;
}

/**
 * A running container and the tag its pod spec names (what an exception's tag scope matches):
 * `imageID` carries only the digest, and `status.image` may show another tag of the same image
 * (kubernetes/kubernetes#51017), so the tag comes from `spec.containers[].image`. Undefined for a
 * spec pinned by digest alone (no tag scope covers it; a repository scope does).
 */
export interface PodContainer extends RunningContainer {
  readonly tag: string | undefined;
}

export interface PodView {
  readonly namespace: string;
  readonly name: string;
  /** Containers in `state.running` with a resolvable digest (src/shared/drift.ts). */
  readonly containers: readonly PodContainer[];
  /** At least one container is running (with or without a resolvable digest). */
  readonly running: boolean;
  /** Set for pods of the pipeline's Jobs (in the fleet namespace, with the CronJob label). */
  readonly jobPod?: JobPodView;
}

interface ContainerStatusRaw {
  readonly name?: string;
  readonly state?: {
    readonly running?: unknown;
    readonly terminated?: unknown;
    readonly waiting?: { readonly reason?: string };
  };
  readonly lastState?: { readonly terminated?: unknown; readonly running?: unknown };
}
interface PodRaw extends RawObject {
  readonly spec?: {
    readonly containers?: readonly { readonly name?: string; readonly image?: string }[];
    readonly initContainers?: readonly { readonly name?: string; readonly image?: string }[];
  };
  readonly status?: {
    readonly containerStatuses?: readonly ContainerStatusRaw[];
    readonly initContainerStatuses?: readonly ContainerStatusRaw[];
  };
}

export function projectPod(object: RawObject, fleetNamespace: string): PodView {
  const pod = object as PodRaw;
  const namespace = intern(pod.metadata?.namespace ?? '');
  const name = pod.metadata?.name ?? '';
  const statuses = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ];
  const running = statuses.some((s) => s.state?.running !== undefined && s.state.running !== null);
  const specImages = new Map<string, string>();
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])])
    if (c.name !== undefined && c.image !== undefined) specImages.set(c.name, c.image);
  const containers = running
    ? runningContainers(pod as PodLike).map((c): PodContainer => ({
        namespace,
        pod: name,
        container: intern(c.container),
        image: intern(c.image),
        digest: intern(c.digest),
        tag: specTag(specImages.get(c.container)),
      }))
    : [];
  const view: PodView = { namespace, name, containers, running };
  const cronjob = pod.metadata?.labels?.[CRONJOB_LABEL];
  if (namespace !== fleetNamespace || cronjob === undefined) return view;
  const job =
    pod.metadata?.labels?.['batch.kubernetes.io/job-name'] ??
    pod.metadata?.labels?.['job-name'] ??
    pod.metadata?.ownerReferences?.find((o) => o.kind === 'Job')?.name;
  if (job === undefined) return view;
  const started = (s: ContainerStatusRaw) =>
    isSet(s.state?.running) ||
    isSet(s.state?.terminated) ||
    isSet(s.lastState?.terminated) ||
    isSet(s.lastState?.running);
  const exporter = statuses.find((s) => s.name === JOB_CONTAINERS.exporter);
  return {
    ...view,
    jobPod: {
      job,
      // Without an exporter status (another pod layout), any started container stands for it.
      exporterStarted: exporter !== undefined ? started(exporter) : statuses.some(started),
      pullFailed: statuses.some((s) => isImagePullReason(s.state?.waiting?.reason)),
    },
  };
}

/** The tag of a spec image (`latest` when it names none and no digest), undefined when pinned by digest or invalid. */
function specTag(image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  const parsed = parseImageRef(image);
  if (!parsed.ok) return undefined;
  const tag = parsed.ref.tag ?? (parsed.ref.digest === undefined ? DEFAULT_TAG : undefined);
  return tag === undefined ? undefined : intern(tag);
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

// ---------------------------------------------------------------- vulnerability reports

/** CVE ids of one report per severity (sorted, unique). */
export type CvesBySeverity = Readonly<Partial<Record<Severity, readonly string[]>>>;

export interface ReportView {
  readonly namespace: string;
  /** Normalised repository of the scanned image, or undefined when the report names none. */
  readonly image: string | undefined;
  /** `sha256:<hex>` of the scanned image, or undefined (then it matches no running container). */
  readonly digest: string | undefined;
  /** report.updateTimestamp in ms since the epoch (0 when missing or malformed). */
  readonly updated: number;
  readonly cves: CvesBySeverity;
  /**
   * CVE ids none of whose entries in the report has a `fixedVersion` (no fix upstream, or a
   * language package Copa does not patch: trivy-operator's default `ignoreUnfixed: false` lists
   * them). A CVE fixed in one of its packages counts as fixable.
   */
  readonly unfixed: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

interface ReportRaw extends RawObject {
  readonly report?: {
    readonly updateTimestamp?: string;
    readonly registry?: { readonly server?: string };
    readonly artifact?: {
      readonly repository?: string;
      readonly digest?: string;
      readonly tag?: string;
    };
    readonly vulnerabilities?: readonly {
      readonly vulnerabilityID?: string;
      readonly severity?: string;
      readonly fixedVersion?: string;
    }[];
  };
}

export function projectReport(object: RawObject): ReportView {
  const { report } = object as ReportRaw;
  const server = report?.registry?.server ?? '';
  const repository = report?.artifact?.repository ?? '';
  // trivy-operator writes Docker Hub as index.docker.io; the shared normalisation maps it to docker.io.
  const image =
    repository === ''
      ? undefined
      : repositoryOf(server === '' ? repository : `${server}/${repository}`);
  const rawDigest = report?.artifact?.digest;
  const digest =
    rawDigest === undefined || rawDigest === '' ? undefined : normalizeDigest(rawDigest);
  const updated = Date.parse(report?.updateTimestamp ?? '');
  const sets = new Map<Severity, Set<string>>();
  const fixed = new Set<string>();
  const unfixed = new Set<string>();
  for (const v of report?.vulnerabilities ?? []) {
    if (typeof v.vulnerabilityID !== 'string' || v.vulnerabilityID === '') continue;
    if (typeof v.fixedVersion === 'string' && v.fixedVersion.trim() !== '')
      fixed.add(v.vulnerabilityID);
    else unfixed.add(v.vulnerabilityID);
    const severity = toSeverity(v.severity ?? '');
    let set = sets.get(severity);
    if (set === undefined) sets.set(severity, (set = new Set()));
    set.add(v.vulnerabilityID);
  }
  const cves: Partial<Record<Severity, readonly string[]>> = {};
  for (const severity of SEVERITIES) {
    const set = sets.get(severity);
    if (set !== undefined) cves[severity] = [...set].sort().map(intern);
  }
  return {
    namespace: intern(object.metadata?.namespace ?? ''),
    image: image === undefined ? undefined : intern(image),
    digest: digest === undefined ? undefined : intern(digest),
    updated: Number.isFinite(updated) ? updated : 0,
    cves,
    unfixed: unfixedOnly(unfixed, fixed),
  };
}

function unfixedOnly(unfixed: Set<string>, fixed: ReadonlySet<string>): ReadonlySet<string> {
  for (const id of fixed) unfixed.delete(id);
  return unfixed.size === 0 ? NONE : new Set([...unfixed].map(intern));
}

// ---------------------------------------------------------------- jobs and cronjobs

export interface JobView {
  readonly name: string;
  /** The CronJob that created the Job (CronJob label, else the owner reference). */
  readonly cronjob: string | undefined;
  /** creationTimestamp in ms. */
  readonly created: number;
  /** The `Failed` condition's reason (`DeadlineExceeded`, `BackoffLimitExceeded`, ...) when the Job failed. */
  readonly failedReason: string | undefined;
  readonly succeeded: boolean;
}

interface JobRaw extends RawObject {
  readonly status?: {
    readonly conditions?: readonly {
      readonly type?: string;
      readonly status?: string;
      readonly reason?: string;
    }[];
  };
}

export function projectJob(object: RawObject): JobView {
  const job = object as JobRaw;
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  return {
    name: job.metadata?.name ?? '',
    cronjob:
      job.metadata?.labels?.[CRONJOB_LABEL] ??
      job.metadata?.ownerReferences?.find((o) => o.kind === 'CronJob')?.name,
    created: Date.parse(job.metadata?.creationTimestamp ?? '') || 0,
    failedReason: failed === undefined ? undefined : (failed.reason ?? 'Failed'),
    succeeded: conditions.some((c) => c.type === 'Complete' && c.status === 'True'),
  };
}

export interface CronJobView {
  readonly name: string;
  readonly created: number;
  /** status.lastScheduleTime in ms, if any. */
  readonly lastSchedule: number | undefined;
  readonly suspended: boolean;
  readonly startingDeadlineSeconds: number | undefined;
}

interface CronJobRaw extends RawObject {
  readonly spec?: { readonly suspend?: boolean; readonly startingDeadlineSeconds?: number };
  readonly status?: { readonly lastScheduleTime?: string };
}

export function projectCronJob(object: RawObject): CronJobView {
  const cron = object as CronJobRaw;
  const time = (value: string | undefined) => {
    const ms = Date.parse(value ?? '');
    return Number.isFinite(ms) ? ms : undefined;
  };
  return {
    name: cron.metadata?.name ?? '',
    created: time(cron.metadata?.creationTimestamp) ?? 0,
    lastSchedule: time(cron.status?.lastScheduleTime),
    suspended: cron.spec?.suspend === true,
    startingDeadlineSeconds:
      typeof cron.spec?.startingDeadlineSeconds === 'number'
        ? cron.spec.startingDeadlineSeconds
        : undefined,
  };
}

// ---------------------------------------------------------------- configmaps

export type ConfigMapData = Readonly<Record<string, string>>;

export function projectConfigMapData(object: RawObject): ConfigMapData {
  const data = (object as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null) return {};
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(data))
    if (typeof value === 'string') result[key] = value;
  return result;
}

/** A per-CronJob patched-digest record: its name (the trust anchor, digest-records.ts) and data. */
export interface DigestRecordView {
  readonly name: string;
  readonly data: ConfigMapData;
}

export function projectDigestRecord(object: RawObject): DigestRecordView {
  const name = (object as { metadata?: { name?: unknown } }).metadata?.name;
  return { name: typeof name === 'string' ? name : '', data: projectConfigMapData(object) };
}
