/** The validator the all-objects tests rely on must reject what it claims to reject. */
import { describe, expect, it } from 'vitest';
import { k8sProblems } from '../support/k8s-validate.ts';

const configMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'x' },
  data: { a: 'b' },
};
const cronJob = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'x' },
  spec: {
    schedule: '0 1 * * *',
    jobTemplate: {
      spec: {
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } },
      },
    },
  },
};

describe('k8sProblems', () => {
  it('accepts valid objects', () => {
    expect(k8sProblems(configMap)).toEqual([]);
    expect(k8sProblems(cronJob)).toEqual([]);
    expect(
      k8sProblems({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'x' },
        spec: { selector: {}, endpoints: [{ port: 'http' }] },
      }),
    ).toEqual([]);
  });

  it('rejects an unknown kind instead of passing it', () => {
    expect(
      k8sProblems({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: {} }),
    ).toEqual([expect.stringMatching(/no schema known for v1\/Secret/)]);
    expect(
      k8sProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } })[0],
    ).toMatch(/no schema known/);
  });

  it('rejects a wrong type', () => {
    expect(k8sProblems({ ...configMap, data: { a: 1 } })[0]).toMatch(/schema: .*must be string/);
  });

  it('rejects an unknown field anywhere in a built-in kind', () => {
    const typo = structuredClone(cronJob) as typeof cronJob & Record<string, unknown>;
    (
      typo.spec.jobTemplate.spec.template.spec.containers[0] as Record<string, unknown>
    ).securityContex = {};
    expect(k8sProblems(typo)).toEqual([
      'unknown field .spec.jobTemplate.spec.template.spec.containers[0].securityContex',
    ]);
  });

  it('rejects a wrong type in a monitoring.coreos.com kind', () => {
    const problems = k8sProblems({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'x' },
      spec: { selector: {}, endpoints: [{ port: 'http', honorLabels: 'yes' }] },
    });
    expect(problems[0]).toMatch(/honorLabels must be boolean/);
  });
});
