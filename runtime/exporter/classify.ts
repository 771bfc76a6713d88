/**
 * Classifies how a Copa run ended, from the evidence the exporter can see: its own pod's
 * container states (read through the API), the files in the shared work dir (Trivy reports,
 * Copa's log and exit code, the VEX document) and whether it was stopped before the run ended.
 * Pure: no I/O, no clock. The outcome is always one of RUN_OUTCOMES (pod_not_started and
 * missed_schedule are the collector's: a pod that never started has no exporter).
 *
 * Decision table: the first matching rule wins. "step" = a container that is not a native
 * sidecar (scan, patch, verify); "Copa exit" = the patch step's exit-code file.
 *
 * | rule               | evidence                                                                                   | outcome              |
 * |--------------------|--------------------------------------------------------------------------------------------|----------------------|
 * | image-pull         | a container (not the exporter) waits with ErrImagePull, ImagePullBackOff, InvalidImageName or ErrImageNeverPull | image_pull_failed |
 * | oom                | a container (not the exporter) terminated with reason OOMKilled, now or as its last state  | oom_killed           |
 * | deadline           | pod status.reason DeadlineExceeded; or stopped (SIGTERM / pod deleted) when the pod's age had reached the deadline (minus DEADLINE_TOLERANCE_SECONDS) and not every step had exited 0 | timeout |
 * | signal             | a step terminated by a signal (status.signal, exit code 134/137/139) or the exit-code file says `signal:…` | crashed |
 * | scan-pull          | scan step exited non-zero and its message says the source image could not be fetched      | image_pull_failed    |
 * | scan-exit          | scan step exited non-zero                                                                  | scan_failed          |
 * | scan-report        | scan step ended (or Copa ran) but scan-before.json is missing or not a Trivy v2 report     | report_invalid       |
 * | copa-canceled      | Copa exit ≠ 0 and its log says `Patch was canceled by user` (SIGTERM from outside): at the deadline (minus DEADLINE_TOLERANCE_SECONDS) | timeout |
 * | copa-canceled      | the same, before the deadline (pod deleted, node drained, eviction)                        | canceled             |
 * | copa-timeout       | Copa exit ≠ 0 and its log shows Copa's own --timeout                                       | timeout              |
 * | copa-buildkit      | Copa exit ≠ 0 and its log shows BuildKit unreachable, or the buildkitd sidecar restarted / crash-loops | buildkit_unavailable |
 * | copa-push          | Copa exit ≠ 0 and its log shows the push failed                                            | push_failed          |
 * | copa-source-pull   | Copa exit ≠ 0 and its log shows the source image could not be resolved                    | image_pull_failed    |
 * | copa-exit          | Copa exit ≠ 0 (any other error)                                                            | patch_failed         |
 * | patch-no-exit-file | patch step exited non-zero and left no exit-code file (Copa could not be started)          | patch_failed         |
 * | up-to-date         | Copa exit 0 and (log says nothing to patch or warned `No update packages were specified to apply`, or scan-before lists no fixable vulnerability, or the VEX document fixes nothing) | up_to_date |
 * | bom-exit           | Copa exit 0 and the BOM step (Trivy CycloneDX, with Dependency-Track) exited non-zero      | scan_failed          |
 * | verify-exit        | Copa exit 0 and the verify step exited non-zero                                            | scan_failed          |
 * | verify-unfinished  | Copa exit 0 and the verify step had not ended when the exporter was stopped                | unknown              |
 * | verify-report      | Copa exit 0 and scan-after.json is missing, malformed or has no digest of the patched repository | report_invalid  |
 * | patched            | Copa exit 0 and scan-after.json gives the pushed digest                                    | patched              |
 * | fallback           | anything else (e.g. stopped early, before the deadline, with the run unfinished)           | unknown              |
 */
import { JOB_CONTAINERS } from '../../src/shared/contract.ts';
import { isImagePullReason } from '../../src/shared/image-pull.ts';
import { RUN_OUTCOMES, type RunOutcome } from '../../src/shared/metrics.ts';
import { readCopaLog } from './copa-log.ts';
import type { ExitRecord } from './exit-code.ts';
import type { ContainerView, PodView } from './pod-view.ts';
import { digestFor, type TrivyReportResult } from './trivy-report.ts';
import type { VexResult } from './vex.ts';

/** Exit codes of a process killed by SIGABRT, SIGKILL, SIGSEGV (128 + signal number). */
export const SIGNAL_EXIT_CODES = [134, 137, 139] as const;
/** Slack between the pod's age when stopped and the deadline, for the Job controller's reaction time. */
export const DEADLINE_TOLERANCE_SECONDS = 15;
/** Trivy's messages when the scanned image cannot be fetched. */
const SCAN_PULL_SIGNS = [
  /unable to find the specified image/i,
  /MANIFEST_UNKNOWN/,
  /manifest unknown/i,
  /\bUNAUTHORIZED\b/,
  /\bDENIED\b/,
  /failed to pull/i,
];

export type CopaExit =
  ExitRecord | { readonly kind: 'missing' } | { readonly kind: 'invalid'; readonly text: string };

export interface RunEvidence {
  /** The exporter's own pod; undefined when the API could not be read at all. */
  readonly pod?: PodView;
  /** SIGTERM reached the exporter before it had seen the run end by itself (pod deletion, deadline, or normal sidecar shutdown). */
  readonly stoppedBySigterm: boolean;
  /** When the exporter stopped waiting for the run (epoch ms). */
  readonly endedAt: number;
  readonly deadlineSeconds: number;
  /** Normalised repository of the patched reference: selects the digest in scan-after.json. */
  readonly patchedRepository: string;
  readonly scanBefore: TrivyReportResult;
  readonly scanAfter: TrivyReportResult;
  readonly copaExit: CopaExit;
  /** Copa's log (the tail is enough). */
  readonly copaLog: string;
  readonly vex: VexResult;
}

export interface Classification {
  readonly outcome: RunOutcome;
  /** The decision-table rule that matched. */
  readonly rule: string;
  readonly reason: string;
  /** Facts that led to the decision, for the decision log line. */
  readonly evidence: readonly string[];
  /** Set exactly when the outcome is `patched`. */
  readonly patchedDigest?: string;
}

export function classify(e: RunEvidence): Classification {
  const containers = (e.pod?.containers ?? []).filter((c) => c.name !== JOB_CONTAINERS.exporter);
  const steps = containers.filter((c) => c.kind !== 'sidecar');
  const scan = step(e.pod, JOB_CONTAINERS.scan);
  const patch = step(e.pod, JOB_CONTAINERS.patch);
  const verify = step(e.pod, JOB_CONTAINERS.verify);
  const bom = step(e.pod, JOB_CONTAINERS.bom);
  const buildkit = step(e.pod, JOB_CONTAINERS.buildkit);
  const copaLog = readCopaLog(e.copaLog);
  const decide = (
    outcome: RunOutcome,
    rule: string,
    evidence: string[],
    patchedDigest?: string,
  ): Classification => ({
    outcome,
    rule,
    reason: RUN_OUTCOMES[outcome],
    evidence,
    ...(patchedDigest !== undefined && { patchedDigest }),
  });

  const pulling = containers.find(
    (c) => c.state === 'waiting' && isImagePullReason(c.waitingReason),
  );
  if (pulling !== undefined) {
    return decide('image_pull_failed', 'image-pull', [
      `container ${pulling.name} waiting: ${pulling.waitingReason}${pulling.waitingMessage ? ` (${pulling.waitingMessage})` : ''}`,
    ]);
  }

  const oom = containers.find(
    (c) => c.reason === 'OOMKilled' || c.lastTerminationReason === 'OOMKilled',
  );
  if (oom !== undefined)
    return decide('oom_killed', 'oom', [`container ${oom.name} terminated: OOMKilled`]);

  if (e.pod?.reason === 'DeadlineExceeded')
    return decide('timeout', 'deadline', ['pod status.reason: DeadlineExceeded']);
  const unfinished = steps.filter((c) => c.state !== 'terminated');
  const allSucceeded =
    steps.length > 0 && steps.every((c) => c.state === 'terminated' && c.exitCode === 0);
  const podStart = e.pod?.createdAt ?? e.pod?.startedAt;
  if ((e.stoppedBySigterm || e.pod?.deleting === true) && !allSucceeded && podStart !== undefined) {
    const ageSeconds = (e.endedAt - podStart) / 1000;
    if (ageSeconds >= e.deadlineSeconds - DEADLINE_TOLERANCE_SECONDS) {
      const pending =
        unfinished.length > 0
          ? ` while ${unfinished.map((c) => c.name).join(', ')} had not ended`
          : '';
      return decide('timeout', 'deadline', [
        `stopped after ${Math.round(ageSeconds)}s (deadline ${e.deadlineSeconds}s)${pending}`,
      ]);
    }
  }

  const signalled = steps.find(isSignalled);
  if (signalled !== undefined) {
    return decide('crashed', 'signal', [
      `container ${signalled.name} terminated: ${signalled.signal !== undefined ? `signal ${signalled.signal}` : `exit code ${signalled.exitCode}`}${signalled.reason ? ` (${signalled.reason})` : ''}`,
    ]);
  }
  if (e.copaExit.kind === 'signal')
    return decide('crashed', 'signal', [`copa exit-code file: killed by ${e.copaExit.signal}`]);

  if (scan?.state === 'terminated' && scan.exitCode !== 0) {
    const message = scan.message ?? '';
    const pullSign = SCAN_PULL_SIGNS.find((p) => p.test(message));
    const detail = `scan exited ${scan.exitCode}${message ? `: ${firstLine(message)}` : ''}`;
    if (pullSign !== undefined) return decide('image_pull_failed', 'scan-pull', [detail]);
    return decide('scan_failed', 'scan-exit', [detail]);
  }

  const copaRan = e.copaExit.kind === 'code' || e.copaExit.kind === 'invalid';
  const scanEnded = scan?.state === 'terminated';
  if (e.scanBefore.status !== 'ok' && (scanEnded || copaRan)) {
    return decide('report_invalid', 'scan-report', [
      `scan-before.json ${describeReport(e.scanBefore)}`,
    ]);
  }

  if (e.copaExit.kind === 'code' && e.copaExit.code !== 0) {
    const exit = `copa exited ${e.copaExit.code}`;
    // Copa v0.14 exits 0 when nothing was fixable, so an error exit is never up_to_date: its
    // `No update packages were specified to apply` warning is followed by the push, which can fail.
    // Copa's own stop verdicts come first: after them, the BuildKit client logs the cancellation's fallout.
    if (copaLog.canceled !== undefined) {
      const ageSeconds = podStart !== undefined ? (e.endedAt - podStart) / 1000 : undefined;
      if (
        ageSeconds !== undefined &&
        ageSeconds >= e.deadlineSeconds - DEADLINE_TOLERANCE_SECONDS
      ) {
        return decide('timeout', 'copa-canceled', [
          exit,
          `copa log: ${copaLog.canceled}`,
          `stopped after ${Math.round(ageSeconds)}s (deadline ${e.deadlineSeconds}s)`,
        ]);
      }
      const when =
        ageSeconds !== undefined
          ? `stopped after ${Math.round(ageSeconds)}s, before the deadline (${e.deadlineSeconds}s)`
          : 'pod age unknown';
      return decide('canceled', 'copa-canceled', [exit, `copa log: ${copaLog.canceled}`, when]);
    }
    if (copaLog.timeout !== undefined)
      return decide('timeout', 'copa-timeout', [exit, `copa log: ${copaLog.timeout}`]);
    if (copaLog.buildkitUnavailable !== undefined)
      return decide('buildkit_unavailable', 'copa-buildkit', [
        exit,
        `copa log: ${copaLog.buildkitUnavailable}`,
      ]);
    // Not "terminated": the kubelet stops buildkitd before the exporter whenever the pod ends.
    if (
      buildkit !== undefined &&
      (buildkit.restartCount > 0 || buildkit.waitingReason === 'CrashLoopBackOff')
    ) {
      return decide('buildkit_unavailable', 'copa-buildkit', [
        exit,
        `buildkitd sidecar: ${buildkit.state}${buildkit.waitingReason ? ` (${buildkit.waitingReason})` : ''}, ${buildkit.restartCount} restarts`,
      ]);
    }
    // Push before source pull: a push error names the pushed reference and may end in `: not found`.
    if (copaLog.pushFailed !== undefined)
      return decide('push_failed', 'copa-push', [exit, `copa log: ${copaLog.pushFailed}`]);
    if (copaLog.sourcePullFailed !== undefined)
      return decide('image_pull_failed', 'copa-source-pull', [
        exit,
        `copa log: ${copaLog.sourcePullFailed}`,
      ]);
    return decide('patch_failed', 'copa-exit', [exit, ...lastLogLine(e.copaLog)]);
  }
  if (e.copaExit.kind === 'invalid')
    return decide('patch_failed', 'copa-exit', [
      `copa exit-code file unreadable: ${JSON.stringify(e.copaExit.text.slice(0, 50))}`,
    ]);
  if (e.copaExit.kind === 'missing') {
    if (patch?.state === 'terminated' && patch.exitCode !== 0) {
      return decide('patch_failed', 'patch-no-exit-file', [
        `patch exited ${patch.exitCode} without an exit-code file${patch.message ? `: ${firstLine(patch.message)}` : ''}`,
      ]);
    }
    return fallback(e, unfinished, decide);
  }

  // Copa exited 0.
  const upToDate = upToDateEvidence(e, copaLog.upToDate ?? copaLog.noUpdatesWarning);
  if (upToDate !== undefined)
    return decide('up_to_date', 'up-to-date', ['copa exited 0', upToDate]);
  if (bom?.state === 'terminated' && bom.exitCode !== 0) {
    return decide('scan_failed', 'bom-exit', [
      'copa exited 0',
      `bom exited ${bom.exitCode}${bom.message ? `: ${firstLine(bom.message)}` : ''}`,
    ]);
  }
  if (verify?.state === 'terminated' && verify.exitCode !== 0) {
    return decide('scan_failed', 'verify-exit', [
      'copa exited 0',
      `verify exited ${verify.exitCode}${verify.message ? `: ${firstLine(verify.message)}` : ''}`,
    ]);
  }
  if (verify !== undefined && verify.state !== 'terminated' && e.stoppedBySigterm) {
    return decide('unknown', 'verify-unfinished', [
      'copa exited 0',
      `stopped while verify was ${verify.state}`,
    ]);
  }
  if (e.scanAfter.status !== 'ok')
    return decide('report_invalid', 'verify-report', [
      'copa exited 0',
      `scan-after.json ${describeReport(e.scanAfter)}`,
    ]);
  const digest = digestFor(e.scanAfter.summary, e.patchedRepository);
  if (digest === undefined) {
    return decide('report_invalid', 'verify-report', [
      'copa exited 0',
      `scan-after.json has no RepoDigests entry for ${e.patchedRepository}`,
    ]);
  }
  const fixed = e.vex.status === 'ok' ? [`vex: ${e.vex.fixed} fixed statements`] : [];
  return decide(
    'patched',
    'patched',
    ['copa exited 0', ...fixed, `scan-after.json digest ${digest}`],
    digest,
  );
}

function upToDateEvidence(e: RunEvidence, logLine: string | undefined): string | undefined {
  if (logLine !== undefined) return `copa log: ${logLine}`;
  if (e.scanBefore.status === 'ok' && e.scanBefore.summary.total === 0)
    return 'scan-before.json lists no fixable vulnerability';
  if (e.vex.status === 'ok' && e.vex.fixed === 0) return 'vex document has no fixed statement';
  return undefined;
}

function fallback(
  e: RunEvidence,
  unfinished: readonly ContainerView[],
  decide: (outcome: RunOutcome, rule: string, evidence: string[]) => Classification,
): Classification {
  const evidence: string[] = [];
  if (e.pod === undefined) evidence.push('own pod could not be read');
  if (e.stoppedBySigterm)
    evidence.push(
      `stopped before the run ended${unfinished.length > 0 ? ` (${unfinished.map((c) => `${c.name}: ${c.state}`).join(', ')})` : ''}`,
    );
  evidence.push('no copa exit-code file');
  return decide('unknown', 'fallback', evidence);
}

function step(pod: PodView | undefined, name: string): ContainerView | undefined {
  return pod?.containers.find((c) => c.name === name);
}

function isSignalled(c: ContainerView): boolean {
  if (c.state !== 'terminated') return false;
  if (c.signal !== undefined && c.signal !== 0) return true;
  return c.exitCode !== undefined && (SIGNAL_EXIT_CODES as readonly number[]).includes(c.exitCode);
}

function describeReport(report: TrivyReportResult): string {
  if (report.status === 'missing') return 'is missing';
  if (report.status === 'invalid') return `is malformed: ${report.error}`;
  return 'is valid';
}

function firstLine(text: string): string {
  return (text.trim().split('\n')[0] ?? '').slice(0, 300);
}

function lastLogLine(log: string): string[] {
  const line = log.trim().split('\n').at(-1)?.trim();
  return line ? [`copa log: ${line.slice(0, 500)}`] : [];
}
