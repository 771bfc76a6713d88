/**
 * The fleet namespace, with Pod Security Admission labels that match what the pods need:
 * - with the rootless BuildKit sidecar (the one PSS exception) the namespace must `enforce`
 *   `privileged` (even `baseline` forbids Unconfined seccomp/AppArmor), and `warn`/`audit` stay
 *   `restricted` so that anything else that is not restricted is still reported;
 * - with a remote BuildKit every pod is `restricted`, and the namespace enforces it;
 * - so does the namespace of a cluster that runs no Copa jobs (a workload cluster of a
 *   multi-cluster fleet, or the global layer's).
 * Keep the namespace dedicated to copa-fleet. Drop namespace.k8s.yaml if you manage namespaces
 * elsewhere, but keep these labels (docs/deploying.md).
 */
import { JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { Fleet } from '../model/fleet.ts';
import { buildkitMode } from '../model/patch-run.ts';
import { appLabels } from './labels.ts';

/** Kubernetes version the PSA labels refer to: always the cluster's own. */
const PSA_VERSION = 'latest';

export function podSecurityLabels(fleet: Fleet, runsCopaJobs = true): Record<string, string> {
  const enforce =
    runsCopaJobs && buildkitMode(fleet).mode === 'sidecar' ? 'privileged' : 'restricted';
  return {
    'pod-security.kubernetes.io/enforce': enforce,
    'pod-security.kubernetes.io/enforce-version': PSA_VERSION,
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': PSA_VERSION,
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/audit-version': PSA_VERSION,
  };
}

export class FleetNamespace extends Construct {
  /** `runsCopaJobs`: default true; false where no Copa job (hence no BuildKit sidecar) runs. */
  constructor(
    scope: Construct,
    id: string,
    props: { readonly fleet: Fleet; readonly runsCopaJobs?: boolean },
  ) {
    super(scope, id);
    const namespace = new k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: props.fleet.namespace,
        labels: {
          ...appLabels('namespace'),
          ...podSecurityLabels(props.fleet, props.runsCopaJobs ?? true),
        },
      },
    });
    namespace.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }
}
