/**
 * The fleet every observability test uses: one image per scenario, two teams' Slack channels and a
 * PagerDuty pager, Dependency-Track on, a weekly image (a second schedule interval), and a fleet
 * namespace other than the default (so `namespace` on alerts provably comes from the inventory).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InventoryInput, inventorySchema } from '../../../src/inventory/schema.ts';
import { buildFleet, type Fleet, type FleetImage } from '../../../src/model/fleet.ts';
import { assembleObservability, type Observability } from '../../../src/observability/assemble.ts';
import { rulesYaml } from '../../../src/observability/files.ts';
import { formatImageRef, normalizeImageRef } from '../../../src/shared/image-ref.ts';

export const NAMESPACE = 'patching';
export const RUNBOOK_BASE = 'https://runbooks.example.com/copa-fleet';

export const REFS = {
  sla: 'registry.example.com/payments/api:2.3',
  success: 'nginx:1.27',
  failure: 'ghcr.io/acme/worker:5.0',
  jobFailure: 'ghcr.io/acme/batch:1.0',
  drift: 'registry.example.com:443/shop/cart:3.1',
  scanStale: 'quay.io/acme/reporter:0.9',
  neverReported: 'registry.example.com/tools/never:1.0',
  neverSucceeded: 'registry.example.com/tools/flaky:2.0',
  pushgatewayStale: 'redis:7.2',
  dependencyTrack: 'ghcr.io/acme/billing:4.2',
  weekly: 'registry.example.com/weekly/report:1.0',
} as const;
/** Was in the inventory once; its Pushgateway group is still there. */
export const REMOVED_REF = 'registry.example.com/legacy/old:0.1';

export const RECEIVERS = {
  pager: 'pager',
  payments: 'payments-slack',
  web: 'web-slack',
  platform: 'platform-slack',
} as const;

export const inventoryInput: InventoryInput = {
  defaults: { namespace: NAMESPACE, team: 'platform' },
  images: [
    { ref: REFS.sla, team: 'payments', sla: { high: 12 } },
    { ref: REFS.success, team: 'web' },
    { ref: REFS.failure, team: 'payments' },
    { ref: REFS.jobFailure, team: 'data' },
    { ref: REFS.drift, team: 'shop' },
    { ref: REFS.scanStale, team: 'data' },
    { ref: REFS.neverReported },
    { ref: REFS.neverSucceeded, team: 'data' },
    { ref: REFS.pushgatewayStale },
    { ref: REFS.dependencyTrack, team: 'payments' },
    { ref: REFS.weekly, team: 'data', schedule: '0 3 * * 0' },
  ],
  alerting: {
    receivers: [
      {
        name: RECEIVERS.pager,
        pagerduty: { routingKey: { name: 'pagerduty', key: 'routing-key' } },
      },
      {
        name: RECEIVERS.payments,
        slack: {
          webhookUrl: { name: 'slack-webhooks', key: 'payments' },
          channel: '#payments-security',
        },
      },
      { name: RECEIVERS.web, slack: { webhookUrl: { name: 'slack-webhooks', key: 'web' } } },
      {
        name: RECEIVERS.platform,
        slack: {
          webhookUrl: { name: 'slack-webhooks', key: 'platform' },
          channel: '#platform-alerts',
        },
      },
    ],
    routes: [
      { receiver: RECEIVERS.pager, severity: 'critical' },
      { receiver: RECEIVERS.payments, team: 'payments' },
      { receiver: RECEIVERS.web, team: 'web' },
    ],
    defaultReceiver: RECEIVERS.platform,
    runbookBaseUrl: RUNBOOK_BASE,
    silenceWatch: { alertmanagers: [{ url: 'http://alertmanager.monitoring.svc:9093' }] },
  },
  prometheus: { ruleLabels: { release: 'monitoring', prometheus: 'main' } },
  grafana: { dashboardLabels: { grafana_dashboard: '1' }, folder: 'Security' },
  dependencyTrack: {
    url: 'https://dtrack.example.com',
    apiKey: { name: 'dependency-track', key: 'api-key' },
  },
};

export function fleetOf(input: InventoryInput): Fleet {
  return buildFleet(inventorySchema.parse(input));
}

export const fleet = fleetOf(inventoryInput);

export function observabilityOf(
  input: InventoryInput = inventoryInput,
  secretsDir?: string,
): Observability {
  return assembleObservability(fleetOf(input), secretsDir === undefined ? {} : { secretsDir });
}

export const observability = observabilityOf();

/** The fleet model of an inventory entry. */
export function imageOf(ref: string, from: Fleet = fleet): FleetImage {
  const sourceRef = formatImageRef({
    ...normalizeImageRef(ref),
    tag: normalizeImageRef(ref).tag ?? 'latest',
  });
  const found = from.images.find((image) => image.sourceRef === sourceRef);
  if (found === undefined) throw new Error(`fixture: ${ref} is not in the fleet`);
  return found;
}

/** The removed image as it was when inventoried. */
export const removedImage = imageOf(
  REMOVED_REF,
  fleetOf({ ...inventoryInput, images: [{ ref: REMOVED_REF, team: 'legacy' }] }),
);

/** A temp dir holding the generated plain rule file as `rules.yaml`. */
export async function ruleDir(rules: string = rulesYaml(observability)): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'copa-fleet-rules-'));
  await writeFile(join(dir, 'rules.yaml'), rules);
  return dir;
}
