/**
 * `copa-fleet-exporter report`: waits for the Copa run of its own pod to end (every step
 * terminated, or SIGTERM when the kubelet stops the native sidecars), classifies the outcome,
 * and within --grace-seconds pushes the CronJob's Pushgateway group, records the patched digest
 * and (optionally) uploads the BOM to Dependency-Track. Exit 0 when the push (and digest record)
 * succeeded, 1 otherwise, so the Job shows the failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import {
  JOB_CONTAINERS,
  jobFiles,
  type ExporterOptions,
  type PatchedDigestRecord,
} from '../../src/shared/contract.ts';
import { parseImageRef, repositoryOf } from '../../src/shared/image-ref.ts';
import { classify, type Classification } from './classify.ts';
import { uploadBom } from './dependency-track.ts';
import { isSuccess, nextGroup, renderGroup, type RunReport } from './group-metrics.ts';
import { isPermanentHttpError } from './http.ts';
import { isPermanentKubeError, type KubeClient } from './kube.ts';
import { errorMessage, log } from './log.ts';
import { podView, runHasEnded, type PodView } from './pod-view.ts';
import { basicAuthHeaders } from './basic-auth.ts';
import { putGroup, readGroup } from './pushgateway.ts';
import { requestTimeout, retryUntil } from './retry.ts';
import { MAX_RECORDED_FIXED, type VexResult } from './vex.ts';
import { fileExists, readWorkFiles } from './work-files.ts';

/** How often the exporter reads its own pod while the run is going on. */
export const POD_POLL_INTERVAL_MS = 2_000;
/** Share of the grace period that the Dependency-Track upload may use (the metrics push comes after it). */
export const DEPENDENCY_TRACK_GRACE_SHARE = 0.4;
const POD_READ_TIMEOUT_MS = 5_000;
const FINAL_POD_READ_TIMEOUT_MS = 2_000;

export interface ReportContext {
  readonly options: ExporterOptions;
  readonly podName: string;
  readonly podNamespace: string;
  readonly workDir: string;
  readonly dependencyTrackApiKey: string | undefined;
  readonly kube: KubeClient;
  /** Resolves when SIGTERM arrives. */
  readonly stopped: Promise<void>;
}

export async function runReport(ctx: ReportContext): Promise<number> {
  const files = jobFiles(ctx.workDir);
  const startedAt = Date.now();
  if (await fileExists(files.reportedMarker)) {
    // A native sidecar is restarted when it exits before the pod ends: this run is already counted.
    log('info', { event: 'already_reported', marker: files.reportedMarker });
    await waitForRunEnd(ctx);
    return 0;
  }

  const { pod, bySigterm } = await waitForRunEnd(ctx);
  const endedAt = Date.now();
  const deadline = endedAt + ctx.options.graceSeconds * 1000;
  const work = await readWorkFiles(files);
  const patchedRepository = repositoryOf(ctx.options.patchedRef) ?? ctx.options.image;
  const decision = classify({
    ...(pod !== undefined && { pod }),
    stoppedBySigterm: bySigterm,
    endedAt,
    deadlineSeconds: ctx.options.deadlineSeconds,
    patchedRepository,
    ...work,
  });
  log(isSuccess(decision.outcome) ? 'info' : 'warn', {
    event: 'classified',
    image: ctx.options.image,
    cronjob: ctx.options.cronjob,
    outcome: decision.outcome,
    reason: decision.reason,
    rule: decision.rule,
    evidence: decision.evidence,
  });

  const patchedTag = tagOf(ctx.options.patchedRef) ?? 'latest';
  let dependencyTrack: RunReport['dependencyTrack'];
  if (ctx.options.dependencyTrackUrl !== undefined && isSuccess(decision.outcome)) {
    dependencyTrack = await uploadBom({
      baseUrl: ctx.options.dependencyTrackUrl,
      apiKey: ctx.dependencyTrackApiKey,
      projectName: ctx.options.image,
      projectVersion: ctx.options.dependencyTrackProjectVersion ?? patchedTag,
      bomFile: files.bom,
      deadline: endedAt + ctx.options.graceSeconds * 1000 * DEPENDENCY_TRACK_GRACE_SHARE,
    });
  }

  const run: RunReport = {
    image: ctx.options.image,
    copaVersion: ctx.options.copaVersion,
    outcome: decision.outcome,
    reportedAt: endedAt / 1000,
    durationSeconds: runDurationSeconds(pod, startedAt, endedAt),
    ...(decision.patchedDigest !== undefined && {
      patched: { tag: patchedTag, digest: decision.patchedDigest },
    }),
    vulnerabilities: {
      ...(work.scanBefore.status === 'ok' && { before: work.scanBefore.summary.counts }),
      ...(work.scanAfter.status === 'ok' && { after: work.scanAfter.summary.counts }),
    },
    ...(dependencyTrack !== undefined && { dependencyTrack }),
  };

  const [pushed, recorded] = await Promise.all([
    push(ctx, run, deadline),
    recordDigest(ctx, decision, patchedTag, work.vex, deadline),
  ]);
  if (pushed)
    await writeFile(
      files.reportedMarker,
      `${JSON.stringify({ outcome: decision.outcome, reportedAt: new Date(endedAt).toISOString() })}\n`,
    ).catch((error: unknown) => {
      log('warn', { event: 'marker_not_written', error: errorMessage(error) });
    });
  return pushed && recorded ? 0 : 1;
}

async function push(ctx: ReportContext, run: RunReport, deadline: number): Promise<boolean> {
  const { pushgatewayUrl, cronjob, pushgatewayCredentialsDir } = ctx.options;
  try {
    // Outside the retries: a missing credential file does not appear by waiting.
    const auth = await basicAuthHeaders(pushgatewayCredentialsDir);
    await retryUntil(
      { deadline, target: 'pushgateway', isPermanent: isPermanentHttpError },
      async (remaining) => {
        const previous = await readGroup(pushgatewayUrl, cronjob, requestTimeout(remaining), auth);
        const { body, contentType } = await renderGroup(nextGroup(previous, run));
        await putGroup(
          pushgatewayUrl,
          cronjob,
          body,
          contentType,
          requestTimeout(deadline - Date.now()),
          auth,
        );
      },
    );
    log('info', { event: 'pushed', pushgateway: pushgatewayUrl, cronjob, outcome: run.outcome });
    return true;
  } catch (error) {
    log('error', {
      event: 'push_failed',
      pushgateway: pushgatewayUrl,
      cronjob,
      error: errorMessage(error),
      message: `the run's outcome (${run.outcome}) was NOT recorded: the Pushgateway refused the push (a 401 is a wrong or missing credential) or could not be reached within --grace-seconds=${ctx.options.graceSeconds}`,
    });
    return false;
  }
}

async function recordDigest(
  ctx: ReportContext,
  decision: Classification,
  patchedTag: string,
  vex: VexResult,
  deadline: number,
): Promise<boolean> {
  if (decision.outcome !== 'patched' || decision.patchedDigest === undefined) return true;
  const { namespace, digestStore, cronjob, image, sourceRef } = ctx.options;
  const fixed = vex.status === 'ok' ? vex.fixedVulnerabilities : [];
  const record: PatchedDigestRecord = {
    image,
    tag: tagOf(sourceRef) ?? 'latest',
    patchedTag,
    digest: decision.patchedDigest,
    patchedAt: new Date().toISOString(),
    // Copa's OpenVEX `fixed` statements: what this digest fixed, kept as evidence with the digest.
    ...(fixed.length > 0 && {
      fixed: fixed.slice(0, MAX_RECORDED_FIXED),
      fixedCount: fixed.length,
    }),
  };
  if (fixed.length > 0)
    log('info', {
      event: 'vex_fixed',
      image,
      digest: record.digest,
      fixed: fixed.length,
      vulnerabilities: fixed,
    });
  try {
    await retryUntil(
      { deadline, target: 'digest-store', isPermanent: isPermanentKubeError },
      (remaining) =>
        ctx.kube.mergePatchConfigMapKey(
          namespace,
          digestStore,
          cronjob,
          JSON.stringify(record),
          Math.min(remaining, POD_READ_TIMEOUT_MS),
        ),
    );
    log('info', {
      event: 'digest_recorded',
      configmap: `${namespace}/${digestStore}`,
      key: cronjob,
      digest: record.digest,
    });
    return true;
  } catch (error) {
    log('error', {
      event: 'digest_not_recorded',
      configmap: `${namespace}/${digestStore}`,
      key: cronjob,
      error: errorMessage(error),
    });
    return false;
  }
}

interface RunEnd {
  readonly pod: PodView | undefined;
  readonly bySigterm: boolean;
}

/** Polls the own pod until every step has ended, or SIGTERM arrives (then reads it one last time). */
async function waitForRunEnd(ctx: ReportContext): Promise<RunEnd> {
  let stopped = false;
  void ctx.stopped.then(() => {
    stopped = true;
  });
  log('info', {
    event: 'waiting_for_run',
    pod: `${ctx.podNamespace}/${ctx.podName}`,
    pollIntervalMs: POD_POLL_INTERVAL_MS,
  });
  let last: PodView | undefined;
  let failures = 0;
  const read = async (timeoutMs: number): Promise<PodView | undefined> => {
    try {
      const pod = podView(await ctx.kube.readPod(ctx.podNamespace, ctx.podName, timeoutMs));
      failures = 0;
      return pod;
    } catch (error) {
      // Log the first failure and then every tenth: a flapping API must not flood the log.
      if (failures++ % 10 === 0)
        log('warn', {
          event: 'pod_read_failed',
          pod: `${ctx.podNamespace}/${ctx.podName}`,
          error: errorMessage(error),
        });
      return undefined;
    }
  };
  while (!stopped) {
    last = (await read(POD_READ_TIMEOUT_MS)) ?? last;
    if (last !== undefined && runHasEnded(last)) return { pod: last, bySigterm: false };
    if (stopped) break;
    await Promise.race([sleep(POD_POLL_INTERVAL_MS), ctx.stopped]);
  }
  return { pod: (await read(FINAL_POD_READ_TIMEOUT_MS)) ?? last, bySigterm: true };
}

/** Scan start to the end of the last step ("scan to push"), falling back to what the exporter saw. */
function runDurationSeconds(
  pod: PodView | undefined,
  exporterStart: number,
  endedAt: number,
): number {
  const scan = pod?.containers.find((c) => c.name === JOB_CONTAINERS.scan);
  const start = scan?.startedAt ?? pod?.startedAt ?? exporterStart;
  const finishes = (pod?.containers ?? [])
    .filter((c) => c.kind !== 'sidecar' && c.finishedAt !== undefined)
    .map((c) => c.finishedAt as number);
  const end = finishes.length > 0 ? Math.max(...finishes) : endedAt;
  return Math.max(0, (end - start) / 1000);
}

function tagOf(ref: string): string | undefined {
  const parsed = parseImageRef(ref);
  return parsed.ok ? parsed.ref.tag : undefined;
}
