/**
 * The silence watch against the real Alertmanager (Debian prometheus-alertmanager), silences
 * created through its API v2, with the alert catalogue synth generates for a fleet: which silences
 * concern us, the series exported for them, and, with those series fed to the generated rules in
 * promtool, which ones raise CopaAlertSilencedTooLong. Cases of issue 11: short silence (no alert),
 * long with ticket (no alert), long without ticket (alert), expired (no series), a regex matcher
 * muting CriticalCVESLABreach (concerns us, critical), an unrelated silence (ignored), Alertmanager
 * down (health series; the previous series kept, not dropped as if resolved); plus a pending silence
 * that ends too long after now, negative matchers, a silence muting the watch's own alert, the
 * Grafana-style path prefix, and TLS with a CA bundle and a bearer token.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorInventoryJson } from '../../../src/constructs/collector-inventory.ts';
import { rulesYaml } from '../../../src/observability/files.ts';
import { INVENTORY_CONFIGMAP_KEY } from '../../../src/shared/contract.ts';
import type { InventoryInput } from '../../../src/inventory/schema.ts';
import { ALERTS, METRICS } from '../../../src/shared/metrics.ts';
import { jsonLogger } from '../../../runtime/collector/log.ts';
import { SilenceWatch } from '../../../runtime/collector/silences/silence-watch.ts';
import { startAlertmanager, type RunningProcess } from '../../support/processes.ts';
import {
  fleetOf,
  inventoryInput,
  NAMESPACE,
  observabilityOf,
  ruleDir,
  RUNBOOK_BASE,
} from '../../observability/support/fixture.ts';
import { promtoolTest } from '../../observability/support/promtool.ts';
import { humanizeDuration } from '../../observability/support/world.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { CONFIGMAPS } from '../../../src/shared/contract.ts';
import { FLEET_NAMESPACE } from './fixtures.ts';
import { eventually, parseExposition, startCollector, type Sample } from './harness.ts';

const AM_CONFIG = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n';
const HOUR = 3600;

interface NewSilence {
  readonly matchers: readonly {
    name: string;
    value: string;
    isRegex: boolean;
    isEqual?: boolean;
  }[];
  readonly startsInHours?: number;
  readonly hours: number;
  readonly comment: string;
  readonly createdBy: string;
}

async function createSilence(apiBase: string, s: NewSilence): Promise<string> {
  const start = Date.now() + (s.startsInHours ?? 0) * HOUR * 1000;
  const response = await fetch(`${apiBase}/api/v2/silences`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      matchers: s.matchers.map((m) => ({ isEqual: true, ...m })),
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + s.hours * HOUR * 1000).toISOString(),
      createdBy: s.createdBy,
      comment: s.comment,
    }),
  });
  if (!response.ok)
    throw new Error(`create silence: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { silenceID: string }).silenceID;
}

function withWatch(url: string, extra: Record<string, unknown> = {}): InventoryInput {
  return {
    ...inventoryInput,
    alerting: {
      ...inventoryInput.alerting,
      silenceWatch: { alertmanagers: [{ url, ...extra }], maxHours: 48 },
    },
  };
}

function watchFor(
  input: InventoryInput,
  override?: (json: string) => string,
): { watch: SilenceWatch; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const watch = new SilenceWatch({
    log: jsonLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
    timeoutMs: 2000,
  });
  const json = collectorInventoryJson(fleetOf(input));
  watch.configure({ [INVENTORY_CONFIGMAP_KEY]: override === undefined ? json : override(json) });
  return { watch, logs };
}

const samplesOf = (watch: SilenceWatch): Sample[] =>
  parseExposition([...watch.render(Date.now())].join(''));
const pick = (samples: readonly Sample[], name: string) => samples.filter((s) => s.name === name);

let am: RunningProcess;
type Case =
  | 'short'
  | 'longTicket'
  | 'longNoTicket'
  | 'expired'
  | 'regex'
  | 'unrelated'
  | 'otherNamespace'
  | 'pending'
  | 'everything';
let ids: Record<Case, string>;

beforeAll(async () => {
  am = await startAlertmanager({ configYaml: AM_CONFIG });
  const sla = { name: 'alertname', value: ALERTS.slaBreach, isRegex: false };
  const failed = { name: 'alertname', value: ALERTS.jobFailed, isRegex: false };
  ids = {
    short: await createSilence(am.url, {
      matchers: [sla],
      hours: 2,
      comment: 'maintenance window',
      createdBy: 'alice',
    }),
    longTicket: await createSilence(am.url, {
      matchers: [failed],
      hours: 72,
      comment: 'registry migration, CHG-1234',
      createdBy: 'bob',
    }),
    longNoTicket: await createSilence(am.url, {
      matchers: [failed],
      hours: 72,
      comment: 'too noisy',
      createdBy: 'carol',
    }),
    expired: await createSilence(am.url, {
      matchers: [sla],
      hours: 72,
      comment: 'oops',
      createdBy: 'dave',
    }),
    regex: await createSilence(am.url, {
      matchers: [
        { name: 'alertname', value: 'Critical.*Breach', isRegex: true },
        { name: 'namespace', value: NAMESPACE, isRegex: false },
      ],
      hours: 96,
      comment: 'until the vendor ships a fix',
      createdBy: 'erin',
    }),
    unrelated: await createSilence(am.url, {
      matchers: [{ name: 'alertname', value: 'KubePodCrashLooping', isRegex: false }],
      hours: 500,
      comment: 'not ours',
      createdBy: 'frank',
    }),
    otherNamespace: await createSilence(am.url, {
      matchers: [sla, { name: 'namespace', value: NAMESPACE, isRegex: false, isEqual: false }],
      hours: 500,
      comment: 'other namespaces',
      createdBy: 'grace',
    }),
    pending: await createSilence(am.url, {
      matchers: [{ name: 'team', value: 'payments', isRegex: false }],
      startsInHours: 24,
      hours: 30,
      comment: 'payments freeze',
      createdBy: 'heidi',
    }),
    everything: await createSilence(am.url, {
      matchers: [{ name: 'namespace', value: NAMESPACE, isRegex: false }],
      hours: 1,
      comment: 'INC-77 outage',
      createdBy: 'ivan',
    }),
  };
  const expire = await fetch(`${am.url}/api/v2/silence/${ids.expired}`, { method: 'DELETE' });
  expect(expire.ok).toBe(true);
});

afterAll(async () => {
  await am?.stop();
});

describe('silence watch against the real Alertmanager', () => {
  let watch: SilenceWatch;
  let samples: Sample[];
  let polledAt: number;

  beforeAll(async () => {
    watch = watchFor(withWatch(am.url)).watch;
    await watch.poll();
    polledAt = Date.now() / 1000;
    samples = samplesOf(watch);
  });
  afterAll(() => watch.stop());

  const info = (id: string) =>
    pick(samples, METRICS.silenceInfo.name).find((s) => s.labels.silence_id === id);

  it('exports the silences that would mute copa-fleet alerts, and none other', () => {
    const exported = pick(samples, METRICS.silenceInfo.name)
      .map((s) => s.labels.silence_id)
      .sort();
    expect(exported).toEqual(
      [ids.short, ids.longTicket, ids.longNoTicket, ids.regex, ids.pending, ids.everything].sort(),
    );
    expect(info(ids.expired)).toBeUndefined();
    expect(info(ids.unrelated)).toBeUndefined();
    expect(info(ids.otherNamespace)).toBeUndefined();
    expect(pick(samples, METRICS.silenceWatchUp.name)).toEqual([
      { name: METRICS.silenceWatchUp.name, labels: { alertmanager: am.url }, value: 1 },
    ]);
  });

  it('labels each with its creator, state, ticket reference, the alerts it mutes and their highest severity', () => {
    expect(info(ids.short)?.labels).toEqual({
      alertmanager: am.url,
      silence_id: ids.short,
      state: 'active',
      created_by: 'alice',
      ticket: 'false',
      muted_alerts: ALERTS.slaBreach,
      muted_severity: 'critical',
    });
    expect(info(ids.longTicket)?.labels).toMatchObject({
      ticket: 'true',
      muted_alerts: ALERTS.jobFailed,
      muted_severity: 'warning',
    });
    // The regex is anchored and matched against the alert names, not compared as a string.
    expect(info(ids.regex)?.labels).toMatchObject({
      muted_alerts: ALERTS.slaBreach,
      muted_severity: 'critical',
      ticket: 'false',
    });
    expect(info(ids.pending)?.labels).toMatchObject({ state: 'pending', created_by: 'heidi' });
    // team="payments": every rule that carries a team label with an inventory team of that name.
    expect((info(ids.pending)?.labels.muted_alerts ?? '').split(',')).toEqual(
      [
        ALERTS.dependencyTrackUploadFailing,
        ALERTS.jobFailed,
        ALERTS.jobMissing,
        ALERTS.unpatchedDigest,
        ALERTS.pushgatewayGroupStale,
        ALERTS.imageNotScanned,
        ALERTS.scanStale,
        ALERTS.slaBreach,
      ].sort(),
    );
    // A silence of the whole namespace mutes the watch's own alert too: the panel still shows it.
    expect((info(ids.everything)?.labels.muted_alerts ?? '').split(',')).toContain(
      ALERTS.silencedTooLong,
    );
    expect(info(ids.everything)?.labels).toMatchObject({
      ticket: 'true',
      muted_severity: 'critical',
    });
  });

  it('exports start and end times', () => {
    const ends = pick(samples, METRICS.silenceEndsAt.name).find(
      (s) => s.labels.silence_id === ids.longNoTicket,
    )!;
    const starts = pick(samples, METRICS.silenceStartsAt.name).find(
      (s) => s.labels.silence_id === ids.longNoTicket,
    )!;
    expect(ends.value - starts.value).toBeCloseTo(72 * HOUR, -1);
    expect(Math.abs(starts.value - polledAt)).toBeLessThan(60);
  });

  it('raises CopaAlertSilencedTooLong (promtool, the generated rules) only for long silences without a ticket, critical for a critical alert', async () => {
    const observability = observabilityOf(withWatch(am.url));
    const dir = await ruleDir(rulesYaml(observability));
    try {
      // promtool's clock starts at 0: shift the real times so that evaluation time EVAL_AT is "now".
      const EVAL_AT = 600;
      const shift = EVAL_AT - Math.round(polledAt);
      const series = samples
        .filter((s) => s.name.startsWith('copa_fleet_silence'))
        .map((s) => {
          const time =
            s.name === METRICS.silenceStartsAt.name || s.name === METRICS.silenceEndsAt.name;
          const value = time ? Math.round(s.value) + shift : s.value;
          const labels = Object.entries({
            ...s.labels,
            job: 'copa-fleet-collector',
            namespace: NAMESPACE,
          })
            .map(([k, v]) => `${k}="${v}"`)
            .join(', ');
          return { series: `${s.name}{${labels}}`, values: `${value}x15` };
        });
      const span = (id: string) => {
        const v = (name: string) =>
          Math.round(pick(samples, name).find((s) => s.labels.silence_id === id)!.value) + shift;
        return v(METRICS.silenceEndsAt.name) - Math.min(v(METRICS.silenceStartsAt.name), EVAL_AT);
      };
      const expected = (id: string, severity: string, createdBy: string, muted: string) => ({
        exp_labels: {
          alertname: ALERTS.silencedTooLong,
          severity,
          namespace: NAMESPACE,
          alertmanager: am.url,
          silence_id: id,
          created_by: createdBy,
          muted_alerts: muted,
        },
        exp_annotations: {
          summary: `Silence ${id} mutes copa-fleet alerts for too long without a ticket`,
          description: `Silence ${id} on ${am.url} (created by ${createdBy}) mutes ${muted} until ${humanizeDuration(span(id))} after it started (or after now), longer than 48 h, and its comment names no ticket.`,
          runbook_url: `${RUNBOOK_BASE}/${ALERTS.silencedTooLong}.md`,
        },
      });
      const pendingMuted = info(ids.pending)!.labels.muted_alerts ?? '';
      const result = await promtoolTest(dir, 'silences.test.yaml', [
        {
          name: 'silences from the real Alertmanager',
          interval: '1m',
          input_series: series,
          alert_rule_test: [
            {
              alertname: ALERTS.silencedTooLong,
              eval_time: `${EVAL_AT / 60}m`,
              exp_alerts: [
                expected(ids.longNoTicket, 'warning', 'carol', ALERTS.jobFailed),
                expected(ids.regex, 'critical', 'erin', ALERTS.slaBreach),
                // Pending: 30 h long, but it ends 54 h from now.
                expected(ids.pending, 'critical', 'heidi', pendingMuted),
              ],
            },
            { alertname: ALERTS.silenceWatchDown, eval_time: `${EVAL_AT / 60}m`, exp_alerts: [] },
          ],
        },
      ]);
      expect(result.output).toContain('SUCCESS');
      expect(result.code, result.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the last silence series when the Alertmanager cannot be read, and says so in its health series', async () => {
    const other = await startAlertmanager({ configYaml: AM_CONFIG });
    const id = await createSilence(other.url, {
      matchers: [{ name: 'alertname', value: ALERTS.slaBreach, isRegex: false }],
      hours: 100,
      comment: 'x',
      createdBy: 'judy',
    });
    const { watch: w, logs } = watchFor(withWatch(other.url));
    try {
      await w.poll();
      const before = samplesOf(w);
      expect(pick(before, METRICS.silenceInfo.name).map((s) => s.labels.silence_id)).toEqual([id]);
      await other.stop();
      await w.poll();
      await w.poll();
      const after = samplesOf(w);
      const silenceSeries = (s: readonly Sample[]) =>
        s.filter(
          (x) =>
            x.name.startsWith('copa_fleet_silence_') &&
            !x.name.startsWith('copa_fleet_silence_watch'),
        );
      expect(silenceSeries(after)).toEqual(silenceSeries(before));
      expect(pick(after, METRICS.silenceWatchUp.name)[0]?.value).toBe(0);
      expect(pick(after, METRICS.silenceWatchErrorsTotal.name)[0]?.value).toBe(2);
      expect(pick(after, METRICS.silenceWatchLastSuccess.name)[0]?.value).toEqual(
        pick(before, METRICS.silenceWatchLastSuccess.name)[0]?.value,
      );
      expect(logs.filter((l) => l.msg === 'alertmanager unreadable')).toHaveLength(1);
    } finally {
      w.stop();
      await other.stop();
    }
  });
});

describe('in the collector', () => {
  it('polls the Alertmanagers of its inventory ConfigMap and serves the series on /metrics; a new inventory without them drops them', async () => {
    const api = await FakeKubeApi.start();
    const inventory = (input: InventoryInput) => ({
      metadata: { name: CONFIGMAPS.inventory, namespace: FLEET_NAMESPACE },
      data: { [INVENTORY_CONFIGMAP_KEY]: collectorInventoryJson(fleetOf(input)) },
    });
    api.create('configmaps', inventory(withWatch(am.url)));
    const collector = await startCollector(api);
    try {
      await eventually(
        collector,
        (s) => {
          expect(
            pick(s, METRICS.silenceWatchUp.name).map((x) => [x.labels.alertmanager, x.value]),
          ).toEqual([[am.url, 1]]);
          expect(pick(s, METRICS.silenceInfo.name).map((x) => x.labels.silence_id)).toContain(
            ids.longNoTicket,
          );
        },
        'silence series on /metrics',
      );
      api.update(
        'configmaps',
        inventory({
          ...inventoryInput,
          alerting: { ...inventoryInput.alerting, silenceWatch: { alertmanagers: [] } },
        }),
      );
      await eventually(
        collector,
        (s) => expect(s.filter((x) => x.name.startsWith('copa_fleet_silence'))).toEqual([]),
        'silence series dropped',
      );
    } finally {
      await collector.stop();
      await api.close();
    }
  });
});

describe('Alertmanager variants', () => {
  it('reads a Grafana-managed style API under /api/alertmanager/grafana', async () => {
    const grafana = await startAlertmanager({
      configYaml: AM_CONFIG,
      routePrefix: '/api/alertmanager/grafana',
    });
    try {
      const base = `${grafana.url}/api/alertmanager/grafana`;
      const id = await createSilence(base, {
        matchers: [{ name: 'alertname', value: ALERTS.jobMissing, isRegex: false }],
        hours: 3,
        comment: '',
        createdBy: 'grafana',
      });
      const { watch } = watchFor(withWatch(base));
      await watch.poll();
      const samples = samplesOf(watch);
      expect(
        pick(samples, METRICS.silenceInfo.name).map((s) => [
          s.labels.alertmanager,
          s.labels.silence_id,
        ]),
      ).toEqual([[base, id]]);
      watch.stop();
    } finally {
      await grafana.stop();
    }
  });

  it('verifies TLS with the configured CA bundle and sends the bearer token (a TLS proxy in front of the real Alertmanager)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'silence-tls-'));
    let proxy: Server | undefined;
    try {
      const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      ssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '1',
        '-subj',
        '/CN=test-ca',
      );
      ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'server.key',
        '-out',
        'server.csr',
        '-subj',
        '/CN=127.0.0.1',
      );
      writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
      ssl(
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.crt',
        '-days',
        '1',
        '-extfile',
        'san.ext',
      );
      writeFileSync(join(dir, 'token'), 'sekret-token\n');
      const seen: (string | undefined)[] = [];
      const target = new URL(am.url);
      proxy = createHttpsServer(
        { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) },
        (req, res) => {
          seen.push(req.headers.authorization);
          if (req.headers.authorization !== 'Bearer sekret-token') {
            res.writeHead(401).end('unauthorized');
            return;
          }
          const upstream = httpRequest(
            {
              host: target.hostname,
              port: target.port,
              path: req.url,
              method: req.method,
              headers: { accept: 'application/json' },
            },
            (up) => {
              res.writeHead(up.statusCode ?? 502, up.headers);
              up.pipe(res);
            },
          );
          upstream.end();
        },
      );
      await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const input = withWatch(url, {
        bearerToken: { name: 'am-token', key: 'token' },
        ca: { name: 'am-ca', key: 'ca.crt' },
      });
      // The generated settings name the Secrets' mount paths; here they point at the test's files.
      const local = (json: string) =>
        json
          .replace('/etc/copa-fleet/alertmanagers/0/token', join(dir, 'token'))
          .replace('/etc/copa-fleet/alertmanagers/0/ca.crt', join(dir, 'ca.crt'));
      const { watch } = watchFor(input, local);
      await watch.poll();
      const samples = samplesOf(watch);
      expect(pick(samples, METRICS.silenceWatchUp.name)[0]?.value).toBe(1);
      expect(pick(samples, METRICS.silenceInfo.name).map((s) => s.labels.silence_id)).toContain(
        ids.longNoTicket,
      );
      expect(seen.at(-1)).toBe('Bearer sekret-token');
      watch.stop();

      // Without the CA the certificate is refused: the Alertmanager is unreadable.
      const withoutCa = (json: string) => {
        const parsed = JSON.parse(local(json)) as {
          silenceWatch: { alertmanagers: { caFile?: string }[] };
        };
        delete parsed.silenceWatch.alertmanagers[0]!.caFile;
        return JSON.stringify(parsed);
      };
      const untrusted = watchFor(input, withoutCa).watch;
      await untrusted.poll();
      expect(pick(samplesOf(untrusted), METRICS.silenceWatchUp.name)[0]?.value).toBe(0);
      untrusted.stop();
    } finally {
      await new Promise<void>((resolve) =>
        proxy === undefined ? resolve() : proxy.close(() => resolve()),
      );
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
