/**
 * The generated NetworkPolicies, evaluated with NetworkPolicy semantics against the pods synth
 * itself generates: who can push to (or delete from) the Pushgateway, and who can scrape it and
 * the collector. Connections are checked from the real pod templates' labels, so a label change
 * that silently unselects a pod fails here.
 */
import { describe, expect, it } from 'vitest';
import { COLLECTOR_NAME, PUSHGATEWAY_NAME, PUSHGATEWAY_PORT } from '../../src/constructs/names.ts';
import { COLLECTOR_PORT } from '../../src/shared/contract.ts';
import { FULL, MINIMAL, render } from '../support/fleet-fixtures.ts';
import { type Endpoint, ingressAllowed } from '../support/network-policy.ts';
import { allOfKind, findKind, podLabelsOf } from '../support/rendered-kinds.ts';
const inNamespace =
  (namespace: string) =>
  (podLabels: Record<string, string>): Endpoint => ({
    namespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
    podLabels,
  });

/** kube-prometheus-stack's Prometheus pod in the `monitoring` namespace. */
const PROMETHEUS: Endpoint = {
  namespace: 'monitoring',
  namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
  podLabels: {
    'app.kubernetes.io/name': 'prometheus',
    'app.kubernetes.io/instance': 'kube-prometheus-stack-prometheus',
    prometheus: 'kube-prometheus-stack-prometheus',
  },
};

describe('NetworkPolicies', () => {
  const { objects: rendered, fleet } = render(FULL);
  const inFleet = inNamespace(fleet.namespace);
  const objects = rendered.map(({ object }) => object);
  const podOf = (kind: 'CronJob' | 'Deployment', name: string): Endpoint =>
    inFleet(podLabelsOf(findKind(rendered, kind, name)));
  const pushgateway = podOf('Deployment', PUSHGATEWAY_NAME);
  const collector = podOf('Deployment', COLLECTOR_NAME);
  const jobPods = allOfKind(rendered, 'CronJob').map((cronJob) => inFleet(podLabelsOf(cronJob)));

  it('let every Copa job pod push to the Pushgateway, and the collector delete removed groups', () => {
    expect(jobPods.length).toBeGreaterThan(1);
    for (const jobPod of jobPods)
      expect(ingressAllowed(objects, jobPod, pushgateway, PUSHGATEWAY_PORT)).toBe(true);
    expect(ingressAllowed(objects, collector, pushgateway, PUSHGATEWAY_PORT)).toBe(true);
  });

  it('refuse pushes from any other pod, in the fleet namespace or elsewhere', () => {
    expect(
      ingressAllowed(objects, inFleet({ app: 'debug-shell' }), pushgateway, PUSHGATEWAY_PORT),
    ).toBe(false);
    const lookalike: Endpoint = {
      namespace: 'ci',
      namespaceLabels: { 'kubernetes.io/metadata.name': 'ci' },
      podLabels: jobPods[0]!.podLabels,
    };
    expect(ingressAllowed(objects, lookalike, pushgateway, PUSHGATEWAY_PORT)).toBe(false);
    expect(ingressAllowed(objects, lookalike, collector, COLLECTOR_PORT)).toBe(false);
  });

  it('let only the named Prometheus scrape the Pushgateway and the collector', () => {
    expect(ingressAllowed(objects, PROMETHEUS, pushgateway, PUSHGATEWAY_PORT)).toBe(true);
    expect(ingressAllowed(objects, PROMETHEUS, collector, COLLECTOR_PORT)).toBe(true);
    const otherPrometheus: Endpoint = {
      ...PROMETHEUS,
      namespace: 'team-a',
      namespaceLabels: { 'kubernetes.io/metadata.name': 'team-a' },
    };
    expect(ingressAllowed(objects, otherPrometheus, collector, COLLECTOR_PORT)).toBe(false);
    expect(
      ingressAllowed(
        objects,
        { ...PROMETHEUS, podLabels: { 'app.kubernetes.io/name': 'grafana' } },
        pushgateway,
        PUSHGATEWAY_PORT,
      ),
    ).toBe(false);
    // The collector's metrics are read by Prometheus only: a job pod has no business there.
    expect(ingressAllowed(objects, jobPods[0]!, collector, COLLECTOR_PORT)).toBe(false);
  });

  it("follow the inventory's Prometheus selectors", () => {
    const custom = render({
      ...MINIMAL,
      networkPolicies: {
        prometheus: {
          namespaceSelector: { 'kubernetes.io/metadata.name': 'observability' },
          podSelector: { 'app.kubernetes.io/name': 'vmagent' },
        },
      },
    }).objects.map(({ object }) => object);
    const vmagent: Endpoint = {
      namespace: 'observability',
      namespaceLabels: { 'kubernetes.io/metadata.name': 'observability' },
      podLabels: { 'app.kubernetes.io/name': 'vmagent' },
    };
    const target = inNamespace(render(MINIMAL).fleet.namespace)(
      podLabelsOf(findKind(render(MINIMAL).objects, 'Deployment', COLLECTOR_NAME)),
    );
    expect(ingressAllowed(custom, vmagent, target, COLLECTOR_PORT)).toBe(true);
    expect(ingressAllowed(custom, PROMETHEUS, target, COLLECTOR_PORT)).toBe(false);
  });

  it('are not generated with networkPolicies.enabled: false (then everything is admitted)', () => {
    const open = render({ ...MINIMAL, networkPolicies: { enabled: false } }).objects.map(
      ({ object }) => object,
    );
    expect(open.filter((object) => object.kind === 'NetworkPolicy')).toEqual([]);
    expect(
      ingressAllowed(open, inFleet({ app: 'debug-shell' }), pushgateway, PUSHGATEWAY_PORT),
    ).toBe(true);
  });
});
