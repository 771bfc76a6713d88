/**
 * What Copa's log says, as evidence for the classifier. Copa (v0.14) writes no result file and exits
 * 1 for every error, so the log lines are the only way to tell a push error from a BuildKit error.
 *
 * Each pattern is the text of a Copa or BuildKit message (checked against the Copa sources):
 * - nothing to do: pkgmgr's `No update packages were specified to apply` (report with no applicable
 *   updates), dpkg's `No upgradable packages found for this image.` and the `ErrNoUpdatesFound`
 *   text `no package updates found for image`, the multi-platform summary `Already up-to-date` /
 *   `Image is already up-to-date`, and newer releases' error `no patchable vulnerabilities found`.
 * - BuildKit unreachable: the BuildKit client's `failed to list workers` / gRPC `Error while dialing`
 *   on the buildkitd socket, `could not use buildkitd driver`.
 * - source image not pullable: BuildKit's `failed to resolve source metadata for <image>`.
 * - push failed: BuildKit's `failed to push <ref>`, registry `push access denied` / `insufficient_scope`.
 * - Copa's own timeout: `patch exceeded timeout`.
 */
export const COPA_LOG_SIGNS = {
  upToDate: [
    /No update packages were specified to apply/i,
    /No upgradable packages found/i,
    /no package updates found for image/i,
    /no patchable vulnerabilities found/i,
    /\balready up-to-date\b/i,
  ],
  buildkitUnavailable: [
    /failed to list workers/i,
    /could not use buildkitd driver/i,
    /Error while dialing[^\n]*buildkit/i,
    /dial (?:unix|tcp) [^\n]*buildkit[^\n]*(?:connection refused|no such file or directory)/i,
    /buildkit[^\n]*(?:connection refused|unavailable|handshake failed)/i,
  ],
  sourcePullFailed: [/failed to resolve source metadata for/i],
  pushFailed: [/failed to push\b/i, /push access denied/i, /insufficient_scope/i, /failed to export image[^\n]*push/i],
  timeout: [/patch exceeded timeout/i],
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
