/**
 * Checks over every object synth generates, for several inventories: OpenAPI schema of its kind,
 * Pod Security Standard `restricted` (with exactly one documented exception), labels, names,
 * and no Secret values anywhere in the output.
 */
import { describe, expect, it } from 'vitest';
import { JOB_CONTAINERS } from '../../src/shared/contract.ts';
import {
  ALL_INVENTORIES,
  FULL,
  PLANTED,
  REMOTE_BUILDKIT,
  render,
} from '../support/fleet-fixtures.ts';
import { k8sProblems } from '../support/k8s-validate.ts';
import { podSpecOf, restrictedViolations } from '../support/pod-security.ts';

const rendered = Object.entries(ALL_INVENTORIES).map(([name, input]) => ({
  name,
  ...render(input),
}));

describe.each(rendered)('every object of the $name inventory', ({ objects, files }) => {
  it('is valid against the OpenAPI schema of its kind', () => {
    const problems = objects.flatMap(({ file, object }) =>
      k8sProblems(object).map((p) => `${file} ${object.kind}/${object.metadata?.name}: ${p}`),
    );
    expect(problems).toEqual([]);
    expect(objects.length).toBeGreaterThan(10);
  });

  it('carries the app.kubernetes.io labels', () => {
    for (const { object } of objects) {
      const labels = object.metadata.labels ?? {};
      for (const key of [
        'app.kubernetes.io/name',
        'app.kubernetes.io/part-of',
        'app.kubernetes.io/managed-by',
        'app.kubernetes.io/component',
      ]) {
        expect(labels[key], `${object.kind}/${object.metadata.name} label ${key}`).toMatch(
          /^[a-z0-9-]+$/,
        );
      }
    }
  });

  it('has valid, unique names and label values', () => {
    const seen = new Set<string>();
    for (const { object } of objects) {
      const { name, namespace, labels = {} } = object.metadata;
      expect(name, `${object.kind} name`).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      expect(name.length).toBeLessThanOrEqual(object.kind === 'CronJob' ? 52 : 63);
      const key = `${object.kind}/${namespace ?? ''}/${name}`;
      expect(seen.has(key), `duplicate ${key}`).toBe(false);
      seen.add(key);
      for (const value of Object.values(labels))
        expect(value).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
      for (const value of Object.values(labels)) expect(value.length).toBeLessThanOrEqual(63);
    }
  });

  it('contains no Secret object and no secret-looking value', () => {
    expect(objects.filter(({ object }) => object.kind === 'Secret')).toEqual([]);
    const everything = files.map((file) => file.content).join('\n');
    for (const pattern of [
      /stringData/,
      /\.dockerconfigjson":/,
      /hooks\.slack\.com\/services\//,
      /-----BEGIN [A-Z ]*KEY-----/,
      /"auths"\s*:/,
      /xox[abp]-[0-9A-Za-z-]+/,
    ]) {
      expect(everything).not.toMatch(pattern);
    }
  });
});

describe('Pod Security Standard restricted', () => {
  const pods = (objects: (typeof rendered)[number]['objects']) =>
    objects.flatMap(({ object }) => {
      const spec = podSpecOf(object);
      return spec === undefined ? [] : [{ name: `${object.kind}/${object.metadata.name}`, spec }];
    });

  it('holds for every pod except exactly the rootless buildkitd sidecar', () => {
    for (const { name, objects } of rendered.filter((r) => r.name !== 'REMOTE_BUILDKIT')) {
      const workloads = pods(objects);
      expect(workloads.length, name).toBeGreaterThan(1);
      for (const pod of workloads) {
        const violations = restrictedViolations(pod.spec);
        const outside = violations.filter((v) => v.container !== JOB_CONTAINERS.buildkit);
        expect(outside, `${name} ${pod.name}`).toEqual([]);
        if (pod.name.startsWith('CronJob/')) {
          // The exception is real and exactly what security.ts documents, nothing more.
          expect(violations.map((v) => v.control).sort()).toEqual([
            'AppArmor Unconfined',
            'allowPrivilegeEscalation not false',
            'capabilities added: SETUID,SETGID',
            'seccomp Unconfined',
          ]);
        }
      }
    }
  });

  it('holds for every pod without exception with a remote BuildKit', () => {
    const { objects } = render(REMOTE_BUILDKIT);
    const workloads = pods(objects);
    expect(workloads.length).toBeGreaterThan(2);
    for (const pod of workloads) expect(restrictedViolations(pod.spec), pod.name).toEqual([]);
  });

  it('detects a violation the generator never produces (the checker is not vacuous)', () => {
    expect(
      restrictedViolations({
        containers: [{ name: 'c', securityContext: { privileged: true } }],
      }).map((v) => v.control),
    ).toContain('privileged');
  });
});

describe('Secret references', () => {
  const { objects } = render(FULL);

  /** Paths of every string in the object equal to `value`. */
  function pathsOf(value: string, node: unknown, path = ''): string[] {
    if (typeof node === 'string') return node === value ? [path] : [];
    if (Array.isArray(node)) return node.flatMap((item) => pathsOf(value, item, `${path}[]`));
    if (node !== null && typeof node === 'object')
      return Object.entries(node).flatMap(([key, child]) =>
        pathsOf(value, child, `${path}.${key}`),
      );
    return [];
  }

  it('name the planted Secrets only where Kubernetes expects a Secret reference', () => {
    const referencePaths = new Set<string>();
    for (const planted of [PLANTED.registrySecret, PLANTED.dtSecret, PLANTED.dtKey]) {
      const paths = objects.flatMap(({ object }) => pathsOf(planted, object));
      expect(paths.length, planted).toBeGreaterThan(0);
      for (const path of paths)
        referencePaths.add(path.replace(/^.*\.(initContainers|containers|volumes)/, '$1'));
    }
    expect([...referencePaths].sort()).toEqual([
      'initContainers[].env[].valueFrom.secretKeyRef.key',
      'initContainers[].env[].valueFrom.secretKeyRef.name',
      'volumes[].secret.secretName',
    ]);
  });
});
