/**
 * Realistic evidence for the exporter's tests: Copa job pods as the API returns them (the
 * container layout of src/shared/contract.ts), Trivy v2 JSON reports, Copa log excerpts (the
 * messages of Copa/BuildKit/Trivy), OpenVEX documents. One scenario per outcome, shared by the
 * classifier's unit tests and the end-to-end runs of the bundled exporter.
 */
import {
  BUILDKIT_ADDRESS,
  JOB_CONTAINERS,
  JOB_FILES,
  RUNTIME_BIN,
  exporterExecArgs,
  type ExporterOptions,
} from '../../../src/shared/contract.ts';
import type { RunOutcome } from '../../../src/shared/metrics.ts';

export const IMAGE = 'registry.example.com/team/app';
export const SOURCE_REF = `${IMAGE}:1.25`;
export const PATCHED_TAG = '1.25-patched';
export const PATCHED_REF = `${IMAGE}:${PATCHED_TAG}`;
export const PATCHED_DIGEST = `sha256:${'ab12'.repeat(16)}`;
export const SOURCE_DIGEST = `sha256:${'cd34'.repeat(16)}`;
export const COPA_VERSION = '0.14.2';
export const DEADLINE_SECONDS = 3600;
/** Pod creation time of every fixture pod. */
export const T0 = Date.parse('2026-03-01T02:00:00Z');

export function exporterOptions(
  overrides: Partial<ExporterOptions> & { pushgatewayUrl: string },
): ExporterOptions {
  return {
    image: IMAGE,
    cronjob: 'copa-app-1a2b3c',
    sourceRef: SOURCE_REF,
    patchedRef: PATCHED_REF,
    copaVersion: COPA_VERSION,
    namespace: 'copa-fleet',
    digestStore: 'copa-fleet-patched-digests',
    graceSeconds: 20,
    deadlineSeconds: DEADLINE_SECONDS,
    ...overrides,
  };
}

// ------------------------------------------------------------------ pods

/** `bom` exists only when a BOM step is given (Dependency-Track configured). */
export type StepName = 'buildkitd' | 'scan' | 'patch' | 'bom' | 'verify';
export type StepSpec =
  | {
      readonly state: 'waiting';
      readonly reason: string;
      readonly message?: string;
      readonly restartCount?: number;
      readonly lastReason?: string;
    }
  | { readonly state: 'running'; readonly restartCount?: number; readonly lastReason?: string }
  | {
      readonly state: 'terminated';
      readonly exitCode: number;
      readonly reason?: string;
      readonly signal?: number;
      readonly message?: string;
      readonly restartCount?: number;
      readonly lastReason?: string;
    };

export interface PodSpec {
  readonly name?: string;
  readonly phase?: string;
  readonly reason?: string;
  readonly deleting?: boolean;
  readonly steps?: Partial<Record<StepName, StepSpec>>;
  /** Creation time (epoch ms); every other timestamp is relative to it. Default T0. */
  readonly createdAt?: number;
}

const ok: StepSpec = { state: 'terminated', exitCode: 0, reason: 'Completed' };
const initializing: StepSpec = { state: 'waiting', reason: 'PodInitializing' };
export const SUCCESSFUL_STEPS: Record<Exclude<StepName, 'bom'>, StepSpec> = {
  buildkitd: { state: 'running' },
  scan: ok,
  patch: ok,
  verify: ok,
};

function status(
  base: number,
  name: string,
  image: string,
  spec: StepSpec,
  index: number,
): Record<string, unknown> {
  const iso = (offsetSeconds: number) => new Date(base + offsetSeconds * 1000).toISOString();
  const startedAt = iso(10 + index * 60);
  let state: Record<string, unknown>;
  if (spec.state === 'waiting')
    state = {
      waiting: {
        reason: spec.reason,
        ...(spec.message !== undefined && { message: spec.message }),
      },
    };
  else if (spec.state === 'running') state = { running: { startedAt } };
  else {
    state = {
      terminated: {
        exitCode: spec.exitCode,
        ...(spec.signal !== undefined && { signal: spec.signal }),
        reason: spec.reason ?? (spec.exitCode === 0 ? 'Completed' : 'Error'),
        ...(spec.message !== undefined && { message: spec.message }),
        startedAt,
        finishedAt: iso(10 + index * 60 + 45),
        containerID: `containerd://${name}${index}`,
      },
    };
  }
  return {
    name,
    image,
    imageID: `${image.split(':')[0]}@${SOURCE_DIGEST}`,
    ready: spec.state === 'running',
    started: spec.state === 'running',
    restartCount: spec.restartCount ?? 0,
    state,
    lastState:
      spec.lastReason !== undefined
        ? {
            terminated: {
              exitCode: 137,
              reason: spec.lastReason,
              startedAt: iso(5),
              finishedAt: iso(8),
            },
          }
        : {},
  };
}

/** A Copa job pod as `GET /api/v1/namespaces/{ns}/pods/{name}` returns it. */
export function jobPod(spec: PodSpec = {}): Record<string, unknown> {
  const steps = { ...SUCCESSFUL_STEPS, ...spec.steps };
  const runtimeImage = 'ghcr.io/example/copa-fleet-runtime:0.1.0';
  const trivyImage = 'ghcr.io/aquasecurity/trivy:0.58.1';
  const buildkitImage = 'moby/buildkit:v0.18.2-rootless';
  const name = spec.name ?? 'copa-app-1a2b3c-29012345-x7k2p';
  const base = spec.createdAt ?? T0;
  const iso = (offsetSeconds: number) => new Date(base + offsetSeconds * 1000).toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'copa-fleet',
      uid: '6f1c2d3e-0000-4000-8000-000000000001',
      creationTimestamp: iso(0),
      ...(spec.deleting === true && {
        deletionTimestamp: iso(DEADLINE_SECONDS),
        deletionGracePeriodSeconds: 30,
      }),
      labels: {
        'app.kubernetes.io/part-of': 'copa-fleet',
        'copa-fleet.dev/cronjob': 'copa-app-1a2b3c',
        'job-name': 'copa-app-1a2b3c-29012345',
      },
    },
    spec: {
      restartPolicy: 'Never',
      serviceAccountName: 'copa-app-1a2b3c',
      initContainers: [
        {
          name: JOB_CONTAINERS.exporter,
          image: runtimeImage,
          restartPolicy: 'Always',
          command: [RUNTIME_BIN.exporter, 'report'],
        },
        {
          name: JOB_CONTAINERS.buildkit,
          image: buildkitImage,
          restartPolicy: 'Always',
          args: ['--addr', BUILDKIT_ADDRESS, '--oci-worker-no-process-sandbox'],
        },
        {
          name: JOB_CONTAINERS.scan,
          image: trivyImage,
          command: [
            'trivy',
            'image',
            '--format',
            'json',
            '--output',
            JOB_FILES.scanBefore,
            '--pkg-types',
            'os',
            '--ignore-unfixed',
            SOURCE_REF,
          ],
        },
        {
          name: JOB_CONTAINERS.patch,
          image: runtimeImage,
          terminationMessagePolicy: 'FallbackToLogsOnError',
          command: [
            RUNTIME_BIN.exporter,
            ...exporterExecArgs([
              RUNTIME_BIN.copa,
              'patch',
              '--image',
              SOURCE_REF,
              '--report',
              JOB_FILES.scanBefore,
              '--tag',
              PATCHED_TAG,
              '--push',
              '--addr',
              BUILDKIT_ADDRESS,
              '--timeout',
              '30m',
              '--output',
              JOB_FILES.vex,
            ]),
          ],
        },
        ...(steps.bom !== undefined
          ? [
              {
                name: JOB_CONTAINERS.bom,
                image: trivyImage,
                command: [
                  'trivy',
                  'image',
                  '--format',
                  'cyclonedx',
                  '--output',
                  JOB_FILES.bom,
                  PATCHED_REF,
                ],
              },
            ]
          : []),
      ],
      containers: [
        {
          name: JOB_CONTAINERS.verify,
          image: trivyImage,
          command: [
            'trivy',
            'image',
            '--format',
            'json',
            '--output',
            JOB_FILES.scanAfter,
            PATCHED_REF,
          ],
        },
      ],
    },
    status: {
      phase: spec.phase ?? 'Running',
      ...(spec.reason !== undefined && { reason: spec.reason }),
      startTime: iso(1),
      initContainerStatuses: [
        status(base, JOB_CONTAINERS.exporter, runtimeImage, { state: 'running' }, 0),
        status(base, JOB_CONTAINERS.buildkit, buildkitImage, steps.buildkitd, 0),
        status(base, JOB_CONTAINERS.scan, trivyImage, steps.scan, 1),
        status(base, JOB_CONTAINERS.patch, runtimeImage, steps.patch, 2),
        ...(steps.bom !== undefined
          ? [status(base, JOB_CONTAINERS.bom, trivyImage, steps.bom, 3)]
          : []),
      ],
      containerStatuses: [status(base, JOB_CONTAINERS.verify, trivyImage, steps.verify, 4)],
    },
  };
}

// ------------------------------------------------------------------ Trivy reports

export interface Finding {
  readonly id: string;
  readonly pkg: string;
  readonly severity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';
}

export const SOURCE_FINDINGS: readonly Finding[] = [
  { id: 'CVE-2024-6119', pkg: 'libssl3', severity: 'CRITICAL' },
  { id: 'CVE-2024-6119', pkg: 'openssl', severity: 'CRITICAL' },
  { id: 'CVE-2024-45490', pkg: 'libexpat1', severity: 'HIGH' },
  { id: 'CVE-2024-2511', pkg: 'libssl3', severity: 'MEDIUM' },
  { id: 'CVE-2023-50495', pkg: 'libtinfo6', severity: 'LOW' },
];

export function trivyReport(
  artifact: string,
  findings: readonly Finding[],
  repoDigests: readonly string[] = [],
): string {
  return JSON.stringify(
    {
      SchemaVersion: 2,
      CreatedAt: '2026-03-01T02:01:00.000000000Z',
      ArtifactName: artifact,
      ArtifactType: 'container_image',
      Metadata: {
        OS: { Family: 'debian', Name: '12.5' },
        ImageID: `sha256:${'ee'.repeat(32)}`,
        RepoTags: [artifact],
        RepoDigests: repoDigests,
      },
      Results: [
        {
          Target: `${artifact} (debian 12.5)`,
          Class: 'os-pkgs',
          Type: 'debian',
          ...(findings.length > 0 && {
            Vulnerabilities: findings.map((f) => ({
              VulnerabilityID: f.id,
              PkgName: f.pkg,
              InstalledVersion: '3.0.11-1~deb12u2',
              FixedVersion: '3.0.14-1~deb12u2',
              Severity: f.severity,
              Status: 'fixed',
            })),
          }),
        },
      ],
    },
    null,
    2,
  );
}

export const BEFORE_REPORT = trivyReport(SOURCE_REF, SOURCE_FINDINGS, [
  `${IMAGE}@${SOURCE_DIGEST}`,
]);
export const AFTER_REPORT = trivyReport(PATCHED_REF, [], [`${IMAGE}@${PATCHED_DIGEST}`]);

export const VEX_FIXED = JSON.stringify({
  '@context': 'https://openvex.dev/ns/v0.2.0',
  '@id': 'https://openvex.dev/docs/public/vex-0001',
  author: 'Project Copacetic',
  timestamp: '2026-03-01T02:05:00Z',
  version: 1,
  statements: [
    {
      vulnerability: { '@id': 'CVE-2024-6119' },
      products: [{ '@id': `pkg:oci/app?repository_url=${IMAGE}` }],
      status: 'fixed',
    },
    {
      vulnerability: { '@id': 'CVE-2024-45490' },
      products: [{ '@id': `pkg:oci/app?repository_url=${IMAGE}` }],
      status: 'fixed',
    },
  ],
});

export const BOM = JSON.stringify({
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  version: 1,
  components: [{ type: 'library', name: 'openssl', version: '3.0.14' }],
});

// ------------------------------------------------------------------ Copa logs

const log = (level: string, msg: string) =>
  `time="2026-03-01T02:02:00Z" level=${level} msg="${msg.replace(/"/g, '\\"')}"`;
const PREAMBLE = [
  log('info', `Patched image name: ${PATCHED_REF}`),
  log('warning', 'resolved media type is Docker'),
];

export const COPA_LOGS = {
  patched: [
    ...PREAMBLE,
    '#12 exporting to image',
    '#12 pushing layers 2.1s done',
    log('info', `Patched image (linux/amd64): ${PATCHED_REF}`),
  ].join('\n'),
  nothingToApply: [
    ...PREAMBLE,
    log('warning', 'No update packages were specified to apply'),
    log('info', `Patched image (linux/amd64): ${PATCHED_REF}`),
  ].join('\n'),
  /** Copa v0.14 when the package manager finds nothing to upgrade: it logs this and exits 0. */
  alreadyUpToDate: [
    ...PREAMBLE,
    log('info', 'No upgradable packages found for this image.'),
    log('info', 'Image is already up-to-date. No patch was applied.'),
  ].join('\n'),
  /** The warning, then the push of the unchanged image fails: a push failure, not up_to_date. */
  nothingToApplyThenPushFailed: [
    ...PREAMBLE,
    log('warning', 'No update packages were specified to apply'),
    '#12 exporting to image',
    `#12 ERROR: failed to push ${PATCHED_REF}: unexpected status from PUT request to https://registry.example.com/v2/team/app/manifests/${PATCHED_TAG}: 403 Forbidden`,
    `Error: failed to solve: failed to push ${PATCHED_REF}: unexpected status from PUT request to https://registry.example.com/v2/team/app/manifests/${PATCHED_TAG}: 403 Forbidden`,
  ].join('\n'),
  /** Copa's SIGTERM handling (pkg/patch/patch.go): a TUI error box, then exit 1. */
  canceled: [
    ...PREAMBLE,
    '#8 [internal] load metadata for docker.io/library/debian:bookworm-slim',
    '',
    '  Operation Canceled',
    '',
    '  Patch was canceled by user',
    '',
  ].join('\n'),
  /** buildkitd died mid-run: grpc-go's status text, no "buildkit" on the line. */
  buildkitEof: [
    ...PREAMBLE,
    '#9 [2/3] RUN apt-get update',
    'Error: failed to solve: rpc error: code = Unavailable desc = error reading from server: EOF',
  ].join('\n'),
  /** containerd's resolver when the source image needs credentials Copa does not have. */
  sourcePullDenied: [
    ...PREAMBLE,
    `Error: ${SOURCE_REF}: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
  ].join('\n'),
  /** The registry refused the push: containerd's pusher text inside BuildKit's `failed to push`. */
  pushDenied: [
    ...PREAMBLE,
    `Error: failed to solve: failed to push ${PATCHED_REF}: push access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
  ].join('\n'),
  installFailed: [
    ...PREAMBLE,
    '#9 ERROR: process "sh -c apt-get install --no-install-recommends -y libssl3=3.0.14-1~deb12u2" did not complete successfully: exit code: 100',
    'Error: process "sh -c apt-get install" did not complete successfully: exit code: 100',
  ].join('\n'),
  pushFailed: [
    ...PREAMBLE,
    '#12 exporting to image',
    `#12 ERROR: failed to push ${PATCHED_REF}: unexpected status from PUT request to https://registry.example.com/v2/team/app/manifests/${PATCHED_TAG}: 401 Unauthorized`,
    `Error: failed to solve: failed to push ${PATCHED_REF}: unexpected status from PUT request to https://registry.example.com/v2/team/app/manifests/${PATCHED_TAG}: 401 Unauthorized`,
  ].join('\n'),
  buildkitDown: [
    ...PREAMBLE,
    'Error: listing workers for Build: failed to list workers: Unavailable: connection error: desc = "transport: Error while dialing: dial unix /run/buildkit/buildkitd.sock: connect: no such file or directory"',
  ].join('\n'),
  /** containerd's resolver (errdefs.ErrNotFound) for a source tag that does not exist. */
  sourceMissing: [...PREAMBLE, `Error: ${SOURCE_REF}: not found`].join('\n'),
  copaTimeout: [
    ...PREAMBLE,
    log('error', 'patch exceeded timeout 30m0s'),
    'Error: patch exceeded timeout 30m0s',
  ].join('\n'),
} as const;

// ------------------------------------------------------------------ scenarios

export interface WorkFilesSpec {
  readonly scanBefore?: string;
  readonly scanAfter?: string;
  readonly copaLog?: string;
  readonly copaExit?: string;
  readonly vex?: string;
  readonly bom?: string;
}

export interface Scenario {
  readonly description: string;
  readonly outcome: RunOutcome;
  /** The pod, created at `createdAt` (epoch ms). */
  readonly pod: (createdAt: number) => Record<string, unknown>;
  readonly files: WorkFilesSpec;
  /** The exporter gets SIGTERM (before it sees the run end) at this pod age in seconds. */
  readonly sigtermAtAgeSeconds?: number;
}

const failed = (exitCode: number, message?: string): StepSpec => ({
  state: 'terminated',
  exitCode,
  reason: 'Error',
  ...(message !== undefined && { message }),
});
const copaFailed = (copaLog: string): WorkFilesSpec => ({
  scanBefore: BEFORE_REPORT,
  copaLog,
  copaExit: '1\n',
});
const patchFailedPod = (createdAt: number) =>
  jobPod({ createdAt, phase: 'Failed', steps: { patch: failed(1), verify: initializing } });

/** One realistic scenario per outcome the exporter can report (pod_not_started and missed_schedule are the collector's). */
export const SCENARIOS: readonly Scenario[] = [
  {
    description: 'Copa patched and pushed; verify resolved the pushed digest',
    outcome: 'patched',
    pod: (createdAt) => jobPod({ createdAt }),
    files: {
      scanBefore: BEFORE_REPORT,
      scanAfter: AFTER_REPORT,
      copaLog: COPA_LOGS.patched,
      copaExit: '0\n',
      vex: VEX_FIXED,
      bom: BOM,
    },
  },
  {
    description: 'Copa exited 0 after "No update packages were specified to apply"',
    outcome: 'up_to_date',
    pod: (createdAt) => jobPod({ createdAt }),
    files: {
      scanBefore: BEFORE_REPORT,
      scanAfter: AFTER_REPORT,
      copaLog: COPA_LOGS.nothingToApply,
      copaExit: '0\n',
      bom: BOM,
    },
  },
  {
    description: 'the Trivy scan failed (vulnerability DB download error)',
    outcome: 'scan_failed',
    pod: (createdAt) =>
      jobPod({
        createdAt,
        phase: 'Failed',
        steps: {
          scan: failed(
            1,
            'FATAL\tFatal error\tinit error: DB error: failed to download vulnerability DB',
          ),
          patch: initializing,
          verify: initializing,
        },
      }),
    files: {},
  },
  {
    description: 'the scan ended 0 but wrote a truncated report',
    outcome: 'report_invalid',
    pod: patchFailedPod,
    files: {
      scanBefore: BEFORE_REPORT.slice(0, 200),
      copaLog: 'Error: unexpected end of JSON input',
      copaExit: '1\n',
    },
  },
  {
    description: 'apt-get failed inside Copa',
    outcome: 'patch_failed',
    pod: patchFailedPod,
    files: copaFailed(COPA_LOGS.installFailed),
  },
  {
    description: 'the registry refused the push (401)',
    outcome: 'push_failed',
    pod: patchFailedPod,
    files: copaFailed(COPA_LOGS.pushFailed),
  },
  {
    description: 'BuildKit socket absent',
    outcome: 'buildkit_unavailable',
    pod: patchFailedPod,
    files: copaFailed(COPA_LOGS.buildkitDown),
  },
  {
    description: 'the runtime image of the patch step cannot be pulled',
    outcome: 'image_pull_failed',
    pod: (createdAt) =>
      jobPod({
        createdAt,
        deleting: true,
        steps: {
          patch: {
            state: 'waiting',
            reason: 'ImagePullBackOff',
            message: 'Back-off pulling image "ghcr.io/example/copa-fleet-runtime:0.1.0"',
          },
          verify: initializing,
        },
      }),
    files: { scanBefore: BEFORE_REPORT },
    sigtermAtAgeSeconds: DEADLINE_SECONDS,
  },
  {
    description: 'the Job deadline stopped Copa while it was still patching',
    outcome: 'timeout',
    pod: (createdAt) =>
      jobPod({
        createdAt,
        deleting: true,
        steps: { patch: { state: 'running' }, verify: initializing },
      }),
    files: { scanBefore: BEFORE_REPORT, copaLog: PREAMBLE.join('\n') },
    sigtermAtAgeSeconds: DEADLINE_SECONDS + 2,
  },
  {
    description:
      'the pod was deleted mid-patch, long before the deadline: Copa logged "Patch was canceled by user" and exited 1',
    outcome: 'canceled',
    pod: (createdAt) =>
      jobPod({
        createdAt,
        deleting: true,
        phase: 'Failed',
        steps: { patch: failed(1), verify: initializing },
      }),
    files: copaFailed(COPA_LOGS.canceled),
    sigtermAtAgeSeconds: 600,
  },
  {
    description: 'the patch step was OOM-killed',
    outcome: 'oom_killed',
    pod: (createdAt) =>
      jobPod({
        createdAt,
        phase: 'Failed',
        steps: {
          patch: { state: 'terminated', exitCode: 137, reason: 'OOMKilled' },
          verify: initializing,
        },
      }),
    files: { scanBefore: BEFORE_REPORT, copaLog: PREAMBLE.join('\n') },
  },
  {
    description: 'Copa died of a segmentation fault',
    outcome: 'crashed',
    pod: (createdAt) =>
      jobPod({ createdAt, phase: 'Failed', steps: { patch: failed(139), verify: initializing } }),
    files: {
      scanBefore: BEFORE_REPORT,
      copaLog: PREAMBLE.join('\n'),
      copaExit: 'signal:SIGSEGV\n',
    },
  },
  {
    description: 'the exporter was stopped early (pod deleted by hand) with nothing to go on',
    outcome: 'unknown',
    pod: (createdAt) =>
      jobPod({
        createdAt,
        deleting: true,
        steps: { scan: { state: 'running' }, patch: initializing, verify: initializing },
      }),
    files: {},
    sigtermAtAgeSeconds: 120,
  },
];

export function scenario(outcome: RunOutcome): Scenario {
  const found = SCENARIOS.find((s) => s.outcome === outcome);
  if (found === undefined) throw new Error(`no scenario for ${outcome}`);
  return found;
}
