/**
 * The collector's cleanup of decommissioned images' Pushgateway groups, against the real
 * Pushgateway (/usr/bin/prometheus-pushgateway): the module with an injected clock, then the
 * collector subprocess with the flags the generator sets.
 */
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PushgatewayCleanup } from '../../../runtime/collector/pushgateway-cleanup.ts';
import { groupPath } from '../../../runtime/exporter/pushgateway.ts';
import { INVENTORY_CONFIGMAP_KEY, type CollectorInventory } from '../../../src/shared/contract.ts';
import { JOBS, METRICS, PUSH_GROUPING_LABEL } from '../../../src/shared/metrics.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { freePort, startPushgateway, type RunningProcess } from '../../support/processes.ts';
import * as fx from './fixtures.ts';
import {
  eventually,
  parseExposition,
  startCollector,
  valueOf,
  waitFor,
  type RunningCollector,
} from './harness.ts';

const DAY_MS = 86_400_000;
const GRACE_SECONDS = 7 * 86_400;
const KEPT = 'copa-kept-1a2b3c';
const REMOVED = 'copa-removed-4d5e6f';

const silentLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function inventoryData(cronjobs: readonly string[]): Record<string, string> {
  const inventory: CollectorInventory = {
    namespace: fx.FLEET_NAMESPACE,
    severitiesInScope: ['Critical'],
    images: cronjobs.map((c) => fx.inventoryImage(`registry.example.com/team/${c}`, c)),
    exceptions: [],
  };
  return { [INVENTORY_CONFIGMAP_KEY]: JSON.stringify(inventory) };
}

async function push(url: string, cronjob: string, job: string = JOBS.exporter): Promise<void> {
  const path =
    job === JOBS.exporter
      ? groupPath(cronjob)
      : `/metrics/job/${job}/${PUSH_GROUPING_LABEL}/${cronjob}`;
  const body = `# TYPE copa_patch_success_total counter\ncopa_patch_success_total{image="registry.example.com/team/${cronjob}",copa_version="0.14.2"} 3\n`;
  const response = await fetch(`${url}${path}`, { method: 'PUT', body });
  expect(response.ok, await response.text()).toBe(true);
}

/** `job/cronjob` of every group the Pushgateway holds. */
async function groups(url: string): Promise<string[]> {
  const answer = (await (await fetch(`${url}/api/v1/metrics`)).json()) as {
    data: { labels: Record<string, string> }[];
  };
  return answer.data.map((g) => `${g.labels.job}/${g.labels[PUSH_GROUPING_LABEL] ?? ''}`).sort();
}

async function counters(
  registry: Registry,
): Promise<{ deleted: number; failures: number; stale: number }> {
  const samples = parseExposition(await registry.metrics());
  return {
    deleted: valueOf(samples, METRICS.pushgatewayGroupsDeletedTotal.name) ?? Number.NaN,
    failures: valueOf(samples, METRICS.pushgatewayCleanupFailuresTotal.name) ?? Number.NaN,
    stale: valueOf(samples, METRICS.pushgatewayStaleGroups.name) ?? Number.NaN,
  };
}

describe('PushgatewayCleanup (module, injected clock)', () => {
  let pushgateway: RunningProcess;
  let now: number;
  let registry: Registry;
  let cleanup: PushgatewayCleanup;

  beforeAll(async () => {
    pushgateway = await startPushgateway();
  });
  afterAll(async () => {
    await pushgateway?.stop();
  });
  afterEach(async () => {
    await cleanup?.stop();
    for (const group of await groups(pushgateway.url)) {
      const [job, cronjob] = group.split('/');
      await fetch(`${pushgateway.url}/metrics/job/${job}/${PUSH_GROUPING_LABEL}/${cronjob}`, {
        method: 'DELETE',
      });
    }
  });

  function newCleanup(url = pushgateway.url): PushgatewayCleanup {
    now = Date.now();
    registry = new Registry();
    cleanup = new PushgatewayCleanup({
      url,
      graceSeconds: GRACE_SECONDS,
      intervalMs: 60_000,
      registry,
      log: silentLog,
      now: () => now,
    });
    return cleanup;
  }

  it("deletes a removed image's group only after the grace; the present one never", async () => {
    await Promise.all([push(pushgateway.url, KEPT), push(pushgateway.url, REMOVED)]);
    const c = newCleanup();
    c.setInventory(inventoryData([KEPT]));

    now += 6 * DAY_MS;
    expect(await c.runOnce()).toEqual({ ran: true, deleted: [], waiting: [REMOVED], failures: 0 });
    expect(await groups(pushgateway.url)).toEqual([
      `${JOBS.exporter}/${KEPT}`,
      `${JOBS.exporter}/${REMOVED}`,
    ]);
    expect(await counters(registry)).toEqual({ deleted: 0, failures: 0, stale: 1 });

    now += DAY_MS + 1000; // last push + 7 days + 1 s
    expect(await c.runOnce()).toMatchObject({ ran: true, deleted: [REMOVED], waiting: [] });
    expect(await groups(pushgateway.url)).toEqual([`${JOBS.exporter}/${KEPT}`]);
    expect(await counters(registry)).toEqual({ deleted: 1, failures: 0, stale: 0 });

    now += 365 * DAY_MS;
    expect(await c.runOnce()).toEqual({ ran: true, deleted: [], waiting: [], failures: 0 });
    expect(await groups(pushgateway.url)).toEqual([`${JOBS.exporter}/${KEPT}`]);
  });

  it("starts the grace at the group's last push, so a group pushed again waits again", async () => {
    await push(pushgateway.url, REMOVED);
    const c = newCleanup();
    c.setInventory(inventoryData([KEPT]));
    // Pushed again: 3 days later the grace, counted from this push, has not run out.
    await push(pushgateway.url, REMOVED);
    now = Date.now() + 3 * DAY_MS;
    expect((await c.runOnce()).waiting).toEqual([REMOVED]);
    expect(await groups(pushgateway.url)).toEqual([`${JOBS.exporter}/${REMOVED}`]);
  });

  it('deletes nothing before the inventory was read, nor after the inventory ConfigMap vanished', async () => {
    await push(pushgateway.url, REMOVED);
    const c = newCleanup();
    now += 30 * DAY_MS;
    expect(await c.runOnce()).toEqual({ ran: false, deleted: [], waiting: [], failures: 0 });
    c.setInventory(inventoryData([REMOVED]));
    c.setInventory(undefined); // deleted ConfigMap: keeps the last inventory
    expect((await c.runOnce()).deleted).toEqual([]);
    c.setInventory({ [INVENTORY_CONFIGMAP_KEY]: '{"not": "an inventory"}' }); // rejected: keeps the last inventory
    expect((await c.runOnce()).deleted).toEqual([]);
    expect(await groups(pushgateway.url)).toEqual([`${JOBS.exporter}/${REMOVED}`]);
  });

  it('leaves the groups of other jobs alone', async () => {
    await push(pushgateway.url, REMOVED, 'someone-else');
    const c = newCleanup();
    c.setInventory(inventoryData([KEPT]));
    now += 30 * DAY_MS;
    expect(await c.runOnce()).toEqual({ ran: true, deleted: [], waiting: [], failures: 0 });
    expect(await groups(pushgateway.url)).toEqual([`someone-else/${REMOVED}`]);
  });

  it('counts a Pushgateway outage as a failure and retries at the next pass', async () => {
    const port = await freePort();
    let own = await startPushgateway({ port });
    try {
      await push(own.url, REMOVED);
      const c = newCleanup(own.url);
      c.setInventory(inventoryData([KEPT]));
      now += 8 * DAY_MS;
      await own.stop(); // in memory: the group is gone with it, so push it again after the restart

      expect(await c.runOnce()).toEqual({ ran: false, deleted: [], waiting: [], failures: 1 });
      expect(await c.runOnce()).toMatchObject({ ran: false, failures: 1 });
      expect(await counters(registry)).toMatchObject({ deleted: 0, failures: 2 });

      own = await startPushgateway({ port });
      await push(own.url, REMOVED);
      now = Date.now() + 8 * DAY_MS;
      expect(await c.runOnce()).toMatchObject({ ran: true, deleted: [REMOVED], failures: 0 });
      expect(await groups(own.url)).toEqual([]);
      expect(await counters(registry)).toEqual({ deleted: 1, failures: 2, stale: 0 });
    } finally {
      await own.stop();
    }
  });
});

describe('the collector runs the cleanup when its command line asks for it', () => {
  let api: FakeKubeApi;
  let pushgateway: RunningProcess;
  let collector: RunningCollector;

  beforeAll(async () => {
    [api, pushgateway] = await Promise.all([FakeKubeApi.start(), startPushgateway()]);
    api.create(
      'configmaps',
      fx.inventoryConfigMap([fx.inventoryImage('registry.example.com/team/kept', KEPT)]),
    );
    await Promise.all([push(pushgateway.url, KEPT), push(pushgateway.url, REMOVED)]);
    // Grace 0: the subprocess has the real clock (the grace itself is the module tests' job).
    collector = await startCollector(api, {
      options: { pushgatewayUrl: pushgateway.url, pushgatewayCleanupGraceSeconds: 0 },
    });
  });
  afterAll(async () => {
    await collector?.stop();
    await Promise.all([api?.close(), pushgateway?.stop()]);
  });

  it("deletes the removed CronJob's group, keeps the inventoried one, and exports the counters", async () => {
    await waitFor(async () => (await groups(pushgateway.url)).length === 1, {
      what: 'the removed group deleted',
    });
    expect(await groups(pushgateway.url)).toEqual([`${JOBS.exporter}/${KEPT}`]);
    const samples = await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.pushgatewayGroupsDeletedTotal.name)).toBe(1),
      'deletion counted',
    );
    expect(valueOf(samples, METRICS.pushgatewayCleanupFailuresTotal.name)).toBe(0);
  });

  it('a collector without the flags exposes no cleanup series', async () => {
    const plain = await startCollector(api);
    try {
      const samples = await eventually(
        plain,
        (s) => expect(s.length).toBeGreaterThan(0),
        'metrics',
      );
      expect(samples.filter((s) => s.name.startsWith('copa_fleet_pushgateway_'))).toEqual([]);
    } finally {
      await plain.stop();
    }
  });
});
