/**
 * The authenticated Pushgateway, with the real Debian prometheus-pushgateway started on a web
 * config (exporter-toolkit `basic_auth_users`, bcrypt hashes from `htpasswd -nbBC 10`, as
 * docs/deploying.md#pushgateway-authentication tells users to make it): nobody without the
 * credential can push, read or delete; the bundled exporter pushes with its mounted credential; a
 * real Prometheus scrapes with its own; the collector's cleanup deletes with its own.
 */
import { connect } from 'node:net';
import { rm } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushgatewayCleanup } from '../../../runtime/collector/pushgateway-cleanup.ts';
import { groupPath } from '../../../runtime/exporter/pushgateway.ts';
import { INVENTORY_CONFIGMAP_KEY, type CollectorInventory } from '../../../src/shared/contract.ts';
import { JOBS } from '../../../src/shared/metrics.ts';
import { startPrometheus, startPushgateway, type RunningProcess } from '../../support/processes.ts';
import {
  basicAuthHeader,
  makePushgatewayAuth,
  type PushgatewayAuthFixture,
} from '../../support/pushgateway-auth.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { inventoryConfigMap, inventoryImage, FLEET_NAMESPACE } from '../collector/fixtures.ts';
import {
  eventually,
  startCollector,
  valueOf as collectorValue,
  waitFor,
} from '../collector/harness.ts';
import { COPA_VERSION, IMAGE, exporterOptions, scenario } from './fixtures.ts';
import {
  MiniKubeApi,
  event,
  makeWorkDir,
  pushedGroup,
  removeDir,
  runExporter,
  valueOf,
  requireBundle,
} from './harness.ts';
import { METRICS } from './outcomes.ts';

const CRONJOB = 'copa-app-auth';
const BODY = `# TYPE copa_patch_success_total counter\ncopa_patch_success_total{image="${IMAGE}",copa_version="${COPA_VERSION}"} 99\n`;
const silentLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let auth: PushgatewayAuthFixture;
let pushgateway: RunningProcess;
let kube: MiniKubeApi;
let kubeconfig: string;
const workDirs: string[] = [];

beforeAll(async () => {
  requireBundle();
  auth = await makePushgatewayAuth();
  pushgateway = await startPushgateway({
    webConfigFile: auth.webConfigFile,
    readyAuthorization: auth.clients.prometheus.header,
  });
  kube = await MiniKubeApi.start();
  kubeconfig = await kube.writeKubeconfig(auth.root);
  kube.setConfigMap('copa-fleet', `${CRONJOB}-digest`, {});
});

afterAll(async () => {
  await pushgateway?.stop();
  await kube?.close();
  await Promise.all(workDirs.map(removeDir));
  if (auth !== undefined) await rm(auth.root, { recursive: true, force: true });
});

const put = (authorization?: string, cronjob = CRONJOB) =>
  fetch(`${pushgateway.url}${groupPath(cronjob)}`, {
    method: 'PUT',
    body: BODY,
    headers: authorization === undefined ? {} : { authorization },
  });

async function exporterRun(
  credentialsDir: string | undefined,
  outcome: 'patched' | 'push_failed' = 'patched',
) {
  const s = scenario(outcome);
  const podName = `${CRONJOB}-${outcome}-${Date.now()}`;
  kube.setPod('copa-fleet', podName, s.pod(Date.now() - 600_000));
  const workDir = await makeWorkDir(s.files);
  workDirs.push(workDir);
  const options = exporterOptions({
    pushgatewayUrl: pushgateway.url,
    cronjob: CRONJOB,
    digestStore: `${CRONJOB}-digest`,
    ...(credentialsDir !== undefined && { pushgatewayCredentialsDir: credentialsDir }),
  });
  // A short grace: a refused push is permanent (401), it must not be retried for a minute anyway.
  return runExporter({ options: { ...options, graceSeconds: 5 }, workDir, kubeconfig, podName });
}

describe('the Pushgateway with a web config refuses everyone without a credential', () => {
  it('refuses a push without a credential and with a wrong password (401), and stores nothing', async () => {
    expect((await put()).status).toBe(401);
    expect(
      (await put(basicAuthHeader(auth.clients.exporter.username, 'not-the-password'))).status,
    ).toBe(401);
    expect((await put(basicAuthHeader('intruder', auth.clients.exporter.password))).status).toBe(
      401,
    );
    expect(await pushedGroup(pushgateway.url, CRONJOB, auth.clients.prometheus.header)).toEqual([]);
  });

  it('protects reads, the scrape path and the probes too (why the generated probes are tcpSocket)', async () => {
    for (const path of ['/api/v1/metrics', '/metrics', '/-/healthy', '/-/ready']) {
      expect((await fetch(`${pushgateway.url}${path}`)).status, path).toBe(401);
      expect(
        (
          await fetch(`${pushgateway.url}${path}`, {
            headers: { authorization: auth.clients.prometheus.header },
          })
        ).status,
        path,
      ).toBe(200);
    }
    // What a tcpSocket probe checks: the listener accepts a connection without any credential.
    await new Promise<void>((resolve, reject) => {
      const socket = connect(pushgateway.port, '127.0.0.1', () => {
        socket.end();
        resolve();
      });
      socket.once('error', reject);
    });
  });

  it('the bundled exporter without its credential cannot record the run (exit 1, push_failed)', async () => {
    const run = await exporterRun(undefined);
    expect(run.code).toBe(1);
    expect(String(event(run, 'push_failed')?.error)).toContain('HTTP 401');
    const wrong = await exporterRun(auth.wrongDir);
    expect(wrong.code).toBe(1);
    expect(String(event(wrong, 'push_failed')?.error)).toContain('HTTP 401');
    expect(await pushedGroup(pushgateway.url, CRONJOB, auth.clients.prometheus.header)).toEqual([]);
  });

  it('the bundled exporter pushes with its mounted credential, and carries its counters over', async () => {
    const first = await exporterRun(auth.clients.exporter.dir);
    expect(first.code, first.stderr + JSON.stringify(first.logs)).toBe(0);
    expect(event(first, 'pushed')).toBeDefined();
    const second = await exporterRun(auth.clients.exporter.dir, 'push_failed');
    expect(second.code, second.stderr + JSON.stringify(second.logs)).toBe(0);
    const group = await pushedGroup(pushgateway.url, CRONJOB, auth.clients.prometheus.header);
    // The exporter read the previous group (an authenticated GET) before replacing it.
    expect(
      valueOf(group, METRICS.patchSuccessTotal.name, { image: IMAGE, copa_version: COPA_VERSION }),
    ).toBe(1);
    expect(valueOf(group, METRICS.patchFailureTotal.name, { failure_reason: 'push_failed' })).toBe(
      1,
    );
  });

  it('a credential file missing from the mount is reported, not retried for the whole grace', async () => {
    const run = await exporterRun(`${auth.root}/no-such-secret`);
    expect(run.code).toBe(1);
    expect(String(event(run, 'push_failed')?.error)).toMatch(
      /cannot read the Pushgateway credential .*no-such-secret\/username: ENOENT/,
    );
  });

  it('a real Prometheus scrapes with its own credential (up = 1, the pushed series arrive); without it the target is down', async () => {
    const target = pushgateway.url.replace(/^http:\/\//, '');
    const prometheus = await startPrometheus({
      configYaml: stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [
          // What the Prometheus Operator makes of the ServiceMonitor's basicAuth (Secret keys username and password).
          {
            job_name: 'authenticated',
            honor_labels: true,
            basic_auth: {
              username: auth.clients.prometheus.username,
              password_file: `${auth.clients.prometheus.dir}/password`,
            },
            static_configs: [{ targets: [target] }],
          },
          { job_name: 'anonymous', honor_labels: true, static_configs: [{ targets: [target] }] },
        ],
      }),
    });
    try {
      const query = async (expr: string) => {
        const answer = (await (
          await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`)
        ).json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        return answer.data.result;
      };
      let up: Record<string, string> = {};
      for (let i = 0; i < 100 && Object.keys(up).length < 2; i++) {
        up = Object.fromEntries((await query('up')).map((r) => [r.metric.job ?? '', r.value[1]]));
        if (Object.keys(up).length < 2) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(up).toEqual({ authenticated: '1', anonymous: '0' });
      const success = await query(`${METRICS.patchSuccessTotal.name}{cronjob="${CRONJOB}"}`);
      expect(success.map((r) => r.value[1])).toEqual(['1']);
      expect(success[0]?.metric.job).toBe(JOBS.exporter); // honor_labels: the pushed job label survives
    } finally {
      await prometheus.stop();
    }
  });

  it("refuses a DELETE without a credential (the failing image's group stays); the collector's cleanup deletes with its own", async () => {
    const removed = 'copa-removed-auth';
    expect((await put(auth.clients.exporter.header, removed)).status).toBe(200);
    expect(
      (await fetch(`${pushgateway.url}${groupPath(removed)}`, { method: 'DELETE' })).status,
    ).toBe(401);
    expect(await pushedGroup(pushgateway.url, removed, auth.clients.prometheus.header)).not.toEqual(
      [],
    );

    const inventory: CollectorInventory = {
      namespace: FLEET_NAMESPACE,
      severitiesInScope: ['Critical'],
      images: [inventoryImage(`${IMAGE}`, CRONJOB)],
      exceptions: [],
    };
    const cleanup = (credentialsDir?: string) => {
      const c = new PushgatewayCleanup({
        url: pushgateway.url,
        graceSeconds: 0,
        intervalMs: 60_000,
        registry: new Registry(),
        log: silentLog,
        ...(credentialsDir !== undefined && { credentialsDir }),
      });
      c.setInventory({ [INVENTORY_CONFIGMAP_KEY]: JSON.stringify(inventory) });
      return c;
    };
    // Without a credential the cleanup cannot even list the groups.
    expect(await cleanup().runOnce()).toEqual({
      ran: false,
      deleted: [],
      waiting: [],
      failures: 1,
    });
    expect(await cleanup(auth.clients.collector.dir).runOnce()).toEqual({
      ran: true,
      deleted: [removed],
      waiting: [],
      failures: 0,
    });
    expect(await pushedGroup(pushgateway.url, removed, auth.clients.prometheus.header)).toEqual([]);
    // The image still in the inventory keeps its group.
    expect(await pushedGroup(pushgateway.url, CRONJOB, auth.clients.prometheus.header)).not.toEqual(
      [],
    );
  });

  it('the collector subprocess, with the flags the generator sets, deletes with its mounted credential', async () => {
    const removed = 'copa-removed-by-collector';
    expect((await put(auth.clients.exporter.header, removed)).status).toBe(200);
    const api = await FakeKubeApi.start();
    api.create('configmaps', inventoryConfigMap([inventoryImage(IMAGE, CRONJOB)]));
    const collector = await startCollector(api, {
      options: {
        pushgatewayUrl: pushgateway.url,
        pushgatewayCleanupGraceSeconds: 0,
        pushgatewayCredentialsDir: auth.clients.collector.dir,
      },
    });
    try {
      await waitFor(
        async () =>
          (await pushedGroup(pushgateway.url, removed, auth.clients.prometheus.header)).length ===
          0,
        { what: 'the removed group deleted' },
      );
      const samples = await eventually(
        collector,
        (s) => expect(collectorValue(s, METRICS.pushgatewayGroupsDeletedTotal.name)).toBe(1),
        'deletion counted',
      );
      expect(collectorValue(samples, METRICS.pushgatewayCleanupFailuresTotal.name)).toBe(0);
      expect(
        await pushedGroup(pushgateway.url, CRONJOB, auth.clients.prometheus.header),
      ).not.toEqual([]);
    } finally {
      await collector.stop();
      await api.close();
    }
  });
});
