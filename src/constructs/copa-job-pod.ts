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
import type { Fleet, FleetImage } from '../model/fleet.ts';
import {
  BUILDKIT_ADDRESS,
  BUILDKIT_SOCKET_DIR,
  CONFIGMAPS,
  EXPORTER_ENV,
  type ExporterOptions,
  exporterExecArgs,
  exporterReportArgs,
  JOB_CONTAINERS,
  JOB_FILES,
  RUNTIME_BIN,
  WORK_DIR,
} from '../shared/contract.ts';
import { fleetPushgatewayUrl } from './names.ts';
import { containerResources } from './resources.ts';
import { BUILDKIT_UID, buildkitSecurityContext, RUNTIME_UID, restrictedPodSecurityContext, restrictedSecurityContext } from './security.ts';

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

/** Everything about one image's run that the containers need. */
interface RunContext {
  readonly image: FleetImage;
  readonly fleet: Fleet;
  readonly remoteBuildkit: boolean;
}

export function copaJobPodSpec(image: FleetImage, fleet: Fleet): k8s.PodSpec {
  const ctx: RunContext = { image, fleet, remoteBuildkit: fleet.inventory.defaults.buildkit.address !== undefined };
  const withBom = fleet.inventory.dependencyTrack !== undefined;
  return {
    serviceAccountName: image.name,
    // Only the exporter talks to the API: it alone mounts a token (the kube-api-access volume).
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: JOB_TERMINATION_GRACE_SECONDS,
    securityContext: restrictedPodSecurityContext(RUNTIME_UID),
    initContainers: [
      exporterContainer(ctx),
      ...(ctx.remoteBuildkit ? [] : [buildkitContainer(ctx)]),
      scanContainer(ctx),
      patchContainer(ctx),
      ...(withBom ? [bomContainer(ctx)] : []),
    ],
    containers: [verifyContainer(ctx)],
    volumes: volumes(ctx),
  };
}

/** The exporter's `report` options: the one place the generator fills the exporter contract. */
export function exporterOptions(image: FleetImage, fleet: Fleet): ExporterOptions {
  const { defaults, dependencyTrack } = fleet.inventory;
  return {
    image: image.image,
    cronjob: image.name,
    sourceRef: image.sourceRef,
    patchedRef: image.patchedRef,
    copaVersion: defaults.copa.version,
    pushgatewayUrl: fleetPushgatewayUrl(defaults.pushgateway, fleet.namespace),
    namespace: fleet.namespace,
    digestStore: CONFIGMAPS.patchedDigests,
    graceSeconds: EXPORTER_GRACE_SECONDS,
    deadlineSeconds: defaults.job.activeDeadlineSeconds,
    ...(dependencyTrack !== undefined && {
      dependencyTrackUrl: dependencyTrack.url,
      dependencyTrackProjectVersion: dependencyTrack.projectVersion === 'tag' ? image.tag : image.patchedTag,
    }),
  };
}

/** `copa patch` arguments (Copa v0.14 flags), run through `copa-fleet-exporter exec`. */
export function copaPatchCommand(ctx: RunContext): string[] {
  const { defaults } = ctx.fleet.inventory;
  const address = defaults.buildkit.address ?? BUILDKIT_ADDRESS;
  const tls = ctx.remoteBuildkit
    ? ['--cacert', `${JOB_PATHS.buildkitTls}/ca.pem`, '--cert', `${JOB_PATHS.buildkitTls}/cert.pem`, '--key', `${JOB_PATHS.buildkitTls}/key.pem`]
    : [];
  return [
    RUNTIME_BIN.copa,
    'patch',
    '--image', ctx.image.sourceRef,
    '--report', JOB_FILES.scanBefore,
    '--tag', ctx.image.patchedTag,
    '--push',
    '--addr', address,
    ...tls,
    '--timeout', defaults.copa.timeout,
    '--format', 'openvex',
    '--output', JOB_FILES.vex,
  ];
}

function exporterContainer(ctx: RunContext): k8s.Container {
  const { defaults, dependencyTrack } = ctx.fleet.inventory;
  const fieldEnv = (name: string, fieldPath: string): k8s.EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return {
    name: JOB_CONTAINERS.exporter,
    image: defaults.runtimeImage,
    imagePullPolicy: 'IfNotPresent',
    // Native sidecar: running before the steps start and stopped only after they all ended.
    restartPolicy: 'Always',
    command: [RUNTIME_BIN.exporter],
    args: exporterReportArgs(exporterOptions(ctx.image, ctx.fleet)),
    env: [
      fieldEnv(EXPORTER_ENV.podName, 'metadata.name'),
      fieldEnv(EXPORTER_ENV.podNamespace, 'metadata.namespace'),
      ...(dependencyTrack === undefined
        ? []
        : [{ name: EXPORTER_ENV.dependencyTrackApiKey, valueFrom: { secretKeyRef: { name: dependencyTrack.apiKey.name, key: dependencyTrack.apiKey.key } } }]),
    ],
    resources: containerResources(defaults.resources.exporter),
    securityContext: restrictedSecurityContext(RUNTIME_UID),
    volumeMounts: [
      { name: VOLUMES.work, mountPath: WORK_DIR },
      { name: VOLUMES.kubeApiAccess, mountPath: JOB_PATHS.serviceAccount, readOnly: true },
    ],
  };
}

function buildkitContainer(ctx: RunContext): k8s.Container {
  const { defaults } = ctx.fleet.inventory;
  const buildctl = ['buildctl', '--addr', BUILDKIT_ADDRESS, 'debug', 'workers'];
  return {
    name: JOB_CONTAINERS.buildkit,
    image: defaults.buildkit.image,
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
    resources: containerResources(defaults.resources.buildkit),
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
function trivyCommon(ctx: RunContext): string[] {
  return ['--cache-dir', JOB_PATHS.trivyCache, '--timeout', ctx.fleet.inventory.defaults.trivy.timeout, '--no-progress'];
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
const EVIDENCE_WRAPPER = ['sh', '-c', 'trivy "$@" || echo "copa-fleet: trivy exited $?; no report for the patched image" >&2', 'trivy'];

function trivyContainer(ctx: RunContext, name: string, args: string[], step: TrivyStep): k8s.Container {
  const { defaults } = ctx.fleet.inventory;
  return {
    name,
    image: defaults.trivy.image,
    imagePullPolicy: 'IfNotPresent',
    command: step === 'gate' ? ['trivy'] : EVIDENCE_WRAPPER,
    args,
    env: stepEnv(),
    // Trivy's error (e.g. "manifest unknown") becomes the termination message the exporter reads.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    resources: containerResources(defaults.resources.scan),
    securityContext: restrictedSecurityContext(RUNTIME_UID),
    volumeMounts: [
      { name: VOLUMES.work, mountPath: WORK_DIR },
      { name: VOLUMES.tmp, mountPath: JOB_PATHS.tmp },
      { name: VOLUMES.trivyCache, mountPath: JOB_PATHS.trivyCache },
      { name: VOLUMES.registryCredentials, mountPath: JOB_PATHS.dockerConfig, readOnly: true },
    ],
  };
}

function scanContainer(ctx: RunContext): k8s.Container {
  return trivyContainer(ctx, JOB_CONTAINERS.scan, [
    'image',
    '--format', 'json',
    '--output', JOB_FILES.scanBefore,
    ...TRIVY_FIXABLE_OS,
    ...trivyCommon(ctx),
    ctx.image.sourceRef,
  ], 'gate');
}

function bomContainer(ctx: RunContext): k8s.Container {
  return trivyContainer(ctx, JOB_CONTAINERS.bom, [
    'image',
    '--format', 'cyclonedx',
    '--output', JOB_FILES.bom,
    // The scan step downloaded the vulnerability DB into the shared cache moments ago.
    '--skip-db-update',
    ...trivyCommon(ctx),
    ctx.image.patchedRef,
  ], 'evidence');
}

function verifyContainer(ctx: RunContext): k8s.Container {
  return trivyContainer(ctx, JOB_CONTAINERS.verify, [
    'image',
    '--format', 'json',
    '--output', JOB_FILES.scanAfter,
    ...TRIVY_FIXABLE_OS,
    // Same DB as the scan step: before and after counts are comparable.
    '--skip-db-update',
    ...trivyCommon(ctx),
    ctx.image.patchedRef,
  ], 'evidence');
}

function patchContainer(ctx: RunContext): k8s.Container {
  const { defaults } = ctx.fleet.inventory;
  return {
    name: JOB_CONTAINERS.patch,
    image: defaults.runtimeImage,
    imagePullPolicy: 'IfNotPresent',
    command: [RUNTIME_BIN.exporter],
    args: exporterExecArgs(copaPatchCommand(ctx)),
    env: stepEnv(),
    terminationMessagePolicy: 'FallbackToLogsOnError',
    resources: containerResources(defaults.resources.patch),
    // Runs as the rootless daemon's UID: the BuildKit socket belongs to that user, so connecting
    // needs no assumption about the socket's group or mode.
    securityContext: restrictedSecurityContext(BUILDKIT_UID),
    volumeMounts: [
      { name: VOLUMES.work, mountPath: WORK_DIR },
      { name: VOLUMES.tmp, mountPath: JOB_PATHS.tmp },
      { name: VOLUMES.registryCredentials, mountPath: JOB_PATHS.dockerConfig, readOnly: true },
      ctx.remoteBuildkit
        ? { name: VOLUMES.buildkitTls, mountPath: JOB_PATHS.buildkitTls, readOnly: true }
        : { name: VOLUMES.buildkitSocket, mountPath: BUILDKIT_SOCKET_DIR },
    ],
  };
}

function volumes(ctx: RunContext): k8s.Volume[] {
  const { defaults } = ctx.fleet.inventory;
  const emptyDir = (name: string): k8s.Volume => ({ name, emptyDir: {} });
  const readable = 0o440; // owner and fsGroup: every step runs with the pod's fsGroup
  return [
    emptyDir(VOLUMES.work),
    emptyDir(VOLUMES.tmp),
    emptyDir(VOLUMES.trivyCache),
    {
      name: VOLUMES.registryCredentials,
      secret: {
        secretName: defaults.registryCredentialsSecret,
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
          { downwardApi: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
    ...(ctx.remoteBuildkit
      ? [
          {
            name: VOLUMES.buildkitTls,
            secret: { secretName: requiredTlsSecret(defaults.buildkit.tlsSecret), defaultMode: readable },
          },
        ]
      : [emptyDir(VOLUMES.buildkitSocket), emptyDir(VOLUMES.buildkitState), emptyDir(VOLUMES.buildkitRun), emptyDir(VOLUMES.buildkitTmp)]),
  ];
}

/** The schema requires `tlsSecret` with `address`; a model built around it is a programming error. */
function requiredTlsSecret(name: string | undefined): string {
  if (name === undefined) throw new Error('defaults.buildkit.tlsSecret is required with defaults.buildkit.address');
  return name;
}
