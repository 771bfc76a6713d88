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
import type { ApiObject, GroupVersionKind } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';

class NotPlain extends Error {}

function plainJson(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plainJson);
  if (value.constructor !== Object) {
    const inner = (value as { value?: unknown }).value;
    if (
      (value instanceof k8s.Quantity || value instanceof k8s.IntOrString) &&
      (typeof inner === 'string' || typeof inner === 'number')
    )
      return { value: inner };
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
function renderPlain(object: ApiObject): Record<string, unknown> | undefined {
  const internals = object as unknown as ApiObjectInternals;
  if (internals.patches.length > 0) return undefined;
  try {
    const json = plainJson({
      ...internals.props,
      metadata: object.metadata.toJson() as unknown,
    }) as Record<string, unknown>;
    const { apiVersion, kind, metadata, ...rest } = json;
    return { apiVersion, kind, metadata, ...rest };
  } catch (error) {
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
}

/** The L1 class's own last step (GVK first, then its generated toJson_<Kind>Props), on the fast rendering. */
function render<P>(
  object: ApiObject,
  gvk: GroupVersionKind,
  toJsonProps: (props: P) => Record<string, unknown> | undefined,
  fallback: () => Record<string, unknown>,
): Record<string, unknown> {
  const rendered = renderPlain(object);
  if (rendered === undefined) return fallback();
  return { ...gvk, ...toJsonProps(rendered as P) };
}

// One subclass per kind synth emits once per image (the others are few and keep cdk8s' rendering).

export class PlainKubeCronJob extends k8s.KubeCronJob {
  override toJson(): Record<string, unknown> {
    return render(
      this,
      k8s.KubeCronJob.GVK,
      k8s.toJson_KubeCronJobProps,
      () => super.toJson() as Record<string, unknown>,
    );
  }
}

export class PlainKubeServiceAccount extends k8s.KubeServiceAccount {
  override toJson(): Record<string, unknown> {
    return render(
      this,
      k8s.KubeServiceAccount.GVK,
      k8s.toJson_KubeServiceAccountProps,
      () => super.toJson() as Record<string, unknown>,
    );
  }
}

export class PlainKubeRole extends k8s.KubeRole {
  override toJson(): Record<string, unknown> {
    return render(
      this,
      k8s.KubeRole.GVK,
      k8s.toJson_KubeRoleProps,
      () => super.toJson() as Record<string, unknown>,
    );
  }
}

export class PlainKubeRoleBinding extends k8s.KubeRoleBinding {
  override toJson(): Record<string, unknown> {
    return render(
      this,
      k8s.KubeRoleBinding.GVK,
      k8s.toJson_KubeRoleBindingProps,
      () => super.toJson() as Record<string, unknown>,
    );
  }
}

export class PlainKubeConfigMap extends k8s.KubeConfigMap {
  override toJson(): Record<string, unknown> {
    return render(
      this,
      k8s.KubeConfigMap.GVK,
      k8s.toJson_KubeConfigMapProps,
      () => super.toJson() as Record<string, unknown>,
    );
  }
}
