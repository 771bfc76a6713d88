/**
 * What Copa's log says, as evidence for the classifier. Copa (v0.14) writes no result file and exits
 * 1 for every error, so the log lines are the only way to tell a push error from a BuildKit error.
 *
 * Every pattern is tied to the upstream text it matches (file, version). Copa v0.14.2 is
 * github.com/project-copacetic/copacetic; it talks to BuildKit through moby/buildkit's client
 * (v0.2x), which resolves registry references with containerd's docker resolver.
 * Which sign wins when a log carries several is the classifier's decision (classify.ts), not ours.
 *
 * Deliberately not matched: `no patchable vulnerabilities found in provided report for selected
 * pkg-types (…)` (pkg/patch/single.go in Copa sources with `--pkg-types` filtering) is returned only when
 * every update of the report is filtered out by `--pkg-types`; our scan report is OS packages only
 * (TRIVY_FIXABLE_OS in src/constructs/copa-job-pod.ts) and Copa's default is `os`, so it cannot occur.
 * `failed to export image … push`, `could not use buildkitd driver` (printed only without `--addr`)
 * and `failed to resolve source metadata for` (not on Copa's gateway-client path) match nothing
 * Copa v0.14 prints for our invocation.
 */
export const COPA_LOG_SIGNS = {
  /** Copa's own verdict that nothing was fixable; v0.14 exits 0 after it. */
  upToDate: [
    // pkg/patch (v0.14): logged when the package manager returned ErrNoUpdatesFound; Copa exits 0.
    /Image is already up-to-date/i,
    // pkg/pkgmgr/dpkg.go (v0.14): `No upgradable packages found for this image.` before ErrNoUpdatesFound.
    /No upgradable packages found for this image/i,
    // pkg/types (v0.14): the text of ErrNoUpdatesFound, `no package updates found for image`.
    /no package updates found for image/i,
  ],
  /**
   * pkg/pkgmgr/{dpkg,apk,rpm}.go (v0.14): `log.Warn("No update packages were specified to apply")`
   * when the report lists nothing for this image; Copa goes on (and pushes), so this is evidence of
   * "nothing to do" only when Copa then exits 0, never against a later failure.
   */
  noUpdatesWarning: [/No update packages were specified to apply/],
  /**
   * pkg/patch/patch.go (v0.14): the parent context was canceled (main.go cancels it on SIGINT/SIGTERM):
   * `Patch was canceled by user`, then exit 1. A stop from outside: pod deleted, node drained, deadline.
   */
  canceled: [/Patch was canceled by user/i],
  /** pkg/patch/patch.go (v0.14): Copa's own `--timeout` expired: `patch exceeded timeout <d>` (and the TUI's `Patch exceeded timeout of <d>`). */
  timeout: [/patch exceeded timeout/i],
  buildkitUnavailable: [
    // moby/buildkit client/build.go + client/workers.go: Copa's bkClient.Build lists workers first,
    // `listing workers for Build: failed to list workers: Unavailable: connection error: ...`.
    /failed to list workers/i,
    // grpc-go internal/transport: the buildkitd socket or address cannot be dialled.
    /transport: Error while dialing/i,
    // grpc-go credentials: the mTLS handshake with a remote buildkitd failed.
    /authentication handshake failed/i,
    // grpc-go status text (`rpc error: code = Unavailable desc = error reading from server: EOF` when
    // buildkitd dies mid-run). buildkitd is Copa's only gRPC peer; registry errors are HTTP statuses.
    /\bcode = Unavailable\b/,
  ],
  pushFailed: [
    // moby/buildkit util/push/push.go: `failed to push <ref>: <cause>`.
    /failed to push\b/i,
    // containerd core/remotes/docker (pusher): `push access denied, repository does not exist or may require authorization`.
    /push access denied/i,
  ],
  sourcePullFailed: [
    // containerd core/remotes/docker/resolver.go (Resolve): the registry refused the source image,
    // `pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: ...`.
    /pull access denied, repository does not exist or may require authorization/i,
    // containerd core/remotes/docker/resolver.go (Resolve): `<ref>: not found` (errdefs.ErrNotFound) for a
    // missing source image or tag; `<ref>` is a registry reference with a tag or digest.
    /[\w.-]+(?::\d+)?\/\S*?(?::[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64}): not found\b/,
  ],
} as const satisfies Record<string, readonly RegExp[]>;

export type CopaLogSign = keyof typeof COPA_LOG_SIGNS;

/** The first log line matching each sign (trimmed), for the decision's evidence. */
export function readCopaLog(log: string): Partial<Record<CopaLogSign, string>> {
  const lines = log.split(/\r?\n/);
  const found: Partial<Record<CopaLogSign, string>> = {};
  for (const sign of Object.keys(COPA_LOG_SIGNS) as CopaLogSign[]) {
    for (const line of lines) {
      if (COPA_LOG_SIGNS[sign].some((pattern) => pattern.test(line))) {
        found[sign] = line.trim().slice(0, 500);
        break;
      }
    }
  }
  return found;
}
