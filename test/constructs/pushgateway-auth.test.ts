/**
 * The Pushgateway authentication in the generated manifests: the web config and every credential
 * are Secret references (nothing secret in dist/), each credential is mounted only where it is
 * used, the probes work without a credential, and the defaults follow who runs the Pushgateway.
 * The runtime side (the real Pushgateway refusing and accepting) is test/runtime/exporter/pushgateway-auth.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLLECTOR_NAME, PUSHGATEWAY_NAME } from '../../src/constructs/names.ts';
import {
  PUSHGATEWAY_WEB_CONFIG_DIR,
  PUSHGATEWAY_WEB_CONFIG_KEY,
} from '../../src/constructs/pushgateway.ts';
import type { InventoryInput } from '../../src/inventory/schema.ts';
import {
  JOB_CONTAINERS,
  parseCollectorArgs,
  parseExporterReportArgs,
  PUSHGATEWAY_CREDENTIALS_DIR,
} from '../../src/shared/contract.ts';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import {
  EXTERNAL_PUSHGATEWAY,
  MINIMAL,
  render,
  type RenderedObject,
} from '../support/fleet-fixtures.ts';
import {
  allContainers,
  allOfKind,
  containerOf,
  findKind,
  podSpecOf,
} from '../support/rendered-kinds.ts';
const SECRETS = {
  webConfig: 'copa-fleet-pushgateway-web-config',
  exporter: 'copa-fleet-pushgateway-exporter',
  collector: 'copa-fleet-pushgateway-collector',
  prometheus: 'copa-fleet-pushgateway-prometheus',
} as const;

const jobPodSpec = (objects: readonly RenderedObject[]): IPodSpec => {
  const [cronJob] = allOfKind(objects, 'CronJob');
  if (cronJob === undefined) throw new Error('no CronJob rendered');
  return podSpecOf(cronJob);
};
const podSpec = (objects: readonly RenderedObject[], name: string): IPodSpec =>
  podSpecOf(findKind(objects, 'Deployment', name));
/** Names of the Secrets a pod spec mounts, by the container that mounts them. */
function secretMounts(spec: IPodSpec): Record<string, string[]> {
  const secretOf = new Map<string, string>(
    (spec.volumes ?? []).flatMap((v) =>
      v.secret?.secretName === undefined ? [] : [[v.name, v.secret.secretName] as const],
    ),
  );
  const result: Record<string, string[]> = {};
  for (const container of allContainers(spec)) {
    const secrets = (container.volumeMounts ?? []).flatMap((m) => secretOf.get(m.name) ?? []);
    if (secrets.length > 0) result[container.name] = secrets.sort();
  }
  return result;
}

describe('the generated Pushgateway with authentication (the default)', () => {
  const { objects } = render(MINIMAL);
  const pushgateway = podSpec(objects, PUSHGATEWAY_NAME);
  const container = containerOf(pushgateway, 'pushgateway');

  it("reads its web config from the user's Secret", () => {
    expect(container.args).toContain(
      `--web.config.file=${PUSHGATEWAY_WEB_CONFIG_DIR}/${PUSHGATEWAY_WEB_CONFIG_KEY}`,
    );
    expect(secretMounts(pushgateway)).toEqual({ pushgateway: [SECRETS.webConfig] });
    expect(container.volumeMounts).toContainEqual({
      name: 'web-config',
      mountPath: PUSHGATEWAY_WEB_CONFIG_DIR,
      readOnly: true,
    });
  });

  it('is probed on its TCP port: exporter-toolkit would answer 401 to an httpGet probe', () => {
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      expect(probe?.tcpSocket).toEqual({ port: 'http' });
      expect(probe?.httpGet).toBeUndefined();
    }
  });

  it('is scraped with the Prometheus credential (ServiceMonitor basicAuth, Secret key selectors)', () => {
    const monitor = findKind(objects, 'ServiceMonitor', PUSHGATEWAY_NAME);
    expect(monitor.spec.endpoints?.[0]?.basicAuth).toEqual({
      username: { name: SECRETS.prometheus, key: 'username' },
      password: { name: SECRETS.prometheus, key: 'password' },
    });
    // The collector's own metrics endpoint is not behind the Pushgateway's web config.
    const collectorEndpoints = findKind(objects, 'ServiceMonitor', COLLECTOR_NAME).spec.endpoints;
    expect(collectorEndpoints?.length).toBe(1);
    expect(collectorEndpoints?.[0]?.basicAuth).toBeUndefined();
  });

  it('mounts the push credential into the exporter container only, and points the exporter at it', () => {
    const spec = jobPodSpec(objects);
    const mounts = secretMounts(spec);
    expect(mounts[JOB_CONTAINERS.exporter]).toEqual([SECRETS.exporter]);
    for (const [name, secrets] of Object.entries(mounts))
      if (name !== JOB_CONTAINERS.exporter) expect(secrets).not.toContain(SECRETS.exporter);
    const exporter = containerOf(spec, JOB_CONTAINERS.exporter);
    expect(parseExporterReportArgs((exporter.args ?? []).slice(1)).pushgatewayCredentialsDir).toBe(
      PUSHGATEWAY_CREDENTIALS_DIR,
    );
    const volume = spec.volumes?.find((v) => v.secret?.secretName === SECRETS.exporter);
    expect(volume?.secret?.items).toEqual([
      { key: 'username', path: 'username' },
      { key: 'password', path: 'password' },
    ]);
  });

  it('gives the collector its own credential for the cleanup', () => {
    const collector = podSpec(objects, COLLECTOR_NAME);
    expect(secretMounts(collector)).toEqual({ collector: [SECRETS.collector] });
    expect(
      parseCollectorArgs(containerOf(collector, 'collector').args ?? []).pushgatewayCredentialsDir,
    ).toBe(PUSHGATEWAY_CREDENTIALS_DIR);
  });

  it('writes Secret names only: no bcrypt hash, no basic_auth_users, no inline credential in any file', () => {
    const { files } = render(MINIMAL);
    for (const file of files) {
      expect(file.content, file.path).not.toMatch(/\$2[aby]?\$\d\d\$/);
      expect(file.content, file.path).not.toMatch(/basic_auth_users|authorization:/i);
      expect(file.content, file.path).not.toMatch(/^kind: Secret$/m);
    }
  });

  it('the committed dist/ of the example inventory carries the same references and nothing secret', () => {
    const dist = join(import.meta.dirname, '..', '..', 'dist');
    const all = readdirSync(dist, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
      .join('\n');
    // Volumes name a Secret by secretName, the ServiceMonitor's key selectors by name.
    for (const secret of Object.values(SECRETS))
      expect(all).toMatch(new RegExp(`(secretName|name): ${secret}$`, 'm'));
    expect(all).toContain('--web.config.file=');
    expect(all).not.toMatch(/\$2[aby]?\$\d\d\$|basic_auth_users/);
  });
});

describe('authentication defaults and knobs', () => {
  it('is off for a Pushgateway you run yourself: no credential mounted, no flag', () => {
    const { objects } = render(EXTERNAL_PUSHGATEWAY);
    expect(secretMounts(jobPodSpec(objects))[JOB_CONTAINERS.exporter]).toBeUndefined();
    expect(
      objects.some(({ object }) => JSON.stringify(object).includes('pushgateway-credentials')),
    ).toBe(false);
  });

  it('is on for your own Pushgateway when you say so, with your Secret names (exporter, and collector when it cleans up)', () => {
    const input: InventoryInput = {
      ...EXTERNAL_PUSHGATEWAY,
      defaults: {
        pushgateway: {
          deploy: false,
          url: 'http://pushgateway.monitoring.svc:9091',
          cleanup: { enabled: true },
          auth: { enabled: true, exporterSecret: 'my-push', collectorSecret: 'my-delete' },
        },
      },
    };
    const { objects } = render(input);
    expect(secretMounts(jobPodSpec(objects))[JOB_CONTAINERS.exporter]).toEqual(['my-push']);
    expect(secretMounts(podSpec(objects, COLLECTOR_NAME))).toEqual({ collector: ['my-delete'] });
    expect(
      objects.some(
        ({ object }) => object.kind === 'Deployment' && object.metadata.name === PUSHGATEWAY_NAME,
      ),
    ).toBe(false);
  });

  it('can be turned off for the generated Pushgateway: HTTP probes again, no basicAuth, no credentials', () => {
    const { objects } = render({
      ...MINIMAL,
      defaults: { pushgateway: { auth: { enabled: false } } },
    });
    const container = containerOf(podSpec(objects, PUSHGATEWAY_NAME), 'pushgateway');
    expect(container.args?.length).toBeGreaterThan(0);
    expect(container.args?.some((a) => a.startsWith('--web.config.file'))).toBe(false);
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/-/ready', port: 'http' });
    const endpoints = findKind(objects, 'ServiceMonitor', PUSHGATEWAY_NAME).spec.endpoints;
    expect(endpoints?.length).toBe(1);
    expect(endpoints?.[0]?.basicAuth).toBeUndefined();
    expect(secretMounts(jobPodSpec(objects))[JOB_CONTAINERS.exporter]).toBeUndefined();
    expect(secretMounts(podSpec(objects, COLLECTOR_NAME))).toEqual({});
  });
});
