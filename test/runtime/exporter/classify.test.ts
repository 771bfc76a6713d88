import { describe, expect, it } from 'vitest';
import {
  classify,
  DEADLINE_TOLERANCE_SECONDS,
  type RunEvidence,
} from '../../../runtime/exporter/classify.ts';
import { parseExitRecord } from '../../../runtime/exporter/exit-code.ts';
import { podView } from '../../../runtime/exporter/pod-view.ts';
import { parseTrivyReport } from '../../../runtime/exporter/trivy-report.ts';
import { parseVex } from '../../../runtime/exporter/vex.ts';
import { FAILURE_REASONS, RUN_OUTCOMES, type RunOutcome } from '../../../src/shared/metrics.ts';
import {
  AFTER_REPORT,
  BEFORE_REPORT,
  COPA_LOGS,
  DEADLINE_SECONDS,
  IMAGE,
  PATCHED_DIGEST,
  PATCHED_REF,
  SCENARIOS,
  SOURCE_REF,
  T0,
  VEX_FIXED,
  jobPod,
  trivyReport,
  type PodSpec,
  type WorkFilesSpec,
} from './fixtures.ts';

interface Run {
  readonly pod?: Record<string, unknown> | undefined;
  readonly files: WorkFilesSpec;
  /** Pod age when the exporter stopped waiting; with `sigterm`, it was stopped by SIGTERM. */
  readonly ageSeconds?: number;
  readonly sigterm?: boolean;
}

function evidence(run: Run): RunEvidence {
  const exit = run.files.copaExit;
  return {
    ...(run.pod !== undefined && { pod: podView(run.pod) }),
    stoppedBySigterm: run.sigterm ?? false,
    endedAt: T0 + (run.ageSeconds ?? 400) * 1000,
    deadlineSeconds: DEADLINE_SECONDS,
    patchedRepository: IMAGE,
    scanBefore:
      run.files.scanBefore === undefined
        ? { status: 'missing' }
        : parseTrivyReport(run.files.scanBefore),
    scanAfter:
      run.files.scanAfter === undefined
        ? { status: 'missing' }
        : parseTrivyReport(run.files.scanAfter),
    copaExit:
      exit === undefined
        ? { kind: 'missing' }
        : (parseExitRecord(exit) ?? { kind: 'invalid', text: exit }),
    copaLog: run.files.copaLog ?? '',
    vex: run.files.vex === undefined ? { status: 'missing' } : parseVex(run.files.vex),
  };
}

const outcomeOf = (run: Run) => classify(evidence(run)).outcome;
const pod = (spec: PodSpec = {}) => jobPod(spec);
const failedPatch = pod({
  phase: 'Failed',
  steps: {
    patch: { state: 'terminated', exitCode: 1 },
    verify: { state: 'waiting', reason: 'PodInitializing' },
  },
});
const patchedFiles: WorkFilesSpec = {
  scanBefore: BEFORE_REPORT,
  scanAfter: AFTER_REPORT,
  copaLog: COPA_LOGS.patched,
  copaExit: '0\n',
  vex: VEX_FIXED,
};

describe('classify: one scenario per outcome', () => {
  it.each(SCENARIOS.map((s) => [s.outcome, s] as const))('%s', (outcome, s) => {
    const decision = classify(
      evidence({
        pod: s.pod(T0),
        files: s.files,
        ...(s.sigtermAtAgeSeconds !== undefined && {
          ageSeconds: s.sigtermAtAgeSeconds,
          sigterm: true,
        }),
      }),
    );
    expect(decision.outcome).toBe(outcome);
    expect(decision.reason).toBe(RUN_OUTCOMES[outcome]);
    expect(decision.evidence.length).toBeGreaterThan(0);
  });

  it('covers every outcome the exporter can report', () => {
    const exporterOutcomes = (Object.keys(RUN_OUTCOMES) as RunOutcome[]).filter(
      (o) => o !== 'pod_not_started' && o !== 'missed_schedule',
    );
    expect(new Set(SCENARIOS.map((s) => s.outcome))).toEqual(new Set(exporterOutcomes));
    expect(FAILURE_REASONS).toContain('unknown');
  });
});

describe('classify: patched', () => {
  it('takes the digest of the patched repository from scan-after.json', () => {
    const decision = classify(evidence({ pod: pod(), files: patchedFiles }));
    expect(decision).toMatchObject({
      outcome: 'patched',
      rule: 'patched',
      patchedDigest: PATCHED_DIGEST,
    });
  });

  it('picks the RepoDigests entry of the patched repository (any spelling) among others', () => {
    const after = trivyReport(
      PATCHED_REF,
      [],
      [
        `docker.io/library/other@sha256:${'11'.repeat(32)}`,
        `registry.example.com:443/team/app@${PATCHED_DIGEST}`,
      ],
    );
    expect(
      classify(evidence({ pod: pod(), files: { ...patchedFiles, scanAfter: after } }))
        .patchedDigest,
    ).toBe(PATCHED_DIGEST);
  });

  it('is report_invalid when scan-after.json has no digest for the patched repository', () => {
    const after = trivyReport(
      PATCHED_REF,
      [],
      [`docker.io/library/other@sha256:${'11'.repeat(32)}`],
    );
    const decision = classify(
      evidence({ pod: pod(), files: { ...patchedFiles, scanAfter: after } }),
    );
    expect(decision).toMatchObject({ outcome: 'report_invalid', rule: 'verify-report' });
    expect(decision.patchedDigest).toBeUndefined();
  });

  it('is report_invalid when scan-after.json is missing', () => {
    expect(outcomeOf({ pod: pod(), files: { ...patchedFiles, scanAfter: undefined } })).toBe(
      'report_invalid',
    );
  });

  it('is scan_failed when the verify scan exited non-zero', () => {
    const verifyFailed = pod({
      phase: 'Failed',
      steps: { verify: { state: 'terminated', exitCode: 1, message: 'FATAL image scan error' } },
    });
    expect(classify(evidence({ pod: verifyFailed, files: patchedFiles }))).toMatchObject({
      outcome: 'scan_failed',
      rule: 'verify-exit',
    });
  });

  it('is scan_failed when the BOM step (Dependency-Track) exited non-zero', () => {
    const bomFailed = pod({
      phase: 'Failed',
      steps: {
        bom: { state: 'terminated', exitCode: 1 },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(
      classify(evidence({ pod: bomFailed, files: { ...patchedFiles, scanAfter: undefined } })),
    ).toMatchObject({ outcome: 'scan_failed', rule: 'bom-exit' });
  });

  it('is unknown when stopped (early) while verify was still running', () => {
    const verifying = pod({ steps: { verify: { state: 'running' } } });
    expect(
      classify(
        evidence({
          pod: verifying,
          files: { ...patchedFiles, scanAfter: undefined },
          sigterm: true,
          ageSeconds: 300,
        }),
      ),
    ).toMatchObject({
      outcome: 'unknown',
      rule: 'verify-unfinished',
    });
  });

  it('a normal sidecar SIGTERM after a successful run, even near the deadline, is not a timeout', () => {
    expect(
      outcomeOf({ pod: pod(), files: patchedFiles, sigterm: true, ageSeconds: DEADLINE_SECONDS }),
    ).toBe('patched');
  });
});

describe('classify: up_to_date', () => {
  it('from the nothing-to-apply warning when Copa exits 0', () => {
    const decision = classify(
      evidence({
        pod: pod(),
        files: { ...patchedFiles, copaLog: COPA_LOGS.nothingToApply, vex: undefined },
      }),
    );
    expect(decision).toMatchObject({ outcome: 'up_to_date', rule: 'up-to-date' });
    expect(decision.evidence.join(' ')).toContain('No update packages were specified to apply');
  });

  it('from a before-scan without fixable vulnerabilities, whatever verify did', () => {
    const noVulns = trivyReport(SOURCE_REF, []);
    const verifyFailed = pod({
      phase: 'Failed',
      steps: { verify: { state: 'terminated', exitCode: 1 } },
    });
    expect(
      outcomeOf({
        pod: verifyFailed,
        files: { scanBefore: noVulns, copaLog: COPA_LOGS.patched, copaExit: '0\n' },
      }),
    ).toBe('up_to_date');
  });

  it('from a VEX document that fixes nothing', () => {
    const emptyVex = JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      statements: [],
    });
    expect(
      outcomeOf({
        pod: pod(),
        files: { ...patchedFiles, copaLog: COPA_LOGS.patched, vex: emptyVex },
      }),
    ).toBe('up_to_date');
  });

  it("from Copa v0.14's own verdict, which exits 0 (`Image is already up-to-date. No patch was applied.`)", () => {
    const decision = classify(
      evidence({
        pod: pod(),
        files: { ...patchedFiles, copaLog: COPA_LOGS.alreadyUpToDate, vex: undefined },
      }),
    );
    expect(decision).toMatchObject({ outcome: 'up_to_date', rule: 'up-to-date' });
    expect(decision.evidence.join(' ')).toContain('No upgradable packages found for this image.');
  });

  it('never from an error exit: the nothing-to-apply warning before a failed push is a push failure', () => {
    expect(
      classify(
        evidence({
          pod: failedPatch,
          files: {
            scanBefore: BEFORE_REPORT,
            copaLog: COPA_LOGS.nothingToApplyThenPushFailed,
            copaExit: '1\n',
          },
        }),
      ),
    ).toMatchObject({
      outcome: 'push_failed',
      rule: 'copa-push',
    });
  });

  it('never from an error exit, whatever the log says: Copa v0.14 exits 0 when nothing was fixable', () => {
    const log = `${COPA_LOGS.alreadyUpToDate}\nError: something else went wrong`;
    expect(
      outcomeOf({
        pod: failedPatch,
        files: { scanBefore: BEFORE_REPORT, copaLog: log, copaExit: '1\n' },
      }),
    ).toBe('patch_failed');
  });
});

describe('classify: Copa failures read from its log', () => {
  const copaFailed = (copaLog: string) => ({
    pod: failedPatch,
    files: { scanBefore: BEFORE_REPORT, copaLog, copaExit: '1\n' },
  });
  it.each([
    ['push_failed', 'pushFailed'],
    ['push_failed', 'pushDenied'],
    ['push_failed', 'nothingToApplyThenPushFailed'],
    ['buildkit_unavailable', 'buildkitDown'],
    ['buildkit_unavailable', 'buildkitEof'],
    ['image_pull_failed', 'sourceMissing'],
    ['image_pull_failed', 'sourcePullDenied'],
    ['timeout', 'copaTimeout'],
    ['canceled', 'canceled'],
    ['patch_failed', 'installFailed'],
  ] as const)('%s from the %s log', (outcome, log) => {
    expect(outcomeOf(copaFailed(COPA_LOGS[log]))).toBe(outcome);
  });

  it.each([
    // Texts the old patterns matched that Copa v0.14 and its BuildKit client never print.
    'Error: no patchable vulnerabilities found in provided report for selected pkg-types (os)',
    'Error: could not use buildkitd driver',
    'Error: failed to export image: pushing layers',
    'Error: failed to resolve source metadata for registry.example.com/team/app:1.25',
  ])('an error exit logging %j is a plain patch failure', (line) => {
    expect(classify(evidence(copaFailed(line)))).toMatchObject({
      outcome: 'patch_failed',
      rule: 'copa-exit',
    });
  });

  it('Copa canceled by SIGTERM at the deadline is a timeout, not patch_failed', () => {
    // Neither SIGTERM for the exporter nor a deletion in its pod view: native sidecars are stopped
    // after the steps, so the exporter can see Copa's exit before anything else of the stop.
    const stopped = pod({
      phase: 'Failed',
      steps: {
        patch: { state: 'terminated', exitCode: 1 },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    const atDeadline = classify(
      evidence({
        pod: stopped,
        files: copaFailed(COPA_LOGS.canceled).files,
        ageSeconds: DEADLINE_SECONDS - DEADLINE_TOLERANCE_SECONDS + 1,
      }),
    );
    expect(atDeadline).toMatchObject({ outcome: 'timeout', rule: 'copa-canceled' });
    const early = classify(
      evidence({ pod: stopped, files: copaFailed(COPA_LOGS.canceled).files, ageSeconds: 900 }),
    );
    expect(early).toMatchObject({ outcome: 'canceled', rule: 'copa-canceled' });
    expect(early.evidence.join(' ')).toContain('Patch was canceled by user');
  });

  it('Copa canceled with the pod age unknown is canceled', () => {
    expect(outcomeOf({ pod: undefined, files: copaFailed(COPA_LOGS.canceled).files })).toBe(
      'canceled',
    );
  });

  it('buildkit_unavailable from a crash-looping buildkitd sidecar when the log says nothing specific', () => {
    const crashLooping = pod({
      phase: 'Failed',
      steps: {
        buildkitd: { state: 'waiting', reason: 'CrashLoopBackOff', restartCount: 4 },
        patch: { state: 'terminated', exitCode: 1 },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(
      outcomeOf({
        pod: crashLooping,
        files: { scanBefore: BEFORE_REPORT, copaLog: 'Error: context canceled', copaExit: '1\n' },
      }),
    ).toBe('buildkit_unavailable');
  });

  it('a buildkitd sidecar stopped by the pod shutdown is no evidence against BuildKit', () => {
    const shutdown = pod({
      deleting: true,
      steps: {
        buildkitd: { state: 'terminated', exitCode: 0 },
        patch: { state: 'terminated', exitCode: 1 },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(
      outcomeOf({
        pod: shutdown,
        files: { scanBefore: BEFORE_REPORT, copaLog: COPA_LOGS.installFailed, copaExit: '1\n' },
        sigterm: true,
      }),
    ).toBe('patch_failed');
  });

  it('patch_failed, with the last log line as evidence, for an unrecognised error', () => {
    const decision = classify(evidence(copaFailed('Error: something new went wrong')));
    expect(decision).toMatchObject({ outcome: 'patch_failed', rule: 'copa-exit' });
    expect(decision.evidence).toContain('copa log: Error: something new went wrong');
  });

  it('patch_failed when the patch step could not even start the wrapper (no exit-code file)', () => {
    const startError = pod({
      phase: 'Failed',
      steps: {
        patch: {
          state: 'terminated',
          exitCode: 128,
          reason: 'StartError',
          message: 'exec: "/app/bin/copa-fleet-exporter": stat: no such file or directory',
        },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(
      classify(evidence({ pod: startError, files: { scanBefore: BEFORE_REPORT } })),
    ).toMatchObject({ outcome: 'patch_failed', rule: 'patch-no-exit-file' });
  });

  it('patch_failed when the exit-code file is garbage', () => {
    expect(
      outcomeOf({ pod: failedPatch, files: { scanBefore: BEFORE_REPORT, copaExit: 'banana' } }),
    ).toBe('patch_failed');
  });
});

describe('classify: scan and report', () => {
  it('image_pull_failed when Trivy could not fetch the source image', () => {
    const scanPull = pod({
      phase: 'Failed',
      steps: {
        scan: {
          state: 'terminated',
          exitCode: 1,
          message: `FATAL unable to find the specified image "${SOURCE_REF}" in ["docker" "containerd" "podman" "remote"]: remote error: MANIFEST_UNKNOWN`,
        },
        patch: { state: 'waiting', reason: 'PodInitializing' },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(classify(evidence({ pod: scanPull, files: {} }))).toMatchObject({
      outcome: 'image_pull_failed',
      rule: 'scan-pull',
    });
  });

  it.each([
    ['missing', undefined],
    ['not JSON', '{"SchemaVersion": 2, "Results": ['],
    [
      'the wrong schema',
      JSON.stringify({ SchemaVersion: 1, ArtifactName: SOURCE_REF, Results: [] }),
    ],
    ['no ArtifactName', JSON.stringify({ SchemaVersion: 2, Results: [] })],
    [
      'a vulnerability without severity',
      JSON.stringify({
        SchemaVersion: 2,
        ArtifactName: 'x',
        Results: [{ Vulnerabilities: [{ VulnerabilityID: 'CVE-1' }] }],
      }),
    ],
  ])('report_invalid when scan-before.json is %s', (_, scanBefore) => {
    expect(
      classify(
        evidence({
          pod: failedPatch,
          files: { ...(scanBefore !== undefined && { scanBefore }), copaExit: '1\n' },
        }),
      ),
    ).toMatchObject({
      outcome: 'report_invalid',
      rule: 'scan-report',
    });
  });

  it('report_invalid takes precedence over the Copa error it causes', () => {
    expect(
      outcomeOf({
        pod: failedPatch,
        files: { scanBefore: 'null', copaLog: COPA_LOGS.installFailed, copaExit: '1\n' },
      }),
    ).toBe('report_invalid');
  });
});

describe('classify: pod-level failures', () => {
  it('image_pull_failed beats the timeout it leads to', () => {
    const pulling = pod({
      deleting: true,
      steps: {
        scan: { state: 'waiting', reason: 'ErrImagePull', message: 'rpc error: code = NotFound' },
        patch: { state: 'waiting', reason: 'PodInitializing' },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(
      outcomeOf({ pod: pulling, files: {}, sigterm: true, ageSeconds: DEADLINE_SECONDS }),
    ).toBe('image_pull_failed');
  });

  it('oom_killed beats crashed for an exit code 137 with reason OOMKilled', () => {
    const oom = pod({
      phase: 'Failed',
      steps: {
        patch: { state: 'terminated', exitCode: 137, reason: 'OOMKilled' },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(
      outcomeOf({ pod: oom, files: { scanBefore: BEFORE_REPORT, copaExit: 'signal:SIGKILL\n' } }),
    ).toBe('oom_killed');
  });

  it('oom_killed when the buildkitd sidecar was OOM-killed and restarted', () => {
    const restarted = pod({
      phase: 'Failed',
      steps: {
        buildkitd: { state: 'running', restartCount: 1, lastReason: 'OOMKilled' },
        patch: { state: 'terminated', exitCode: 1 },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(
      outcomeOf({
        pod: restarted,
        files: { scanBefore: BEFORE_REPORT, copaLog: COPA_LOGS.buildkitDown, copaExit: '1\n' },
      }),
    ).toBe('oom_killed');
  });

  it('crashed for exit 137 without OOMKilled, before any deadline', () => {
    const killed = pod({
      phase: 'Failed',
      steps: {
        patch: { state: 'terminated', exitCode: 137, reason: 'Error' },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(outcomeOf({ pod: killed, files: { scanBefore: BEFORE_REPORT } })).toBe('crashed');
  });

  it('crashed when only the exit-code file says Copa was killed', () => {
    expect(
      outcomeOf({
        pod: failedPatch,
        files: { scanBefore: BEFORE_REPORT, copaExit: 'signal:SIGABRT\n' },
      }),
    ).toBe('crashed');
  });

  it('timeout from pod status.reason DeadlineExceeded', () => {
    const deadline = pod({
      phase: 'Failed',
      reason: 'DeadlineExceeded',
      steps: {
        patch: { state: 'terminated', exitCode: 143 },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(
      classify(evidence({ pod: deadline, files: { scanBefore: BEFORE_REPORT } })),
    ).toMatchObject({ outcome: 'timeout', rule: 'deadline' });
  });

  it('timeout when SIGTERM comes at the deadline even after the killed step is already terminated', () => {
    const killedVerify = pod({
      deleting: true,
      steps: { verify: { state: 'terminated', exitCode: 143 } },
    });
    expect(
      outcomeOf({
        pod: killedVerify,
        files: { ...patchedFiles, scanAfter: undefined },
        sigterm: true,
        ageSeconds: DEADLINE_SECONDS,
      }),
    ).toBe('timeout');
  });

  it(`the deadline has ${DEADLINE_TOLERANCE_SECONDS}s of tolerance, and not more`, () => {
    const running = pod({
      deleting: true,
      steps: {
        patch: { state: 'running' },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    const files = { scanBefore: BEFORE_REPORT };
    expect(
      outcomeOf({
        pod: running,
        files,
        sigterm: true,
        ageSeconds: DEADLINE_SECONDS - DEADLINE_TOLERANCE_SECONDS,
      }),
    ).toBe('timeout');
    expect(
      outcomeOf({
        pod: running,
        files,
        sigterm: true,
        ageSeconds: DEADLINE_SECONDS - DEADLINE_TOLERANCE_SECONDS - 1,
      }),
    ).toBe('unknown');
  });

  it('unknown when the pod could not be read and no file says anything', () => {
    const decision = classify(evidence({ pod: undefined, files: {} }));
    expect(decision).toMatchObject({ outcome: 'unknown', rule: 'fallback' });
    expect(decision.evidence).toContain('own pod could not be read');
  });

  it('without the pod, the files alone still classify a Copa failure', () => {
    expect(
      outcomeOf({
        pod: undefined,
        files: { scanBefore: BEFORE_REPORT, copaLog: COPA_LOGS.pushFailed, copaExit: '1\n' },
      }),
    ).toBe('push_failed');
  });
});
