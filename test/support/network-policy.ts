/**
 * NetworkPolicy semantics (networking.k8s.io/v1), for the ingress rules copa-fleet generates:
 * a pod selected by no policy admits everything; a pod selected by one or more Ingress policies
 * admits a connection when any rule of any of them matches both the peer and the port. Peers use
 * `matchLabels` only (the generated policies use nothing else; anything more is refused here).
 */
import type { K8sObject } from './k8s-validate.ts';

export interface Endpoint {
  readonly namespace: string;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly podLabels: Readonly<Record<string, string>>;
}

type Labels = Readonly<Record<string, string>>;
interface Selector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: unknown;
}
interface Peer {
  readonly podSelector?: Selector;
  readonly namespaceSelector?: Selector;
  readonly ipBlock?: unknown;
}
interface Policy {
  readonly metadata: { readonly namespace: string };
  readonly spec: {
    readonly podSelector: Selector;
    readonly policyTypes?: readonly string[];
    readonly ingress?: readonly {
      readonly from?: readonly Peer[];
      readonly ports?: readonly { readonly port?: number | string; readonly protocol?: string }[];
    }[];
  };
}

function matches(selector: Selector | undefined, labels: Labels): boolean {
  if (selector === undefined) return true;
  if (selector.matchExpressions !== undefined)
    throw new Error('matchExpressions are not evaluated here');
  return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

function peerMatches(peer: Peer, policyNamespace: string, from: Endpoint): boolean {
  if (peer.ipBlock !== undefined) throw new Error('ipBlock peers are not evaluated here');
  // No namespaceSelector: the policy's own namespace. An empty namespaceSelector: every namespace.
  const namespaceOk =
    peer.namespaceSelector === undefined
      ? from.namespace === policyNamespace
      : matches(peer.namespaceSelector, from.namespaceLabels);
  return namespaceOk && matches(peer.podSelector, from.podLabels);
}

/** Whether `from` may open a TCP connection to `port` of the pod `to` under `objects`' NetworkPolicies. */
export function ingressAllowed(
  objects: readonly K8sObject[],
  from: Endpoint,
  to: Endpoint,
  port: number,
): boolean {
  const policies = (
    objects.filter((object) => object.kind === 'NetworkPolicy') as unknown as Policy[]
  ).filter(
    (policy) =>
      policy.metadata.namespace === to.namespace &&
      (policy.spec.policyTypes ?? ['Ingress']).includes('Ingress') &&
      matches(policy.spec.podSelector, to.podLabels),
  );
  if (policies.length === 0) return true;
  return policies.some((policy) =>
    (policy.spec.ingress ?? []).some(
      (rule) =>
        (rule.from === undefined ||
          rule.from.some((peer) => peerMatches(peer, policy.metadata.namespace, from))) &&
        (rule.ports === undefined ||
          rule.ports.some(
            (p) => (p.protocol ?? 'TCP') === 'TCP' && (p.port === undefined || p.port === port),
          )),
    ),
  );
}
