/**
 * The spec of one image's patch run: exactly what its CronJob, pod and containers need
 * (src/constructs/copa-patch-job.ts, copa-job-pod.ts), resolved from the fleet once. The
 * constructs read this, never the inventory.
 */
import type { Resources } from '../inventory/schema.ts';
import type { Fleet, FleetImage } from './fleet.ts';
import { pushgatewayAuth } from './pushgateway-auth.ts';

/**
 * How Copa reaches BuildKit: the rootless sidecar in every job pod (the one Pod Security
 * exception), or a remote buildkitd over mTLS (then every pod is `restricted`).
 */
export type BuildkitMode =
  | {
      readonly mode: 'sidecar';
      /** The rootless BuildKit image. */
      readonly image: string;
      readonly resources: Resources;
    }
  | {
      readonly mode: 'remote';
      /** `tcp://host:port` of the remote buildkitd. */
      readonly address: string;
      /** Secret with `ca.pem`, `cert.pem`, `key.pem`. */
      readonly tlsSecret: string;
    };

export interface SecretKey {
  readonly name: string;
  readonly key: string;
}

/** The Dependency-Track upload of the post-patch BOM. */
export interface DependencyTrackUpload {
  readonly url: string;
  /** Secret key of the API key (passed to the exporter as an environment variable). */
  readonly apiKey: SecretKey;
  /** The project version: the source or the patched tag, as the inventory chose. */
  readonly projectVersion: string;
}

/** The Trivy steps (scan before, verify after, BOM). */
export interface TrivySpec {
  readonly image: string;
  /** Trivy `--timeout` of each scan. */
  readonly timeout: string;
  readonly resources: Resources;
}

/** The Copa patch step. */
export interface CopaSpec {
  /** Reported as `copa_version`. */
  readonly version: string;
  /** Copa `--timeout`. */
  readonly timeout: string;
  readonly resources: Resources;
}

/** The CronJob and Job limits. */
export interface JobLimits {
  /** IANA time zone of the schedule (CronJob `spec.timeZone`). */
  readonly timeZone: string;
  readonly startingDeadlineSeconds: number;
  /** Hard limit of one run; the exporter also reports it as its deadline. */
  readonly activeDeadlineSeconds: number;
  readonly backoffLimit: number;
  readonly ttlSecondsAfterFinished: number;
}

export interface PatchRunSpec {
  /** The image: refs, tags, CronJob name (also ServiceAccount and Role name), team, schedule. */
  readonly image: FleetImage;
  /** The fleet namespace: the CronJob's, the digest store's and the generated Pushgateway's. */
  readonly namespace: string;
  /** The copa-fleet runtime image (exporter and Copa). */
  readonly runtimeImage: string;
  readonly exporterResources: Resources;
  readonly copa: CopaSpec;
  readonly trivy: TrivySpec;
  readonly buildkit: BuildkitMode;
  /** kubernetes.io/dockerconfigjson Secret with push access to the patched tag. */
  readonly registryCredentialsSecret: string;
  readonly job: JobLimits;
  /**
   * Where the exporter pushes the run's metrics.
   * @default - the generated Pushgateway's Service in `namespace`
   */
  readonly pushgatewayUrl?: string;
  /**
   * kubernetes.io/basic-auth Secret the exporter pushes with (mounted into the exporter only).
   * @default - unauthenticated pushes (src/model/pushgateway-auth.ts decides)
   */
  readonly pushgatewayCredentialsSecret?: string;
  /**
   * Upload the post-patch BOM to Dependency-Track.
   * @default - no BOM step and no upload
   */
  readonly dependencyTrack?: DependencyTrackUpload;
}

/** The fleet's BuildKit: a remote buildkitd when the inventory names an address, else the sidecar. */
export function buildkitMode(fleet: Fleet): BuildkitMode {
  const { buildkit, resources } = fleet.inventory.defaults;
  if (buildkit.address === undefined)
    return { mode: 'sidecar', image: buildkit.image, resources: resources.buildkit };
  // The schema requires tlsSecret with address (a located load error, schema.ts): present here.
  return { mode: 'remote', address: buildkit.address, tlsSecret: buildkit.tlsSecret as string };
}

export function patchRunSpec(image: FleetImage, fleet: Fleet): PatchRunSpec {
  const { defaults, dependencyTrack } = fleet.inventory;
  const auth = pushgatewayAuth(defaults.pushgateway);
  return {
    image,
    namespace: fleet.namespace,
    runtimeImage: defaults.runtimeImage,
    exporterResources: defaults.resources.exporter,
    copa: {
      version: defaults.copa.version,
      timeout: defaults.copa.timeout,
      resources: defaults.resources.patch,
    },
    trivy: {
      image: defaults.trivy.image,
      timeout: defaults.trivy.timeout,
      resources: defaults.resources.scan,
    },
    buildkit: buildkitMode(fleet),
    registryCredentialsSecret: defaults.registryCredentialsSecret,
    job: {
      timeZone: defaults.schedule.timeZone,
      startingDeadlineSeconds: defaults.job.startingDeadlineSeconds,
      activeDeadlineSeconds: defaults.job.activeDeadlineSeconds,
      backoffLimit: defaults.job.backoffLimit,
      ttlSecondsAfterFinished: defaults.job.ttlSecondsAfterFinished,
    },
    ...(defaults.pushgateway.url !== undefined && { pushgatewayUrl: defaults.pushgateway.url }),
    ...(auth !== undefined && { pushgatewayCredentialsSecret: auth.exporterSecret }),
    ...(dependencyTrack !== undefined && {
      dependencyTrack: {
        url: dependencyTrack.url,
        apiKey: { name: dependencyTrack.apiKey.name, key: dependencyTrack.apiKey.key },
        projectVersion: dependencyTrack.projectVersion === 'tag' ? image.tag : image.patchedTag,
      },
    }),
  };
}
