/**
 * Who may reach a metrics endpoint: a NetworkPolicy per scrape target that admits Prometheus (the
 * inventory's `networkPolicies.prometheus` selectors) and the writers the target exists for, and
 * nothing else. Ingress only: a NetworkPolicy that selects a pod denies every other inbound
 * connection to it (networking.k8s.io/v1 semantics), which is exactly the point here. Enforcement
 * needs a CNI that implements NetworkPolicy (Calico, Cilium, ...); elsewhere the objects are inert.
 *
 * Kubelet probes come from the node, which common CNIs (Calico, Cilium) always admit to local
 * pods; the policies name no node ranges on purpose.
 */
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { Fleet } from '../model/fleet.ts';

/** A peer inside the fleet namespace, selected by pod labels. */
export interface FleetPeer {
  readonly podLabels: Readonly<Record<string, string>>;
}

export interface MetricsNetworkPolicyProps {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The target's pods. */
  readonly selector: Readonly<Record<string, string>>;
  readonly port: number;
  /** Pods of the fleet namespace that may connect besides Prometheus (pushers, the cleanup). */
  readonly writers?: readonly FleetPeer[];
  readonly fleet: Fleet;
}

/** Adds the policy, or nothing when `networkPolicies.enabled` is false. */
export function metricsNetworkPolicy(
  scope: Construct,
  id: string,
  props: MetricsNetworkPolicyProps,
): void {
  const { enabled, prometheus } = props.fleet.inventory.networkPolicies;
  if (!enabled) return;
  const scraper: k8s.NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { ...prometheus.namespaceSelector } },
    podSelector: { matchLabels: { ...prometheus.podSelector } },
  };
  // A peer with only a podSelector means "pods of this policy's namespace" (the fleet namespace).
  const writers = (props.writers ?? []).map((writer): k8s.NetworkPolicyPeer => ({
    podSelector: { matchLabels: { ...writer.podLabels } },
  }));
  new k8s.KubeNetworkPolicy(scope, id, {
    metadata: { name: props.name, labels: { ...props.labels } },
    spec: {
      podSelector: { matchLabels: { ...props.selector } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [scraper, ...writers],
          ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(props.port) }],
        },
      ],
    },
  });
}
