/** The drift collector: Deployment, RBAC (exact rules), inventory and state ConfigMaps, scrape wiring. */
import { describe, expect, it } from 'vitest';
import { collectorInventory } from '../../src/constructs/collector-inventory.ts';
import { COLLECTOR_NAME, collectorClusterRoleName } from '../../src/constructs/names.ts';
import {
  COLLECTOR_PORT,
  CONFIGMAPS,
  type CollectorInventory,
  INVENTORY_CONFIGMAP_KEY,
  parseCollectorArgs,
  PUSHGATEWAY_CREDENTIALS_DIR,
  RUNTIME_BIN,
  STATE_SHARDS,
} from '../../src/shared/contract.ts';
import { JOBS } from '../../src/shared/metrics.ts';
import { EXTERNAL_PUSHGATEWAY, FULL, MINIMAL, render } from '../support/fleet-fixtures.ts';
import { findKind, podLabelsOf, podSpecOf } from '../support/rendered-kinds.ts';

/** A selector that is absent matches nothing here: every generated selector must be explicit. */
const matches = (
  selector: Record<string, string> | undefined,
  labels: Record<string, string> = {},
): boolean => selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('drift collector', () => {
  const { fleet, objects, files } = render(FULL);
  const deployment = findKind(objects, 'Deployment', COLLECTOR_NAME);
  const pod = podSpecOf(deployment);
  const [collector] = pod.containers;
  if (collector === undefined) throw new Error('the collector Deployment has no container');

  it('lives in drift-collector.k8s.yaml', () => {
    const file = files.find((f) => f.path === 'drift-collector.k8s.yaml');
    expect(file?.content).toContain(`name: ${COLLECTOR_NAME}`);
  });

  it('runs one replica that is replaced, never doubled, during a rollout', () => {
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.spec?.strategy).toEqual({ type: 'Recreate' });
    expect(matches(deployment.spec?.selector.matchLabels, podLabelsOf(deployment))).toBe(true);
  });

  it('runs the collector with arguments the runtime parses back', () => {
    expect(pod.containers).toHaveLength(1);
    expect(collector.command).toEqual([RUNTIME_BIN.collector]);
    expect(parseCollectorArgs(collector.args ?? [])).toEqual({
      namespace: 'patching',
      inventoryConfigMap: CONFIGMAPS.inventory,
      digestStore: CONFIGMAPS.patchedDigests,
      stateConfigMap: CONFIGMAPS.collectorState,
      port: COLLECTOR_PORT,
      // The generated Pushgateway is ours alone: its stale groups are cleaned up after 7 days by default.
      pushgatewayUrl: 'http://copa-fleet-pushgateway.patching.svc:9091',
      pushgatewayCleanupGraceSeconds: 7 * 86_400,
      // ...with its own credential (authentication on by default for the generated Pushgateway).
      pushgatewayCredentialsDir: PUSHGATEWAY_CREDENTIALS_DIR,
    });
    expect(collector.ports).toEqual([
      { name: 'metrics', containerPort: COLLECTOR_PORT, protocol: 'TCP' },
    ]);
    expect(collector.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(collector.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(pod.serviceAccountName).toBe(COLLECTOR_NAME);
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  it('reads exactly pods and VulnerabilityReports cluster-wide, list/watch only', () => {
    const name = collectorClusterRoleName('patching');
    const role = findKind(objects, 'ClusterRole', name);
    expect(role.metadata?.namespace).toBeUndefined();
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
      {
        apiGroups: ['aquasecurity.github.io'],
        resources: ['vulnerabilityreports'],
        verbs: ['list', 'watch'],
      },
    ]);
    const binding = findKind(objects, 'ClusterRoleBinding', name);
    expect(binding.metadata?.namespace).toBeUndefined();
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: COLLECTOR_NAME, namespace: 'patching' },
    ]);
  });

  it("reads jobs and the fleet namespace's ConfigMaps (the digest records are found by label), and writes only its state shards", () => {
    const role = findKind(objects, 'Role', COLLECTOR_NAME);
    expect(role.metadata?.namespace).toBe('patching');
    const state = [
      CONFIGMAPS.collectorState,
      ...Array.from(
        { length: STATE_SHARDS },
        (_, i) => `${CONFIGMAPS.collectorState}-${String(i).padStart(2, '0')}`,
      ),
    ];
    expect(role.rules).toEqual([
      { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: state, verbs: ['get', 'patch'] },
      // Kubernetes cannot scope a create by name: it cannot read or change an existing object.
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    ]);
    const rules = role.rules ?? [];
    const updates = rules.filter((r) =>
      r.verbs.some((v) => ['update', 'patch', 'delete', 'deletecollection'].includes(v)),
    );
    expect(updates.flatMap((r) => r.resourceNames)).toEqual(state);
    const unscoped = rules.filter(
      (r) => r.resources?.includes('configmaps') && r.resourceNames === undefined,
    );
    expect(unscoped.flatMap((r) => r.verbs)).toEqual(['list', 'watch', 'create']);
  });

  it('gets the inventory it needs as deterministic JSON', () => {
    const configMap = findKind(objects, 'ConfigMap', CONFIGMAPS.inventory);
    const parsed = JSON.parse(
      configMap.data?.[INVENTORY_CONFIGMAP_KEY] ?? '',
    ) as CollectorInventory;
    expect(parsed).toEqual(collectorInventory(fleet));
    expect(parsed.images.map((i) => i.cronjob)).toEqual(
      [...fleet.images.map((i) => i.name)].sort(),
    );
    expect(parsed.severitiesInScope).toEqual(['Critical', 'High']);
    // Single-cluster: no multiCluster key at all (absent = off), so the collector exports no per-digest family.
    expect(Object.keys(parsed)).not.toContain('multiCluster');
    const api = parsed.images.find((i) => i.image === 'registry.example.com/shop/api');
    expect(api).toMatchObject({
      tag: 'v2.3.0',
      patchedTag: 'v2.3.0-p',
      slaHours: { Critical: 8, High: 168 },
    });
    expect(Object.keys(api?.slaHours ?? {})).toEqual(['Critical', 'High']);
  });

  it("mounts no Secret without a silence watch, and each Alertmanager's bearer token and CA bundle where the inventory names them", () => {
    // Only the Pushgateway credential of the cleanup (test/constructs/pushgateway-auth.test.ts).
    expect(pod.volumes?.map((v) => v.name)).toEqual(['pushgateway-credentials']);
    expect(collector.volumeMounts?.map((m) => m.name)).toEqual(['pushgateway-credentials']);
    const silenceWatch = {
      alertmanagers: [
        { url: 'http://alertmanager-operated.monitoring.svc:9093' },
        {
          url: 'https://grafana.example.com/api/alertmanager/grafana',
          bearerToken: { name: 'grafana-sa', key: 'token' },
          ca: { name: 'grafana-ca', key: 'ca.pem' },
        },
        { url: 'https://am.example.com', ca: { name: 'am-ca', key: 'ca.crt' } },
      ],
    };
    // Both kinds of volumes side by side.
    const both = podSpecOf(
      findKind(
        render({ ...MINIMAL, alerting: { silenceWatch } }).objects,
        'Deployment',
        COLLECTOR_NAME,
      ),
    );
    expect(both.volumes?.map((v) => v.name)).toEqual([
      'alertmanager-1',
      'alertmanager-2',
      'pushgateway-credentials',
    ]);
    expect(both.containers[0]?.volumeMounts?.map((m) => m.name)).toEqual([
      'alertmanager-1',
      'alertmanager-2',
      'pushgateway-credentials',
    ]);
    const watched = render({
      ...MINIMAL,
      defaults: { pushgateway: { auth: { enabled: false } } },
      alerting: { silenceWatch },
    });
    const spec = podSpecOf(findKind(watched.objects, 'Deployment', COLLECTOR_NAME));
    expect(spec.volumes).toEqual([
      {
        name: 'alertmanager-1',
        projected: {
          defaultMode: 0o440,
          sources: [
            { secret: { name: 'grafana-sa', items: [{ key: 'token', path: 'token' }] } },
            { secret: { name: 'grafana-ca', items: [{ key: 'ca.pem', path: 'ca.crt' }] } },
          ],
        },
      },
      {
        name: 'alertmanager-2',
        projected: {
          defaultMode: 0o440,
          sources: [{ secret: { name: 'am-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }],
        },
      },
    ]);
    expect(spec.containers[0]?.volumeMounts).toEqual([
      { name: 'alertmanager-1', mountPath: '/etc/copa-fleet/alertmanagers/1', readOnly: true },
      { name: 'alertmanager-2', mountPath: '/etc/copa-fleet/alertmanagers/2', readOnly: true },
    ]);
    // The collector reads the files at the paths the inventory JSON names.
    const inventory = JSON.parse(
      findKind(watched.objects, 'ConfigMap', CONFIGMAPS.inventory).data?.[
        INVENTORY_CONFIGMAP_KEY
      ] ?? '',
    ) as CollectorInventory;
    expect(inventory.silenceWatch?.alertmanagers).toEqual([
      { url: 'http://alertmanager-operated.monitoring.svc:9093' },
      {
        url: 'https://grafana.example.com/api/alertmanager/grafana',
        bearerTokenFile: '/etc/copa-fleet/alertmanagers/1/token',
        caFile: '/etc/copa-fleet/alertmanagers/1/ca.crt',
      },
      { url: 'https://am.example.com', caFile: '/etc/copa-fleet/alertmanagers/2/ca.crt' },
    ]);
  });

  it('has a state ConfigMap without data (its SLA clock survives every apply)', () => {
    const state = findKind(objects, 'ConfigMap', CONFIGMAPS.collectorState);
    expect(state.data).toBeUndefined();
  });

  it('is scraped through its Service by a ServiceMonitor with the configured labels', () => {
    const service = findKind(objects, 'Service', COLLECTOR_NAME);
    expect(COLLECTOR_NAME).toBe(JOBS.collector); // the Service name is the Prometheus job label
    expect(matches(service.spec?.selector, podLabelsOf(deployment))).toBe(true);
    expect(service.spec?.ports).toEqual([
      { name: 'metrics', port: COLLECTOR_PORT, targetPort: COLLECTOR_PORT },
    ]);
    const monitor = findKind(objects, 'ServiceMonitor', COLLECTOR_NAME);
    expect(monitor.metadata?.labels).toMatchObject({ release: 'prom', team: 'platform' });
    expect(matches(monitor.spec.selector.matchLabels, service.metadata?.labels)).toBe(true);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ['patching'] });
    expect(monitor.spec.endpoints).toEqual([
      { port: 'metrics', path: '/metrics', honorLabels: true },
    ]);
    // The pushgateway Service must not be picked up by the collector's ServiceMonitor.
    const pushgatewayService = findKind(objects, 'Service', JOBS.pushgateway);
    expect(matches(monitor.spec.selector.matchLabels, pushgatewayService.metadata?.labels)).toBe(
      false,
    );
  });
});

describe('collector inventory', () => {
  it('tracks only the severities that have SLA hours', () => {
    const { fleet } = render(MINIMAL);
    expect(collectorInventory(fleet)).toEqual({
      namespace: 'copa-fleet',
      severitiesInScope: ['Critical', 'High'],
      images: [
        {
          image: 'registry.example.com/myapp',
          cronjob: fleet.images[0]?.name,
          team: 'platform',
          tag: '1.4.2',
          patchedTag: '1.4.2-patched',
          scheduleIntervalSeconds: 86400,
          slaHours: { Critical: 24, High: 168 },
          slaScope: 'fixable',
        },
      ],
      exceptions: [],
    });
  });
});

describe('drift collector: Pushgateway cleanup', () => {
  const argsOf = (input: Parameters<typeof render>[0]) => {
    const deployment = findKind(render(input).objects, 'Deployment', COLLECTOR_NAME);
    return parseCollectorArgs(podSpecOf(deployment).containers[0]?.args ?? []);
  };

  it('is off by default for a Pushgateway the user runs', () => {
    const options = argsOf(EXTERNAL_PUSHGATEWAY);
    expect(options.pushgatewayUrl).toBeUndefined();
    expect(options.pushgatewayCleanupGraceSeconds).toBeUndefined();
  });

  it("can be turned on for it, with its URL and the inventory's grace", () => {
    const input = {
      ...EXTERNAL_PUSHGATEWAY,
      defaults: {
        pushgateway: {
          deploy: false,
          url: 'http://pushgateway.monitoring.svc:9091',
          cleanup: { enabled: true, grace: '36h' },
        },
      },
    };
    expect(argsOf(input)).toMatchObject({
      pushgatewayUrl: 'http://pushgateway.monitoring.svc:9091',
      pushgatewayCleanupGraceSeconds: 36 * 3600,
    });
  });

  it('can be turned off for the generated one', () => {
    expect(
      argsOf({ ...MINIMAL, defaults: { pushgateway: { cleanup: { enabled: false } } } })
        .pushgatewayUrl,
    ).toBeUndefined();
  });
});
