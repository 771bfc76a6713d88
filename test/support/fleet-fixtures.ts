/**
 * Inventories and rendered output for the generator tests: an inventory is parsed by the real
 * schema (defaults applied), turned into the real fleet model and rendered by the real pipeline.
 */
import { parseAllDocuments } from 'yaml';
import { type InventoryInput, inventorySchema } from '../../src/inventory/schema.ts';
import { buildFleet, type Fleet } from '../../src/model/fleet.ts';
import type { OutputFile } from '../../src/outputs/output-file.ts';
import { renderFleet } from '../../src/synth/render.ts';
import type { K8sObject } from './k8s-validate.ts';

export function fleetOf(input: InventoryInput): Fleet {
  return buildFleet(inventorySchema.parse(input));
}

export interface RenderedObject {
  readonly file: string;
  readonly object: K8sObject;
}

/** Every Kubernetes object of every `*.k8s.yaml` output, with the file it is in. */
export function objectsOf(files: readonly OutputFile[]): RenderedObject[] {
  return files
    .filter((file) => file.path.endsWith('.k8s.yaml'))
    .flatMap((file) =>
      parseAllDocuments(file.content)
        .map((document) => document.toJS() as K8sObject | null)
        .filter((object): object is K8sObject => object !== null)
        .map((object) => ({ file: file.path, object })),
    );
}

export interface Rendered {
  readonly fleet: Fleet;
  readonly files: readonly OutputFile[];
  readonly objects: readonly RenderedObject[];
}

const renders = new WeakMap<InventoryInput, Rendered>();

/** Renders `input` (memoised per input object: tests only read the result). */
export function render(input: InventoryInput): Rendered {
  const cached = renders.get(input);
  if (cached !== undefined) return cached;
  const fleet = fleetOf(input);
  const files = renderFleet(fleet);
  const rendered = { fleet, files, objects: objectsOf(files) };
  renders.set(input, rendered);
  return rendered;
}

export function find(objects: readonly RenderedObject[], kind: string, name: string): K8sObject {
  const found = objects.find(({ object }) => object.kind === kind && object.metadata.name === name);
  if (found === undefined)
    throw new Error(
      `no ${kind} ${name} in the output (have: ${objects.map(({ object }) => `${object.kind}/${object.metadata.name}`).join(', ')})`,
    );
  return found.object;
}

export const MINIMAL: InventoryInput = { images: [{ ref: 'registry.example.com/myapp:1.4.2' }] };

/** Secret names and keys planted in FULL: they may appear only as references. */
export const PLANTED = {
  registrySecret: 'planted-registry-secret',
  dtSecret: 'planted-dt-secret',
  dtKey: 'planted-dt-key',
  buildkitTlsSecret: 'planted-buildkit-tls',
  slackSecret: 'planted-slack-secret',
  slackKey: 'planted-slack-key',
  pagerdutySecret: 'planted-pd-secret',
  pagerdutyKey: 'planted-pd-key',
} as const;

/** Every optional feature on, every kind of reference, an explicit schedule and SLA override. */
export const FULL: InventoryInput = {
  defaults: {
    namespace: 'patching',
    registryCredentialsSecret: PLANTED.registrySecret,
    schedule: { window: { start: '22:00', end: '02:00' }, timeZone: 'Europe/Berlin' },
    job: {
      activeDeadlineSeconds: 5400,
      startingDeadlineSeconds: 900,
      backoffLimit: 1,
      ttlSecondsAfterFinished: 86400,
    },
  },
  images: [
    { ref: 'nginx:1.27', team: 'web' },
    {
      ref: 'registry.example.com:443/shop/api:v2.3.0',
      schedule: '30 3 * * 1-5',
      sla: { critical: 8 },
      patchedTag: 'v2.3.0-p',
    },
    { ref: 'ghcr.io/example-org/worker:2.0.1' },
    { ref: 'registry.internal:5000/team/tool:0.9', enabled: false },
  ],
  alerting: {
    receivers: [
      {
        name: 'pager',
        pagerduty: { routingKey: { name: PLANTED.pagerdutySecret, key: PLANTED.pagerdutyKey } },
      },
      {
        name: 'chat',
        slack: {
          webhookUrl: { name: PLANTED.slackSecret, key: PLANTED.slackKey },
          channel: '#patching',
        },
      },
    ],
    routes: [{ receiver: 'pager', severity: 'critical' }, { receiver: 'chat' }],
  },
  prometheus: { serviceMonitorLabels: { release: 'prom', team: 'platform' } },
  trivyOperator: { reportTtlHours: 30 },
  dependencyTrack: {
    url: 'https://dtrack.example.com',
    apiKey: { name: PLANTED.dtSecret, key: PLANTED.dtKey },
  },
};

export const REMOTE_BUILDKIT: InventoryInput = {
  defaults: {
    buildkit: { address: 'tcp://buildkitd.build.svc:1234', tlsSecret: PLANTED.buildkitTlsSecret },
  },
  images: [{ ref: 'nginx:1.27' }, { ref: 'ghcr.io/example-org/worker:2.0.1' }],
};

export const EXTERNAL_PUSHGATEWAY: InventoryInput = {
  defaults: { pushgateway: { deploy: false, url: 'http://pushgateway.monitoring.svc:9091' } },
  images: [{ ref: 'nginx:1.27' }],
};

/** The inventories every all-objects test runs over. */
export const ALL_INVENTORIES: Readonly<Record<string, InventoryInput>> = {
  MINIMAL,
  FULL,
  REMOTE_BUILDKIT,
  EXTERNAL_PUSHGATEWAY,
};
