/** The generated Pushgateway, the fleet namespace's Pod Security labels and the trivy-operator values. */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PUSHGATEWAY_NAME, PUSHGATEWAY_PORT, pushgatewayServiceUrl } from '../../src/constructs/names.ts';
import { windowHours } from '../../src/model/schedule.ts';
import { TRIVY_OPERATOR_VALUES_PATH } from '../../src/outputs/trivy-operator-values.ts';
import { EXTERNAL_PUSHGATEWAY, FULL, find, MINIMAL, REMOTE_BUILDKIT, render } from '../support/fleet-fixtures.ts';

type Json = Record<string, any>;

describe('Pushgateway', () => {
  const { objects } = render(MINIMAL);

  it('runs one replica with its metrics scraped with honorLabels', () => {
    const deployment = find(objects, 'Deployment', PUSHGATEWAY_NAME) as Json;
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
    const [container] = deployment.spec.template.spec.containers;
    expect(container.ports).toEqual([{ name: 'http', containerPort: PUSHGATEWAY_PORT, protocol: 'TCP' }]);
    const monitor = find(objects, 'ServiceMonitor', PUSHGATEWAY_NAME) as Json;
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', honorLabels: true }]);
    expect(monitor.metadata.labels.release).toBe('kube-prometheus-stack');
  });

  it('persists its groups to a file on a PersistentVolumeClaim, replaced (never doubled) on rollout', () => {
    const deployment = find(objects, 'Deployment', PUSHGATEWAY_NAME) as Json;
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.args).toEqual(['--web.listen-address=:9091', '--persistence.file=/data/pushgateway.store', '--persistence.interval=1m']);
    expect(container.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: PUSHGATEWAY_NAME } }]);
    // The claim is writable by the non-root uid through the pod's fsGroup.
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsUser);
    const claim = find(objects, 'PersistentVolumeClaim', PUSHGATEWAY_NAME) as Json;
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  });

  it('takes the claim size, storage class and persistence interval from the inventory', () => {
    const { objects: custom } = render({ ...MINIMAL, defaults: { pushgateway: { persistence: { size: '256Mi', storageClassName: 'fast-ssd', interval: '30s' } } } });
    const claim = find(custom, 'PersistentVolumeClaim', PUSHGATEWAY_NAME) as Json;
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '256Mi' } } });
    const [container] = (find(custom, 'Deployment', PUSHGATEWAY_NAME) as Json).spec.template.spec.containers;
    expect(container.args).toContain('--persistence.interval=30s');
  });

  it('is what the exporters push to, by its Service name', () => {
    const service = find(objects, 'Service', PUSHGATEWAY_NAME) as Json;
    expect(service.spec.ports[0].port).toBe(PUSHGATEWAY_PORT);
    expect(pushgatewayServiceUrl('copa-fleet')).toBe(`http://${service.metadata.name}.copa-fleet.svc:${PUSHGATEWAY_PORT}`);
  });

  it('is not generated when the inventory points at an existing one', () => {
    const { objects: external } = render(EXTERNAL_PUSHGATEWAY);
    expect(external.filter(({ object }) => object.metadata.name === PUSHGATEWAY_NAME)).toEqual([]);
  });
});

describe('fleet namespace', () => {
  it('enforces privileged only while the rootless BuildKit sidecar exists, and always warns/audits restricted', () => {
    const sidecar = find(render(MINIMAL).objects, 'Namespace', 'copa-fleet') as Json;
    expect(sidecar.metadata.namespace).toBeUndefined();
    expect(sidecar.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'privileged',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    const remote = find(render(REMOTE_BUILDKIT).objects, 'Namespace', 'copa-fleet') as Json;
    expect(remote.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('is the namespace of every namespaced object', () => {
    const { objects } = render(FULL);
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    for (const { object } of objects) {
      if (clusterScoped.has(object.kind)) expect(object.metadata.namespace).toBeUndefined();
      else expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe('patching');
    }
  });
});

describe('trivy-operator values', () => {
  const valuesOf = (files: ReturnType<typeof render>['files']): Json => parse(files.find((f) => f.path === TRIVY_OPERATOR_VALUES_PATH)?.content ?? '') as Json;

  it('watch every namespace, turn the per-CVE metric off and enable the ServiceMonitor with honorLabels', () => {
    const values = valuesOf(render(MINIMAL).files);
    expect(values).toEqual({
      targetNamespaces: '',
      excludeNamespaces: '',
      operator: { scannerReportTTL: '28h', metricsVulnIdEnabled: false },
      serviceMonitor: { enabled: true, honorLabels: true, labels: { release: 'kube-prometheus-stack' } },
    });
  });

  it('take the report TTL and ServiceMonitor labels from the inventory', () => {
    const values = valuesOf(render(FULL).files);
    expect(values.operator.scannerReportTTL).toBe('30h');
    expect(values.serviceMonitor.labels).toEqual({ release: 'prom', team: 'platform' });
  });

  it('derive the default TTL from the patch window, wrapping past midnight', () => {
    expect(windowHours('01:00', '05:00')).toBe(4);
    expect(windowHours('22:00', '02:00')).toBe(4);
    expect(windowHours('01:00', '01:30')).toBe(1);
    expect(windowHours('03:00', '03:00')).toBe(24);
  });
});
