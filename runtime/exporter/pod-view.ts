/**
 * The few facts of the Copa job pod that the classifier reads, taken from a Pod object as the API
 * returns it (JSON, or @kubernetes/client-node's V1Pod with Date objects). Keeping the classifier on
 * this small view keeps it pure and its tests readable.
 */
export type StepKind = 'sidecar' | 'init' | 'main';

export interface ContainerView {
  readonly name: string;
  readonly kind: StepKind;
  readonly state: 'waiting' | 'running' | 'terminated' | 'unknown';
  readonly waitingReason?: string;
  readonly waitingMessage?: string;
  readonly exitCode?: number;
  readonly signal?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** `lastState.terminated.reason` (a restarted sidecar that was OOM-killed shows it here). */
  readonly lastTerminationReason?: string;
  readonly restartCount: number;
}

export interface PodView {
  readonly phase?: string;
  /** `status.reason`, e.g. `DeadlineExceeded`, `Evicted`. */
  readonly reason?: string;
  readonly createdAt?: number;
  readonly startedAt?: number;
  readonly deleting: boolean;
  readonly containers: readonly ContainerView[];
}

/** Builds the view; `pod` is any object shaped like a v1 Pod (unknown fields are ignored). */
export function podView(pod: unknown): PodView {
  const p = asObject(pod);
  const metadata = asObject(p.metadata);
  const spec = asObject(p.spec);
  const status = asObject(p.status);
  const sidecars = new Set(
    asArray(spec.initContainers)
      .map(asObject)
      .filter((c) => c.restartPolicy === 'Always')
      .map((c) => String(c.name)),
  );
  const specKinds = new Map<string, StepKind>();
  for (const c of asArray(spec.initContainers).map(asObject))
    specKinds.set(String(c.name), sidecars.has(String(c.name)) ? 'sidecar' : 'init');
  for (const c of asArray(spec.containers).map(asObject)) specKinds.set(String(c.name), 'main');

  const statuses = [
    ...asArray(status.initContainerStatuses),
    ...asArray(status.containerStatuses),
  ].map(asObject);
  const byName = new Map(statuses.map((s) => [String(s.name), s]));
  const containers: ContainerView[] = [];
  for (const [name, kind] of specKinds)
    containers.push(containerView(name, kind, byName.get(name)));
  return {
    ...optional('phase', str(status.phase)),
    ...optional('reason', str(status.reason)),
    ...optional('createdAt', millis(metadata.creationTimestamp)),
    ...optional('startedAt', millis(status.startTime)),
    deleting: metadata.deletionTimestamp !== undefined && metadata.deletionTimestamp !== null,
    containers,
  };
}

function containerView(
  name: string,
  kind: StepKind,
  status: Record<string, unknown> | undefined,
): ContainerView {
  if (status === undefined) return { name, kind, state: 'unknown', restartCount: 0 };
  const state = asObject(status.state);
  const waiting =
    state.waiting === undefined || state.waiting === null ? undefined : asObject(state.waiting);
  const running =
    state.running === undefined || state.running === null ? undefined : asObject(state.running);
  const terminated =
    state.terminated === undefined || state.terminated === null
      ? undefined
      : asObject(state.terminated);
  const lastTerminated = asObject(asObject(status.lastState).terminated);
  const restartCount = typeof status.restartCount === 'number' ? status.restartCount : 0;
  const base = {
    name,
    kind,
    restartCount,
    ...optional('lastTerminationReason', str(lastTerminated.reason)),
  };
  if (terminated !== undefined) {
    return {
      ...base,
      state: 'terminated',
      ...optional('exitCode', num(terminated.exitCode)),
      ...optional('signal', num(terminated.signal)),
      ...optional('reason', str(terminated.reason)),
      ...optional('message', str(terminated.message)),
      ...optional('startedAt', millis(terminated.startedAt)),
      ...optional('finishedAt', millis(terminated.finishedAt)),
    };
  }
  if (running !== undefined)
    return { ...base, state: 'running', ...optional('startedAt', millis(running.startedAt)) };
  if (waiting !== undefined) {
    return {
      ...base,
      state: 'waiting',
      ...optional('waitingReason', str(waiting.reason)),
      ...optional('waitingMessage', str(waiting.message)),
    };
  }
  return { ...base, state: 'unknown' };
}

/** Every step that is not a native sidecar has terminated, or the pod has reached a final phase. */
export function runHasEnded(pod: PodView): boolean {
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return true;
  const steps = pod.containers.filter((c) => c.kind !== 'sidecar');
  return steps.length > 0 && steps.every((c) => c.state === 'terminated');
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
function millis(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'string') {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}
