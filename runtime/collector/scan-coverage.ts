/**
 * Never-scanned containers (Threat 3: a gap must show as a gap, not as green). A running container
 * whose digest has no VulnerabilityReport (trivy-operator failed on it, or skips it) has unknown
 * CVEs: `fleet_unscanned_containers` counts them per image (RunningImageNotScanned), and those
 * not already known to be non-compliant (a pre-patch digest is non-compliant whatever its CVEs)
 * feed `fleet_compliance_unknown_containers`, which the compliance ratio does not count compliant.
 */
import type { RunningContainer } from '../../src/shared/drift.ts';

export interface ScanCoverage {
  /** Running containers whose digest has no report. */
  readonly unscanned: number;
  /** Of those, the ones not on a pre-patch digest: neither known compliant nor known non-compliant. */
  readonly unknown: number;
}

/**
 * `scanned(digest)`: a report (or the last known one, while trivy-operator re-creates it after its
 * TTL) exists for the image at that digest. `patchedDigest`: the image's latest patched digest, if any.
 */
export function scanCoverage(
  containers: readonly RunningContainer[],
  scanned: (digest: string) => boolean,
  patchedDigest: string | undefined,
): ScanCoverage {
  let unscanned = 0;
  let unknown = 0;
  for (const c of containers) {
    if (scanned(c.digest)) continue;
    unscanned += 1;
    if (patchedDigest === undefined || patchedDigest === c.digest) unknown += 1;
  }
  return { unscanned, unknown };
}
