/**
 * The naive lister (bench only; bundled and run as its own process by naive-relist.ts): every
 * period, list every Pod and every VulnerabilityReport in full with @kubernetes/client-node's list
 * APIs (typed Pod models, the reports as the CRD's JSON), join them, keep nothing in between.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

export interface ListTiming {
  readonly podsMs: number;
  readonly reportsMs: number;
  readonly joinMs: number;
}

/** One full re-list and a join of running digests with report digests (what the metrics need). */
async function relist(core: CoreV1Api, custom: CustomObjectsApi): Promise<ListTiming> {
  const t0 = performance.now();
  const pods = await core.listPodForAllNamespaces({});
  const t1 = performance.now();
  const reports = (await custom.listClusterCustomObject({
    group: 'aquasecurity.github.io',
    version: 'v1alpha1',
    plural: 'vulnerabilityreports',
  })) as {
    items: {
      report?: {
        artifact?: { digest?: string };
        vulnerabilities?: { vulnerabilityID: string; severity: string }[];
      };
    }[];
  };
  const t2 = performance.now();
  const byDigest = new Map<string, number>();
  for (const r of reports.items) {
    const critical = (r.report?.vulnerabilities ?? []).filter(
      (v) => v.severity === 'CRITICAL',
    ).length;
    byDigest.set(r.report?.artifact?.digest ?? '', critical);
  }
  let exposed = 0;
  for (const pod of pods.items) {
    for (const status of pod.status?.containerStatuses ?? []) {
      const digest = status.imageID.slice(status.imageID.indexOf('@') + 1);
      if ((byDigest.get(digest) ?? 0) > 0) exposed++;
    }
  }
  if (exposed < 0) throw new Error('unreachable');
  return { podsMs: t1 - t0, reportsMs: t2 - t1, joinMs: performance.now() - t2 };
}

/** Child-process entry: KUBECONFIG from the environment; prints one JSON line per list. */
export async function naiveMain(lists: number): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (let i = 0; i < lists; i++)
    process.stdout.write(`${JSON.stringify(await relist(core, custom))}\n`);
}
