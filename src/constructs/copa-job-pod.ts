/**
 * The pod of one Copa patch run, in strict order (src/shared/contract.ts JOB_CONTAINERS):
 *
 *   1. exporter   native sidecar: starts first, is stopped last, reports whatever happened
 *   2. buildkitd  native sidecar: rootless BuildKit (absent with a remote BuildKit)
 *   3. scan       init: Trivy scan of the source image -> JOB_FILES.scanBefore
 *   4. patch      init: `copa patch --push` through `copa-fleet-exporter exec` (keeps log and exit code)
 *   5. bom        init, only with Dependency-Track: CycloneDX BOM of the patched image
 *   6. verify     main: Trivy scan of the pushed patched image -> JOB_FILES.scanAfter
 *
 * Native sidecars (init containers with `restartPolicy: Always`) need Kubernetes >= 1.29; the
 * BuildKit sidecar's `appArmorProfile` field needs >= 1.30 (see docs/deploying.md).
 *
 * Built as a typed PodSpec (cdk8s-plus-33's generated k8s types) rather than with cdk8s-plus
 * containers: the order of native sidecars and init containers, the per-container security
 * exception, `terminationMessagePolicy` and resource quantities written exactly as in the
 * inventory are all part of the contract here.
 */
import { k8s } from 'cdk8s-plus-33';
import type { PatchRunSpec } from '../model/patch-run.ts';
import {
  BUILDKIT_ADDRESS,
  BUILDKIT_SOCKET_DIR,
  digestRecordName,
  EXPORTER_ENV,
  type ExporterOptions,
  exporterExecArgs,
  exporterReportArgs,
  JOB_CONTAINERS,
  JOB_FILES,
  PUSHGATEWAY_CREDENTIALS_DIR,
  RUNTIME_BIN,
  WORK_DIR,
} from '../shared/contract.ts';
import { basicAuthVolume } from './basic-auth-volume.ts';
import { fleetPushgatewayUrl } from './names.ts';
import { containerResources } from './resources.ts';
import {
  BUILDKIT_UID,
  buildkitSecurityContext,
  RUNTIME_UID,
  restrictedPodSecurityContext,
  restrictedSecurityContext,
} from './security.ts';

/** Seconds the exporter may spend pushing after the run ended (it retries the Pushgateway). */
export const EXPORTER_GRACE_SECONDS = 60;
/** The pod's grace period leaves the exporter its grace plus time to write the digest store. */
export const JOB_TERMINATION_GRACE_SECONDS = EXPORTER_GRACE_SECONDS + 30;

const VOLUMES = {
  work: 'work',
  tmp: 'tmp',
  trivyCache: 'trivy-cache',
  registryCredentials: 'registry-credentials',
  kubeApiAccess: 'kube-api-access',
  buildkitSocket: 'buildkit-socket',
  buildkitState: 'buildkit-state',
  buildkitRun: 'buildkit-run',
  buildkitTmp: 'buildkit-tmp',
  buildkitTls: 'buildkit-tls',
  pushgatewayCredentials: 'pushgateway-credentials',
} as const;

/** Mount paths inside the containers. */
export const JOB_PATHS = {
  tmp: '/tmp',
  trivyCache: '/trivy-cache',
  /** DOCKER_CONFIG: the registry-credentials Secret's `.dockerconfigjson` appears here as `config.json`. */
  dockerConfig: '/docker-config',
  /** Where client-go / @kubernetes/client-node look for the in-cluster credentials. */
  serviceAccount: '/var/run/secrets/kubernetes.io/serviceaccount',
  buildkitTls: '/etc/buildkit/tls',
  /** The rootless image's paths for user 1000: state, XDG_RUNTIME_DIR and TMPDIR. */
  buildkitState: '/home/user/.local/share/buildkit',
  buildkitRun: `/run/user/${BUILDKIT_UID}`,
  buildkitTmp: '/home/user/.local/tmp',
} as const;

/** Token lifetime of the exporter's projected ServiceAccount token (the kubelet refreshes it). */
const TOKEN_EXPIRATION_SECONDS = 3600;
/** Key of a kubernetes.io/dockerconfigjson Secret. */
const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';

/** The pod of one run; every container reads the run's spec (src/model/patch-run.ts), nothing else. */
export function copaJobPodSpec(run: PatchRunSpec): k8s.PodSpec {
  return {
    serviceAccountName: run.image.name,
    // Only the exporter talks to the API: it alone mounts a token (the kube-api-access volume).
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: JOB_TERMINATION_GRACE_SECONDS,
    securityContext: restrictedPodSecurityContext(RUNTIME_UID),
    initContainers: [
      exporterContainer(run),
      ...(run.buildkit.mode === 'sidecar' ? [buildkitContainer(run.buildkit)] : []),
      scanContainer(run),
      patchContainer(run),
      ...(run.dependencyTrack !== undefined ? [bomContainer(run)] : []),
    ],
    containers: [verifyContainer(run)],
    volumes: volumes(run),
  };
}

/** The exporter's `report` options: the one place the generator fills the exporter contract. */
export function exporterOptions(run: PatchRunSpec): ExporterOptions {
  const { image, dependencyTrack } = run;
  return {
    image: image.image,
    cronjob: image.name,
    sourceRef: image.sourceRef,
    patchedRef: image.patchedRef,
    copaVersion: run.copa.version,
    pushgatewayUrl: fleetPushgatewayUrl({ url: run.pushgatewayUrl }, run.namespace),
    ...(run.pushgatewayCredentialsSecret !== undefined && {
      pushgatewayCredentialsDir: PUSHGATEWAY_CREDENTIALS_DIR,
    }),
    namespace: run.namespace,
    digestStore: digestRecordName(image.name),
    graceSeconds: EXPORTER_GRACE_SECONDS,
    deadlineSeconds: run.job.activeDeadlineSeconds,
    ...(dependencyTrack !== undefined && {
      dependencyTrackUrl: dependencyTrack.url,
      dependencyTrackProjectVersion: dependencyTrack.projectVersion,
    }),
  };
}

/** `copa patch` arguments (Copa v0.14 flags), run through `copa-fleet-exporter exec`. */
export function copaPatchCommand(run: PatchRunSpec): string[] {
  const remote = run.buildkit.mode === 'remote';
  const address = run.buildkit.mode === 'remote' ? run.buildkit.address : BUILDKIT_ADDRESS;
  const tls = remote
    ? [
        '--cacert',
        `${JOB_PATHS.buildkitTls}/ca.pem`,
        '--cert',
        `${JOB_PATHS.buildkitTls}/cert.pem`,
        '--key',
        `${JOB_PATHS.buildkitTls}/key.pem`,
      ]
    : [];
  return [
    RUNTIME_BIN.copa,
    'patch',
    '--image',
    run.image.sourceRef,
    '--report',
    JOB_FILES.scanBefore,
    '--tag',
    run.image.patchedTag,
    '--push',
    '--addr',
    address,
    ...tls,
    '--timeout',
    run.copa.timeout,
    '--format',
    'openvex',
    '--output',
    JOB_FILES.vex,
  ];
}

function exporterContainer(run: PatchRunSpec): k8s.Container {
  const { dependencyTrack } = run;
  const fieldEnv = (name: string, fieldPath: string): k8s.EnvVar => ({
    name,
    valueFrom: { fieldRef: { fieldPath } },
  });
  return {
    name: JOB_CONTAINERS.exporter,
    image: run.runtimeImage,
    imagePullPolicy: 'IfNotPresent',
    // Native sidecar: running before the steps start and stopped only after they all ended.
    restartPolicy: 'Always',
    command: [RUNTIME_BIN.exporter],
    args: exporterReportArgs(exporterOptions(run)),
    env: [
      fieldEnv(EXPORTER_ENV.podName, 'metadata.name'),
      fieldEnv(EXPORTER_ENV.podNamespace, 'metadata.namespace'),
      ...(dependencyTrack === undefined
        ? []
        : [
            {
              name: EXPORTER_ENV.dependencyTrackApiKey,
              valueFrom: {
                secretKeyRef: {
                  name: dependencyTrack.apiKey.name,
                  key: dependencyTrack.apiKey.key,
                },
              },
            },
          ]),
    ],
    resources: containerResources(run.exporterResources),
    securityContext: restrictedSecurityContext(RUNTIME_UID),
    volumeMounts: [
      { name: VOLUMES.work, mountPath: WORK_DIR },
      { name: VOLUMES.kubeApiAccess, mountPath: JOB_PATHS.serviceAccount, readOnly: true },
      // The push credential: in this container only, so no Copa or Trivy step can push a result.
      ...(run.pushgatewayCredentialsSecret !== undefined
        ? [
            {
              name: VOLUMES.pushgatewayCredentials,
              mountPath: PUSHGATEWAY_CREDENTIALS_DIR,
              readOnly: true,
            },
          ]
        : []),
    ],
  };
}

function buildkitContainer(
  buildkit: Extract<PatchRunSpec['buildkit'], { mode: 'sidecar' }>,
): k8s.Container {
  const buildctl = ['buildctl', '--addr', BUILDKIT_ADDRESS, 'debug', 'workers'];
  return {
    name: JOB_CONTAINERS.buildkit,
    image: buildkit.image,
    imagePullPolicy: 'IfNotPresent',
    restartPolicy: 'Always',
    // The image's entrypoint is `rootlesskit buildkitd`; the socket goes to the emptyDir Copa mounts too.
    args: ['--addr', BUILDKIT_ADDRESS, '--oci-worker-no-process-sandbox'],
    // Until this succeeds the kubelet starts no later init container: Copa never races the daemon.
    startupProbe: {
      exec: { command: buildctl },
      periodSeconds: 2,
      timeoutSeconds: 5,
      failureThreshold: 60,
    },
    resources: containerResources(buildkit.resources),
    // THE PSS EXCEPTION (see security.ts and docs/deploying.md).
    securityContext: buildkitSecurityContext(),
    volumeMounts: [
      { name: VOLUMES.buildkitSocket, mountPath: BUILDKIT_SOCKET_DIR },
      { name: VOLUMES.buildkitState, mountPath: JOB_PATHS.buildkitState },
      { name: VOLUMES.buildkitRun, mountPath: JOB_PATHS.buildkitRun },
      { name: VOLUMES.buildkitTmp, mountPath: JOB_PATHS.buildkitTmp },
      // Its own scratch space, also at /tmp: the root filesystem is read-only.
      { name: VOLUMES.buildkitTmp, mountPath: JOB_PATHS.tmp, subPath: 'tmp' },
    ],
  };
}

/**
 * Registry credentials for Trivy and Copa, and a writable HOME: the steps run as UIDs without a
 * home directory in their images, on a read-only root filesystem.
 */
function stepEnv(): k8s.EnvVar[] {
  return [
    { name: 'DOCKER_CONFIG', value: JOB_PATHS.dockerConfig },
    { name: 'HOME', value: JOB_PATHS.tmp },
  ];
}

/** Flags shared by every Trivy step: same cache, same quiet output, same timeout. */
function trivyCommon(run: PatchRunSpec): string[] {
  return ['--cache-dir', JOB_PATHS.trivyCache, '--timeout', run.trivy.timeout, '--no-progress'];
}

/** Fixable OS vulnerabilities only: what Copa can patch, counted the same way before and after. */
const TRIVY_FIXABLE_OS = ['--scanners', 'vuln', '--pkg-types', 'os', '--ignore-unfixed'];

/**
 * How a Trivy step ends the pod. The scan of the source image gates the patch (`gate`). The steps
 * after the patch only add evidence (`evidence`): when Copa found nothing to fix it pushes nothing,
 * so the patched tag may not exist yet, and a failed after-scan must not turn an up-to-date run
 * into a failed Job. The exporter reads a missing after-report as "no after-scan".
 */
type TrivyStep = 'gate' | 'evidence';

/** The Trivy image is Alpine-based, so `sh` is there to keep an evidence step's exit status 0. */
const EVIDENCE_WRAPPER = [
  'sh',
  '-c',
  'trivy "$@" || echo "copa-fleet: trivy exited $?; no report for the patched image" >&2',
  'trivy',
];

function trivyContainer(
  run: PatchRunSpec,
  name: string,
  args: string[],
  step: TrivyStep,
): k8s.Container {
  return {
    name,
    image: run.trivy.image,
    imagePullPolicy: 'IfNotPresent',
    command: step === 'gate' ? ['trivy'] : EVIDENCE_WRAPPER,
    args,
    env: stepEnv(),
    // Trivy's error (e.g. "manifest unknown") becomes the termination message the exporter reads.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    resources: containerResources(run.trivy.resources),
    securityContext: restrictedSecurityContext(RUNTIME_UID),
    volumeMounts: [
      { name: VOLUMES.work, mountPath: WORK_DIR },
      { name: VOLUMES.tmp, mountPath: JOB_PATHS.tmp },
      { name: VOLUMES.trivyCache, mountPath: JOB_PATHS.trivyCache },
      { name: VOLUMES.registryCredentials, mountPath: JOB_PATHS.dockerConfig, readOnly: true },
    ],
  };
}

function scanContainer(run: PatchRunSpec): k8s.Container {
  return trivyContainer(
    run,
    JOB_CONTAINERS.scan,
    [
      'image',
      '--format',
      'json',
      '--output',
      JOB_FILES.scanBefore,
      ...TRIVY_FIXABLE_OS,
      ...trivyCommon(run),
      run.image.sourceRef,
    ],
    'gate',
  );
}

function bomContainer(run: PatchRunSpec): k8s.Container {
  return trivyContainer(
    run,
    JOB_CONTAINERS.bom,
    [
      'image',
      '--format',
      'cyclonedx',
      '--output',
      JOB_FILES.bom,
      // The scan step downloaded the vulnerability DB into the shared cache moments ago.
      '--skip-db-update',
      ...trivyCommon(run),
      run.image.patchedRef,
    ],
    'evidence',
  );
}

function verifyContainer(run: PatchRunSpec): k8s.Container {
  return trivyContainer(
    run,
    JOB_CONTAINERS.verify,
    [
      'image',
      '--format',
      'json',
      '--output',
      JOB_FILES.scanAfter,
      ...TRIVY_FIXABLE_OS,
      // Same DB as the scan step: before and after counts are comparable.
      '--skip-db-update',
      ...trivyCommon(run),
      run.image.patchedRef,
    ],
    'evidence',
  );
}

function patchContainer(run: PatchRunSpec): k8s.Container {
  return {
    name: JOB_CONTAINERS.patch,
    image: run.runtimeImage,
    imagePullPolicy: 'IfNotPresent',
    command: [RUNTIME_BIN.exporter],
    args: exporterExecArgs(copaPatchCommand(run)),
    env: stepEnv(),
    terminationMessagePolicy: 'FallbackToLogsOnError',
    resources: containerResources(run.copa.resources),
    // Runs as the rootless daemon's UID: the BuildKit socket belongs to that user, so connecting
    // needs no assumption about the socket's group or mode.
    securityContext: restrictedSecurityContext(BUILDKIT_UID),
    volumeMounts: [
      { name: VOLUMES.work, mountPath: WORK_DIR },
      { name: VOLUMES.tmp, mountPath: JOB_PATHS.tmp },
      { name: VOLUMES.registryCredentials, mountPath: JOB_PATHS.dockerConfig, readOnly: true },
      run.buildkit.mode === 'remote'
        ? { name: VOLUMES.buildkitTls, mountPath: JOB_PATHS.buildkitTls, readOnly: true }
        : { name: VOLUMES.buildkitSocket, mountPath: BUILDKIT_SOCKET_DIR },
    ],
  };
}

function volumes(run: PatchRunSpec): k8s.Volume[] {
  const emptyDir = (name: string): k8s.Volume => ({ name, emptyDir: {} });
  const readable = 0o440; // owner and fsGroup: every step runs with the pod's fsGroup
  return [
    emptyDir(VOLUMES.work),
    emptyDir(VOLUMES.tmp),
    emptyDir(VOLUMES.trivyCache),
    {
      name: VOLUMES.registryCredentials,
      secret: {
        secretName: run.registryCredentialsSecret,
        defaultMode: readable,
        items: [{ key: DOCKER_CONFIG_JSON_KEY, path: 'config.json' }],
      },
    },
    {
      // What automountServiceAccountToken would mount, for the exporter container only.
      name: VOLUMES.kubeApiAccess,
      projected: {
        defaultMode: readable,
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: TOKEN_EXPIRATION_SECONDS } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardApi: {
              items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    },
    ...(run.pushgatewayCredentialsSecret !== undefined
      ? [basicAuthVolume(VOLUMES.pushgatewayCredentials, run.pushgatewayCredentialsSecret)]
      : []),
    ...(run.buildkit.mode === 'remote'
      ? [
          {
            name: VOLUMES.buildkitTls,
            secret: { secretName: run.buildkit.tlsSecret, defaultMode: readable },
          },
        ]
      : [
          emptyDir(VOLUMES.buildkitSocket),
          emptyDir(VOLUMES.buildkitState),
          emptyDir(VOLUMES.buildkitRun),
          emptyDir(VOLUMES.buildkitTmp),
        ]),
  ];
}
