/**
 * Pod Security Standard `restricted` settings, in one place, for every generated pod. The one
 * documented exception, the rootless BuildKit sidecar, is `buildkitSecurityContext` below and
 * docs/deploying.md explains it.
 */
import { k8s } from 'cdk8s-plus-33';

/** UID/GID of the copa-fleet runtime image (exporter, collector, Copa) and of the Trivy steps. */
export const RUNTIME_UID = 65532;
/** The moby/buildkit `*-rootless` images run as `user` (1000); another UID needs a rebuilt image. */
export const BUILDKIT_UID = 1000;
/** The prom/pushgateway image runs as `nobody`. */
export const PUSHGATEWAY_UID = 65534;

const RUNTIME_DEFAULT_SECCOMP: k8s.SeccompProfile = { type: 'RuntimeDefault' };

/** Pod-level: non-root, explicit user/group, fsGroup so that every container can share emptyDirs. */
export function restrictedPodSecurityContext(uid: number): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}

/** Container-level `restricted`: also set per container so that no pod-level default is relied upon. */
export function restrictedSecurityContext(uid: number): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}

/**
 * THE ONE PSS EXCEPTION: rootless BuildKit (moby/buildkit `*-rootless`, run with
 * `--oci-worker-no-process-sandbox`). Its RootlessKit creates a user namespace and mounts inside
 * it, which the RuntimeDefault seccomp and AppArmor profiles block, so both are `Unconfined`; and
 * it maps the subordinate UID range with the setuid helper `newuidmap`/`newgidmap`, which needs
 * privilege escalation and CAP_SETUID/CAP_SETGID in the bounding set. Everything else stays
 * restricted: non-root UID 1000, read-only root filesystem (state, XDG runtime dir and tmp are
 * emptyDirs), every other capability dropped, not privileged. Upstream reference:
 * moby/buildkit examples/kubernetes/*.rootless.yaml and docs/rootless.md. Use a remote BuildKit
 * (`defaults.buildkit.address`) to remove the exception altogether.
 */
export function buildkitSecurityContext(): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: BUILDKIT_UID,
    runAsGroup: BUILDKIT_UID,
    readOnlyRootFilesystem: true,
    privileged: false,
    allowPrivilegeEscalation: true,
    capabilities: { drop: ['ALL'], add: ['SETUID', 'SETGID'] },
    seccompProfile: { type: 'Unconfined' },
    // The appArmorProfile field is GA since Kubernetes 1.30 (the beta annotation is deprecated).
    appArmorProfile: { type: 'Unconfined' },
  };
}
