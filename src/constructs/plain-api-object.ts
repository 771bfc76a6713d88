/**
 * Fast rendering for L1 objects whose props are plain JSON (plus k8s.Quantity / IntOrString).
 *
 * cdk8s renders an ApiObject by running every value of its props through the app's token
 * resolvers (each call walks the construct tree up to the App and copies the key path), then
 * sanitises it. For a fleet's CronJobs (~450 values each) that was most of synth's time. Values here
 * are plain data, so `plainJson` does the same resolution and sanitising in one pass: the
 * number/string union classes become `{ value }` (what cdk8s' NumberStringUnionResolver does), keys
 * are sorted and null/undefined dropped (sanitizeValue). Anything else (a Lazy, a token, a JSON patch
 * added to the object) falls back to cdk8s' own rendering, so the output is the same either way.
 */
import { k8s } from 'cdk8s-plus-33';

class NotPlain extends Error {}

function plainJson(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plainJson);
  if (value.constructor !== Object) {
    const inner = (value as { value?: unknown }).value;
    if ((value instanceof k8s.Quantity || value instanceof k8s.IntOrString) && (typeof inner === 'string' || typeof inner === 'number')) return { value: inner };
    throw new NotPlain();
  }
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const child = plainJson((value as Record<string, unknown>)[key]);
    if (child !== null && child !== undefined) result[key] = child;
  }
  return result;
}

interface ApiObjectInternals {
  readonly props: Record<string, unknown>;
  readonly patches: readonly unknown[];
}

/** What ApiObject.toJson() returns, computed in one pass; undefined when cdk8s must do it. */
function renderPlain(object: k8s.KubeCronJob): Record<string, unknown> | undefined {
  const internals = object as unknown as ApiObjectInternals;
  if (internals.patches.length > 0) return undefined;
  try {
    const json = plainJson({ ...internals.props, metadata: object.metadata.toJson() }) as Record<string, unknown>;
    const { apiVersion, kind, metadata, ...rest } = json;
    return { apiVersion, kind, metadata, ...rest };
  } catch (error) {
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
}

/** A KubeCronJob rendered by `renderPlain` (same output as KubeCronJob, a fraction of the time). */
export class PlainKubeCronJob extends k8s.KubeCronJob {
  override toJson(): Record<string, unknown> {
    const rendered = renderPlain(this);
    if (rendered === undefined) return super.toJson();
    return { ...k8s.KubeCronJob.GVK, ...k8s.toJson_KubeCronJobProps(rendered as unknown as k8s.KubeCronJobProps) };
  }
}
