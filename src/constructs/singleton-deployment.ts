/**
 * A Deployment of exactly one pod that is never doubled, not even during a rollout (`Recreate`):
 * both of our long-running components hold state two replicas would split or fight over (the drift
 * collector writes the SLA clock, the Pushgateway keeps the pushed groups). Restricted pod and
 * container security contexts, no service links.
 */
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import { restrictedPodSecurityContext, restrictedSecurityContext } from './security.ts';

export interface SingletonDeploymentProps {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  /** The non-root uid of the pod and its container. */
  readonly uid: number;
  /** Only for a component that calls the Kubernetes API: its token is mounted then, never otherwise. */
  readonly serviceAccountName?: string;
  /** The one container, without its security context (always the restricted one). */
  readonly container: Omit<k8s.Container, 'securityContext'>;
  /** Pod volumes, mounted by the container (the fsGroup makes them writable for the uid). */
  readonly volumes?: readonly k8s.Volume[];
}

export function singletonDeployment(
  scope: Construct,
  id: string,
  props: SingletonDeploymentProps,
): k8s.KubeDeployment {
  const { name, labels, selector, uid, serviceAccountName, container, volumes } = props;
  return new k8s.KubeDeployment(scope, id, {
    metadata: { name, labels: { ...labels } },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 3,
      selector: { matchLabels: { ...selector } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          ...(serviceAccountName !== undefined && { serviceAccountName }),
          automountServiceAccountToken: serviceAccountName !== undefined,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurityContext(uid),
          containers: [{ ...container, securityContext: restrictedSecurityContext(uid) }],
          ...(volumes !== undefined && volumes.length > 0 && { volumes: [...volumes] }),
        },
      },
    },
  });
}
