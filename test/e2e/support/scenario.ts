/**
 * What the end-to-end tests share: the rules with their debounce `for:`s shortened, and the nightly
 * Copa runs through the exporter bundle with each CronJob's own generated arguments.
 */
import { expect } from 'vitest';
import type { InventoryInput } from '../../../src/inventory/schema.ts';
import { parse, stringify } from 'yaml';
import {
  JOB_CONTAINERS,
  parseExporterReportArgs,
  PUSHGATEWAY_CREDENTIALS_DIR,
  type ExporterOptions,
} from '../../../src/shared/contract.ts';
import type { RunOutcome } from '../../../src/shared/metrics.ts';
import type { FakeKubeApi, KubeObject } from '../../support/fake-kube-api.ts';
import { digestOf, FLEET_NAMESPACE } from '../../runtime/collector/fixtures.ts';
import { scenario } from '../../runtime/exporter/fixtures.ts';
import { makeWorkDir, removeDir, runExporter } from '../../runtime/exporter/harness.ts';

export const HOUR = 3600;
/** The exporter fixtures' evidence names this repository; the patched image must be it. */
export const APP = 'registry.example.com/team/app';
export const WORKER = 'registry.example.com/team/worker';
export const NGINX = 'docker.io/library/nginx';
export const NGINX_DIGEST = digestOf('nginx-1.27');
export const WORKER_DIGEST = digestOf('worker-3.1');
/** A Critical CVE of the NGINX scenario, on the image long enough to be past its SLA. */
export const OLD_CVE = 'CVE-2023-44487';

/** The scenario's fleet: APP is patched, WORKER's push fails, NGINX carries OLD_CVE (24 h Critical SLA). */
export const SCENARIO_FLEET = {
  defaults: { namespace: FLEET_NAMESPACE },
  images: [
    { ref: `${APP}:1.25`, team: 'shop' },
    { ref: `${WORKER}:3.1`, team: 'shop' },
    { ref: 'nginx:1.27', team: 'web', sla: { critical: 24 } },
  ],
} as const satisfies InventoryInput;

const DEBOUNCE_MAX_SECONDS = HOUR;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: HOUR, d: 24 * HOUR };

/**
 * Debounce `for:`s (an hour or less) shortened to 2 s so that alerts fire within the test; `for:`s
 * that are a schedule clock themselves (a day or more) are kept. Expressions untouched.
 */
export function withShortDebounce(rulesYaml: string): string {
  const rules = parse(rulesYaml) as { groups: { rules: { for?: string }[] }[] };
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      const match = /^(\d+)([smhd])$/.exec(rule.for ?? '');
      if (match === null) continue;
      if (Number(match[1]) * (UNIT_SECONDS[match[2] as string] ?? Infinity) <= DEBOUNCE_MAX_SECONDS)
        rule.for = '2s';
    }
  }
  return stringify(rules);
}

/** The exporter's options exactly as its generated CronJob passes them (the URL and the credential's mount point moved to this machine). */
export function exporterOptionsOf(
  cronJob: KubeObject,
  pushgatewayUrl: string,
  credentialsDir: string,
): ExporterOptions {
  const spec = cronJob as unknown as {
    spec: {
      jobTemplate: {
        spec: { template: { spec: { initContainers: { name: string; args: string[] }[] } } };
      };
    };
  };
  const exporter = spec.spec.jobTemplate.spec.template.spec.initContainers.find(
    (c) => c.name === JOB_CONTAINERS.exporter,
  );
  if (exporter === undefined) throw new Error('no exporter container');
  const options = parseExporterReportArgs(exporter.args.slice(1));
  // The generated Pushgateway authenticates by default: the CronJob points the exporter at its mounted credential.
  expect(options.pushgatewayCredentialsDir).toBe(PUSHGATEWAY_CREDENTIALS_DIR);
  return { ...options, pushgatewayUrl, pushgatewayCredentialsDir: credentialsDir };
}

export interface NightlyRun {
  /** The generated CronJob of the image. */
  readonly cronJob: KubeObject;
  readonly outcome: RunOutcome;
}

/** Each run through the exporter bundle, its job pod in `api` while it runs (finished job pods are garbage-collected: they are not workloads). */
export async function runNightly(
  api: FakeKubeApi,
  kubeconfig: string,
  pushgateway: { readonly url: string; readonly credentialsDir: string },
  runs: readonly NightlyRun[],
): Promise<void> {
  for (const run of runs) {
    const evidence = scenario(run.outcome);
    const podName = `${run.cronJob.metadata.name}-29400000-abcde`;
    const jobPod = evidence.pod(Date.now() - 10 * 60 * 1000) as unknown as KubeObject;
    api.create('pods', {
      ...jobPod,
      metadata: { ...jobPod.metadata, name: podName, namespace: FLEET_NAMESPACE },
    });
    const dir = await makeWorkDir(evidence.files);
    const result = await runExporter({
      options: exporterOptionsOf(run.cronJob, pushgateway.url, pushgateway.credentialsDir),
      workDir: dir,
      kubeconfig,
      podName,
      podNamespace: FLEET_NAMESPACE,
    });
    await removeDir(dir);
    api.remove('pods', FLEET_NAMESPACE, podName);
    expect(
      result.code,
      `exporter for ${run.cronJob.metadata.name} (${run.outcome}):\n${result.stderr}`,
    ).toBe(0);
  }
}
