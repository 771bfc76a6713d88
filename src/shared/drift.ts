/**
 * Digest drift: running containers whose digest differs from the latest patched digest of their
 * image. One pure function behind both the drift collector and the offline `copa-fleet drift`
 * audit, so the auditor and the dashboard can never disagree.
 *
 * Shared with the runtime programs: no dependencies beyond image-ref.
 */
import { normalizeDigest, parseImageRef } from './image-ref.ts';

/** The few Pod fields drift needs (structurally compatible with V1Pod). */
export interface PodLike {
  readonly metadata?: { readonly namespace?: string; readonly name?: string };
  readonly status?: {
    readonly containerStatuses?: readonly ContainerStatusLike[];
    readonly initContainerStatuses?: readonly ContainerStatusLike[];
  };
}
export interface ContainerStatusLike {
  readonly name: string;
  readonly image?: string;
  readonly imageID?: string;
  readonly state?: { readonly running?: unknown };
}

export interface RunningContainer {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** Normalised repository. */
  readonly image: string;
  /** `sha256:<hex>`. */
  readonly digest: string;
}

export interface DriftRow {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly image: string;
  readonly runningDigest: string;
  readonly patchedDigest: string;
}

/**
 * Containers in `state.running` with a resolvable digest. The repository comes from `imageID`
 * (what really runs); when the runtime reports only a bare digest there, from `image`.
 * Native sidecars (running init containers) count too.
 */
export function runningContainers(pod: PodLike): RunningContainer[] {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const statuses = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ];
  const result: RunningContainer[] = [];
  for (const status of statuses) {
    if (status.state?.running === undefined || status.state.running === null) continue;
    const resolved = resolveRunningImage(status);
    if (resolved !== undefined)
      result.push({ namespace, pod: name, container: status.name, ...resolved });
  }
  return result;
}

function resolveRunningImage(
  status: ContainerStatusLike,
): { image: string; digest: string } | undefined {
  const fromId =
    status.imageID !== undefined && status.imageID !== ''
      ? parseImageRef(status.imageID)
      : undefined;
  if (fromId?.ok && fromId.ref.digest !== undefined) {
    const digest = normalizeDigest(fromId.ref.digest);
    return digest === undefined ? undefined : { image: fromId.ref.name, digest };
  }
  // containerd may report `sha256:<id>` alone; Docker `docker://sha256:<id>`: take the repository from `image`.
  const bare = status.imageID?.replace(/^docker(-pullable)?:\/\//, '');
  const digest = bare === undefined ? undefined : normalizeDigest(bare);
  const fromImage = status.image !== undefined ? parseImageRef(status.image) : undefined;
  if (digest === undefined || !fromImage?.ok) return undefined;
  return { image: fromImage.ref.name, digest };
}

/**
 * Every running container whose digest differs from the latest patched digest of its image.
 * `patched` maps a normalised repository to a `sha256:` digest; images absent from it are not
 * reported. Sorted by namespace, pod, container.
 */
export function findDrift(
  containers: Iterable<RunningContainer>,
  patched: ReadonlyMap<string, string>,
): DriftRow[] {
  const rows: DriftRow[] = [];
  for (const c of containers) {
    const patchedDigest = patched.get(c.image);
    if (patchedDigest === undefined || patchedDigest === c.digest) continue;
    rows.push({
      namespace: c.namespace,
      pod: c.pod,
      container: c.container,
      image: c.image,
      runningDigest: c.digest,
      patchedDigest,
    });
  }
  return rows.sort(compareRows);
}

function compareRows(a: DriftRow, b: DriftRow): number {
  return cmp(a.namespace, b.namespace) || cmp(a.pod, b.pod) || cmp(a.container, b.container);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
