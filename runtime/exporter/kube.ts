/**
 * The exporter's two Kubernetes API calls, through @kubernetes/client-node (in-cluster config, or
 * KUBECONFIG for tests and local runs): read its own Pod, and merge-patch its own key of the
 * patched-digest ConfigMap. RBAC: `get` on pods in its namespace, `patch` on that one ConfigMap.
 */
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

export interface KubeClient {
  readPod(namespace: string, name: string, timeoutMs: number): Promise<unknown>;
  /** JSON merge patch `{"data": {key: value}}`: touches no other key of the ConfigMap. */
  mergePatchConfigMapKey(
    namespace: string,
    name: string,
    key: string,
    value: string,
    timeoutMs: number,
  ): Promise<void>;
}

export function kubeClient(): KubeClient {
  const config = new KubeConfig();
  config.loadFromDefault();
  const core = config.makeApiClient(CoreV1Api);
  return {
    readPod: (namespace, name, timeoutMs) =>
      withTimeout(
        core.readNamespacedPod({ name, namespace }),
        timeoutMs,
        `reading pod ${namespace}/${name}`,
      ).catch((error: unknown) => {
        throw describe(error, `reading pod ${namespace}/${name}`, 'get pods');
      }),
    mergePatchConfigMapKey: async (namespace, name, key, value, timeoutMs) => {
      const what = `patching configmap ${namespace}/${name}`;
      await withTimeout(
        core.patchNamespacedConfigMap(
          { name, namespace, body: { data: { [key]: value } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
        timeoutMs,
        what,
      ).catch((error: unknown) => {
        throw describe(error, what, `patch configmaps/${name}`);
      });
    },
  };
}

/** 4xx answers (except 408/429) will not change on retry. */
export function isPermanentKubeError(error: unknown): boolean {
  return (
    error instanceof KubeApiError &&
    error.code >= 400 &&
    error.code < 500 &&
    error.code !== 408 &&
    error.code !== 429
  );
}

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

function describe(error: unknown, what: string, permission: string): Error {
  if (error instanceof ApiException) {
    const code = error.code;
    const hint =
      code === 403
        ? ` (forbidden: the exporter's ServiceAccount needs "${permission}")`
        : code === 404
          ? ' (not found)'
          : '';
    return new KubeApiError(code, `${what}: HTTP ${code}${hint}`);
  }
  return error instanceof Error
    ? new Error(`${what}: ${error.message}`)
    : new Error(`${what}: ${String(error)}`);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
