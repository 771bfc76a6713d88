/** The generated Pushgateway, the fleet namespace's Pod Security labels and the trivy-operator values. */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  PUSHGATEWAY_NAME,
  PUSHGATEWAY_PORT,
  pushgatewayServiceUrl,
} from '../../src/constructs/names.ts';
import { windowHours } from '../../src/model/schedule.ts';
import { TRIVY_OPERATOR_VALUES_PATH } from '../../src/outputs/trivy-operator-values.ts';
import {
  EXTERNAL_PUSHGATEWAY,
  FULL,
  MINIMAL,
  REMOTE_BUILDKIT,
  render,
} from '../support/fleet-fixtures.ts';
import { findKind, podSpecOf } from '../support/rendered-kinds.ts';

/** The parts of the trivy-operator chart values these tests read. */
interface TrivyOperatorValues {
  readonly operator: { readonly scannerReportTTL: string };
  readonly serviceMonitor: { readonly labels: Record<string, string> };
}

describe('Pushgateway', () => {
  const { objects } = render(MINIMAL);

  it('runs one replica with its metrics scraped with honorLabels', () => {
    const deployment = findKind(objects, 'Deployment', PUSHGATEWAY_NAME);
    expect(deployment.spec?.replicas).toBe(1);
    expect(podSpecOf(deployment).automountServiceAccountToken).toBe(false);
    const [container] = podSpecOf(deployment).containers;
    expect(container?.ports).toEqual([
      { name: 'http', containerPort: PUSHGATEWAY_PORT, protocol: 'TCP' },
    ]);
    const monitor = findKind(objects, 'ServiceMonitor', PUSHGATEWAY_NAME);
    // basicAuth: test/constructs/pushgateway-auth.test.ts.
    expect(monitor.spec.endpoints).toMatchObject([
      { port: 'http', path: '/metrics', honorLabels: true },
    ]);
    expect(monitor.metadata?.labels?.release).toBe('kube-prometheus-stack');
  });

  it('persists its groups to a file on a PersistentVolumeClaim, replaced (never doubled) on rollout', () => {
    const deployment = findKind(objects, 'Deployment', PUSHGATEWAY_NAME);
    expect(deployment.spec?.strategy).toEqual({ type: 'Recreate' });
    const pod = podSpecOf(deployment);
    const [container] = pod.containers;
    // The web config (authentication on by default) is test/constructs/pushgateway-auth.test.ts's.
    expect(container?.args).toEqual([
      '--web.listen-address=:9091',
      '--persistence.file=/data/pushgateway.store',
      '--persistence.interval=1m',
      '--web.config.file=/etc/pushgateway/web/web-config.yml',
    ]);
    expect(container?.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod.volumes).toContainEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: PUSHGATEWAY_NAME },
    });
    // The claim is writable by the non-root uid through the pod's fsGroup.
    expect(pod.securityContext?.fsGroup).toBe(pod.securityContext?.runAsUser);
    expect(pod.securityContext?.fsGroup).toBeDefined();
    const claim = findKind(objects, 'PersistentVolumeClaim', PUSHGATEWAY_NAME);
    expect(claim.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    });
  });

  it('takes the claim size, storage class and persistence interval from the inventory', () => {
    const { objects: custom } = render({
      ...MINIMAL,
      defaults: {
        pushgateway: {
          persistence: { size: '256Mi', storageClassName: 'fast-ssd', interval: '30s' },
        },
      },
    });
    const claim = findKind(custom, 'PersistentVolumeClaim', PUSHGATEWAY_NAME);
    expect(claim.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'fast-ssd',
      resources: { requests: { storage: '256Mi' } },
    });
    const [container] = podSpecOf(findKind(custom, 'Deployment', PUSHGATEWAY_NAME)).containers;
    expect(container?.args).toContain('--persistence.interval=30s');
  });

  it('is what the exporters push to, by its Service name', () => {
    const service = findKind(objects, 'Service', PUSHGATEWAY_NAME);
    expect(service.spec?.ports?.[0]?.port).toBe(PUSHGATEWAY_PORT);
    expect(pushgatewayServiceUrl('copa-fleet')).toBe(
      `http://${service.metadata?.name ?? ''}.copa-fleet.svc:${PUSHGATEWAY_PORT}`,
    );
  });

  it('is not generated when the inventory points at an existing one', () => {
    const { objects: external } = render(EXTERNAL_PUSHGATEWAY);
    expect(external.filter(({ object }) => object.metadata.name === PUSHGATEWAY_NAME)).toEqual([]);
  });
});

describe('fleet namespace', () => {
  it('enforces privileged only while the rootless BuildKit sidecar exists, and always warns/audits restricted', () => {
    const sidecar = findKind(render(MINIMAL).objects, 'Namespace', 'copa-fleet');
    expect(sidecar.metadata?.namespace).toBeUndefined();
    expect(sidecar.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'privileged',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    const remote = findKind(render(REMOTE_BUILDKIT).objects, 'Namespace', 'copa-fleet');
    expect(remote.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('is the namespace of every namespaced object', () => {
    const { objects } = render(FULL);
    const clusterScoped = new Set([
      'Namespace',
      'ClusterRole',
      'ClusterRoleBinding',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const { object } of objects) {
      if (clusterScoped.has(object.kind)) expect(object.metadata.namespace).toBeUndefined();
      else
        expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(
          'patching',
        );
    }
  });
});

describe('trivy-operator values', () => {
  const valuesOf = (files: ReturnType<typeof render>['files']): TrivyOperatorValues =>
    parse(
      files.find((f) => f.path === TRIVY_OPERATOR_VALUES_PATH)?.content ?? '',
    ) as TrivyOperatorValues;

  it('watch every namespace, turn the per-CVE metric off and enable the ServiceMonitor with honorLabels', () => {
    const values = valuesOf(render(MINIMAL).files);
    expect(values).toEqual({
      targetNamespaces: '',
      excludeNamespaces: '',
      operator: { scannerReportTTL: '28h', metricsVulnIdEnabled: false },
      serviceMonitor: {
        enabled: true,
        honorLabels: true,
        labels: { release: 'kube-prometheus-stack' },
      },
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
