/**
 * Risk acceptance and the SLA scope end to end (one collector subprocess against the API fake):
 * an accepted Critical CVE past its SLA is counted apart (not in image_cve_sla_breaches, which
 * CriticalCVESLABreach reads) while keeping its age and its counted breach; an exception matching
 * nothing running reports 0 covered images; a tag scope covers only the containers of that tag;
 * a changed exception list is picked up without a restart; `slaScope: fixable` keeps unfixable
 * CVEs off the clock (in their own series) and starts the clock when a fix is first seen; and,
 * with the clock moved past the expiry date (offset file, no event), the CVE counts as a breach
 * again with its original first-seen time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONFIGMAPS,
  stateShardName,
  type CollectorInventoryImage,
} from '../../../src/shared/contract.ts';
import type { FleetException } from '../../../src/shared/exceptions.ts';
import { METRICS } from '../../../src/shared/metrics.ts';
import {
  decodeImageClock,
  encodeImageClock,
  stateKey,
  stateShardOf,
  type CveClock,
} from '../../../runtime/collector/state-format.ts';
import { CLOCK_OFFSET_FILE_ENV } from '../../../runtime/collector/wall-clock.ts';
import { FakeKubeApi, type KubeObject } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import {
  eventually,
  select,
  startCollector,
  valueOf,
  waitFor,
  type RunningCollector,
  type Sample,
} from './harness.ts';

const APP = 'registry.example.com/shop/app';
const TAGGED = 'registry.example.com/shop/tagged';
const FIXABLE = 'registry.example.com/shop/fixable';
const APP_DIGEST = fx.digestOf('exceptions-app');
const TAGGED_DIGEST = fx.digestOf('exceptions-tagged');
const FIXABLE_DIGEST = fx.digestOf('exceptions-fixable');
const ACCEPTED = 'CVE-2024-0001';
const OTHER = 'CVE-2024-0002';
const TAGGED_CVE = 'CVE-2024-0003';
const NO_FIX = 'CVE-2024-0004';
const NOWHERE = 'GHSA-xxxx-yyyy-zzzz';
const DAY = 86_400_000;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const FIRST_SEEN = nowSeconds() - 25 * 3600; // past the 24 h Critical SLA
const date = (offsetDays: number) =>
  new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);
const EXPIRES = date(3);

let api: FakeKubeApi;
let collector: RunningCollector;
let dir: string;

function exception(
  vulnerability: string,
  scope: FleetException['scopes'][number],
  expires = EXPIRES,
): FleetException {
  const image =
    scope.kind === 'fleet'
      ? '*'
      : scope.kind === 'repository'
        ? scope.image
        : `${scope.image}:${scope.tags[0]}`;
  return {
    key: `${vulnerability}@${image}`,
    vulnerability,
    scopes: [scope],
    reason: 'accepted_risk',
    statement: 'vendor fix pending',
    owner: 'secops',
    ticket: 'SEC-42',
    approved: date(-1),
    expires,
    source: 'inventory',
  };
}

const accepted = exception(ACCEPTED, { kind: 'repository', image: APP });
const unused = exception(NOWHERE, { kind: 'fleet' });
const taggedOnly = exception(TAGGED_CVE, {
  kind: 'tag',
  image: TAGGED,
  tags: ['1.0', '1.0-patched'],
});

const IMAGES: CollectorInventoryImage[] = [
  fx.inventoryImage(APP, 'app'),
  fx.inventoryImage(TAGGED, 'tagged'),
  fx.inventoryImage(FIXABLE, 'fixable', { slaScope: 'fixable' }),
];

function inventory(exceptions: FleetException[]): KubeObject {
  return fx.inventoryConfigMap(IMAGES, undefined, exceptions);
}

function report(
  name: string,
  image: string,
  digest: string,
  vulnerabilities: fx.Vulnerability[],
): KubeObject {
  return fx.vulnerabilityReport({
    namespace: 'shop',
    name,
    registry: 'registry.example.com',
    repository: image.replace('registry.example.com/', ''),
    digest,
    updateTimestamp: new Date().toISOString(),
    vulnerabilities,
  });
}

function runningPod(name: string, image: string, tag: string, digest: string): KubeObject {
  return fx.pod({
    namespace: 'shop',
    name,
    containers: [{ name: 'app', image: `${image}:${tag}`, imageID: `${image}@${digest}` }],
  });
}

function stateOf(image: string): Map<string, CveClock> {
  // Written to the image's state shard (the single ConfigMap the test seeds is the migration source).
  const value = (
    api.get(
      'configmaps',
      fx.FLEET_NAMESPACE,
      stateShardName(CONFIGMAPS.collectorState, stateShardOf(image)),
    )?.data as Record<string, string> | undefined
  )?.[stateKey(image)];
  return value === undefined
    ? new Map<string, CveClock>()
    : (decodeImageClock(value)?.cves ?? new Map<string, CveClock>());
}

const breaches = (s: Sample[], image: string) =>
  valueOf(s, METRICS.imageCveSlaBreaches.name, { image, severity: 'Critical' });
const acceptedBreaches = (s: Sample[], image: string) =>
  valueOf(s, METRICS.imageCveSlaBreachesAccepted.name, { image, severity: 'Critical' });
const age = (s: Sample[], image: string, cve: string) =>
  select(s, METRICS.imageCveAgeHours.name, { image, cve_id: cve })[0]?.value;
const covered = (s: Sample[], e: FleetException) =>
  valueOf(s, METRICS.exceptionCoveredImages.name, { exception: e.key });
const inForce = (s: Sample[], e: FleetException) =>
  valueOf(s, METRICS.exceptionInForce.name, { exception: e.key });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'copa-exceptions-'));
  api = await FakeKubeApi.start();
  api.create('configmaps', inventory([accepted, unused]));
  api.create('pods', runningPod('app-1', APP, '1.0', APP_DIGEST));
  api.create(
    'vulnerabilityreports',
    report('replicaset-app-1-app', APP, APP_DIGEST, [
      { id: ACCEPTED, severity: 'CRITICAL', fixedVersion: '1.1' },
      { id: OTHER, severity: 'HIGH', fixedVersion: '2.1' },
    ]),
  );
  // Two tags of one repository run the same digest: a tag scope covers only one of them.
  api.create('pods', runningPod('tagged-1', TAGGED, '1.0', TAGGED_DIGEST));
  api.create('pods', runningPod('tagged-2', TAGGED, '2.0', TAGGED_DIGEST));
  api.create(
    'vulnerabilityreports',
    report('replicaset-tagged-app', TAGGED, TAGGED_DIGEST, [
      { id: TAGGED_CVE, severity: 'CRITICAL', fixedVersion: '3.1' },
    ]),
  );
  api.create('pods', runningPod('fixable-1', FIXABLE, '1.0', FIXABLE_DIGEST));
  api.create(
    'vulnerabilityreports',
    report('replicaset-fixable-app', FIXABLE, FIXABLE_DIGEST, [
      { id: NO_FIX, severity: 'CRITICAL', fixedVersion: '' },
    ]),
  );
  api.create('configmaps', {
    metadata: { name: CONFIGMAPS.collectorState, namespace: fx.FLEET_NAMESPACE },
    data: {
      [stateKey(APP)]: encodeImageClock(
        APP,
        new Map([[ACCEPTED, { firstSeen: FIRST_SEEN, goneSince: 0, breached: [] }]]),
      ),
      [stateKey(TAGGED)]: encodeImageClock(
        TAGGED,
        new Map([[TAGGED_CVE, { firstSeen: FIRST_SEEN, goneSince: 0, breached: [] }]]),
      ),
    },
  });
  collector = await startCollector(api, { env: { [CLOCK_OFFSET_FILE_ENV]: join(dir, 'offset') } });
  await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, { what: '/readyz' });
});

afterAll(async () => {
  await collector?.stop();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('risk acceptance', () => {
  it('counts an accepted Critical CVE past its SLA apart, keeping its age and its counted breach', async () => {
    const s = await eventually(
      collector,
      (x) =>
        expect(valueOf(x, METRICS.slaBreachTotal.name, { image: APP, cve_id: ACCEPTED })).toBe(1),
      'breach recorded',
    );
    expect(breaches(s, APP)).toBeUndefined(); // what CriticalCVESLABreach reads: absent = 0
    expect(acceptedBreaches(s, APP)).toBe(1);
    expect(age(s, APP, ACCEPTED)).toBeGreaterThanOrEqual(25);
    expect(age(s, APP, ACCEPTED)).toBeLessThan(25.1);
    expect(inForce(s, accepted)).toBe(1);
    expect(covered(s, accepted)).toBe(1);
    const info = select(s, METRICS.exceptionInfo.name, { exception: accepted.key });
    expect(info.map((x) => x.labels)).toEqual([
      {
        exception: accepted.key,
        vulnerability: ACCEPTED,
        images: APP,
        reason: 'accepted_risk',
        owner: 'secops',
        ticket: 'SEC-42',
        expires: EXPIRES,
      },
    ]);
    expect(valueOf(s, METRICS.exceptionExpiryTimestamp.name, { exception: accepted.key })).toBe(
      Date.parse(`${EXPIRES}T00:00:00Z`) / 1000,
    );
    // The accepted Critical CVE no longer makes its container non-compliant in the second ratio; the tagged image's still do.
    expect(valueOf(s, METRICS.noncompliantContainers.name)).toBe(4);
    expect(valueOf(s, METRICS.noncompliantContainersAccepted.name)).toBe(3);
    await waitFor(() => stateOf(APP).get(ACCEPTED)?.breached.includes(24), {
      what: 'breach persisted',
    });
  });

  it('reports an exception that covers nothing running', async () => {
    const s = await eventually(
      collector,
      (x) => expect(covered(x, unused)).toBe(0),
      'unused exception',
    );
    expect(inForce(s, unused)).toBe(1);
    expect(select(s, METRICS.exceptionInfo.name, { exception: unused.key })[0]?.labels.images).toBe(
      '*',
    );
  });

  it('picks up a changed exception list without a restart; a tag scope covers only its tag', async () => {
    const pid = collector.process.pid;
    let s = await eventually(
      collector,
      (x) => expect(breaches(x, TAGGED)).toBe(1),
      'tagged image breaching',
    );
    expect(select(s, METRICS.exceptionInfo.name, { exception: taggedOnly.key })).toHaveLength(0);
    api.update('configmaps', inventory([accepted, unused, taggedOnly]));
    // The 2.0 pod runs the same digest outside the scope: covered (in use), yet not accepted.
    s = await eventually(
      collector,
      (x) => expect(covered(x, taggedOnly)).toBe(1),
      'new exception loaded',
    );
    expect(breaches(s, TAGGED)).toBe(1);
    expect(acceptedBreaches(s, TAGGED)).toBeUndefined();
    api.remove('pods', 'shop', 'tagged-2');
    s = await eventually(
      collector,
      (x) => expect(acceptedBreaches(x, TAGGED)).toBe(1),
      'accepted once only tag 1.0 runs',
    );
    expect(breaches(s, TAGGED)).toBeUndefined();
    // Removing an exception from the list: its series go, the breach counts again.
    api.update('configmaps', inventory([accepted, unused]));
    s = await eventually(
      collector,
      (x) => expect(breaches(x, TAGGED)).toBe(1),
      'exception removed',
    );
    expect(select(s, METRICS.exceptionInForce.name, { exception: taggedOnly.key })).toHaveLength(0);
    expect(collector.process.pid).toBe(pid);
    expect(
      collector.logs.filter((l) => l.msg === 'inventory loaded').length,
    ).toBeGreaterThanOrEqual(3);
  });

  it('slaScope fixable: an unfixable CVE stays off the clock in its own series; the clock starts when a fix is first seen', async () => {
    let s = await eventually(
      collector,
      (x) =>
        expect(
          valueOf(x, METRICS.imageUnfixableCves.name, { image: FIXABLE, severity: 'Critical' }),
        ).toBe(1),
      'unfixable counted',
    );
    expect(age(s, FIXABLE, NO_FIX)).toBeUndefined();
    expect(stateOf(FIXABLE).has(NO_FIX)).toBe(false);
    // The same CVE on an `all` image runs the clock and is also counted as unfixable.
    api.update(
      'vulnerabilityreports',
      report('replicaset-app-1-app', APP, APP_DIGEST, [
        { id: ACCEPTED, severity: 'CRITICAL', fixedVersion: '1.1' },
        { id: OTHER, severity: 'HIGH', fixedVersion: '2.1' },
        { id: NO_FIX, severity: 'CRITICAL', fixedVersion: '' },
      ]),
    );
    s = await eventually(
      collector,
      (x) => expect(age(x, APP, NO_FIX)).toBeDefined(),
      'all scope clocks it',
    );
    expect(valueOf(s, METRICS.imageUnfixableCves.name, { image: APP, severity: 'Critical' })).toBe(
      1,
    );
    // A fix appears: the clock starts now (not when the CVE was first reported) and is persisted.
    const fixSeen = nowSeconds();
    api.update(
      'vulnerabilityreports',
      report('replicaset-fixable-app', FIXABLE, FIXABLE_DIGEST, [
        { id: NO_FIX, severity: 'CRITICAL', fixedVersion: '9.9' },
      ]),
    );
    s = await eventually(
      collector,
      (x) => expect(age(x, FIXABLE, NO_FIX)).toBeDefined(),
      'fix seen',
    );
    expect(age(s, FIXABLE, NO_FIX)).toBeLessThan(0.01);
    expect(select(s, METRICS.imageUnfixableCves.name, { image: FIXABLE })).toHaveLength(0);
    await waitFor(() => stateOf(FIXABLE).has(NO_FIX), { what: 'fix-seen time persisted' });
    expect(Math.abs(stateOf(FIXABLE).get(NO_FIX)!.firstSeen - fixSeen)).toBeLessThan(5);
  });

  it('after the expiry (clock moved, no event, no restart) the CVE breaches again with its original first-seen time', async () => {
    const pid = collector.process.pid;
    const shiftSeconds = (Date.parse(`${EXPIRES}T00:00:00Z`) - Date.now()) / 1000 + 3600;
    writeFileSync(join(dir, 'offset'), String(shiftSeconds));
    const s = await eventually(
      collector,
      (x) => expect(inForce(x, accepted)).toBe(0),
      'exception lapsed',
    );
    expect(breaches(s, APP)).toBe(2); // ACCEPTED again, and NO_FIX (all scope, first seen a few seconds ago + the shift)
    expect(acceptedBreaches(s, APP)).toBeUndefined();
    const expectedHours = (nowSeconds() + shiftSeconds - FIRST_SEEN) / 3600;
    expect(Math.abs(age(s, APP, ACCEPTED)! - expectedHours)).toBeLessThan(0.05);
    expect(stateOf(APP).get(ACCEPTED)?.firstSeen).toBe(FIRST_SEEN);
    expect(inForce(s, unused)).toBe(0);
    expect(collector.process.pid).toBe(pid);
  });
});
