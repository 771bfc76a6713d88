/**
 * Reads a Trivy JSON report (`trivy image --format json`, schema version 2): validity, fixable
 * vulnerability counts per severity, and the repo digests Trivy resolved for the scanned image.
 *
 * The scan runs with `--ignore-unfixed`, so every listed vulnerability has a fix: the counts are
 * the "fixable OS vulnerabilities" of copa_image_vulnerabilities.
 */
import { SEVERITIES, toSeverity, type Severity } from '../../src/shared/metrics.ts';
import { normalizeDigest, parseImageRef } from '../../src/shared/image-ref.ts';

export const TRIVY_SCHEMA_VERSION = 2;

export interface TrivySummary {
  readonly artifactName: string;
  /** Every severity present, zero when none (Trivy's spellings mapped by toSeverity). */
  readonly counts: Readonly<Record<Severity, number>>;
  readonly total: number;
  /** `Metadata.RepoDigests`, e.g. `registry.example.com/app@sha256:…`. */
  readonly repoDigests: readonly string[];
}

export type TrivyReportResult =
  | { readonly status: 'ok'; readonly summary: TrivySummary }
  | { readonly status: 'missing' }
  | { readonly status: 'invalid'; readonly error: string };

/** Parses the text of a report file; never throws. */
export function parseTrivyReport(text: string): TrivyReportResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return invalid(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(json)) return invalid('not a JSON object');
  if (json.SchemaVersion !== TRIVY_SCHEMA_VERSION)
    return invalid(
      `SchemaVersion is ${JSON.stringify(json.SchemaVersion)}, expected ${TRIVY_SCHEMA_VERSION}`,
    );
  if (typeof json.ArtifactName !== 'string' || json.ArtifactName === '')
    return invalid('ArtifactName is missing');
  const results = json.Results ?? [];
  if (!Array.isArray(results)) return invalid('Results is not an array');

  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const seen = new Set<string>();
  for (const [i, result] of results.entries()) {
    if (!isObject(result)) return invalid(`Results[${i}] is not an object`);
    const vulnerabilities = result.Vulnerabilities ?? [];
    if (!Array.isArray(vulnerabilities))
      return invalid(`Results[${i}].Vulnerabilities is not an array`);
    for (const [j, vulnerability] of vulnerabilities.entries()) {
      if (
        !isObject(vulnerability) ||
        typeof vulnerability.VulnerabilityID !== 'string' ||
        typeof vulnerability.Severity !== 'string'
      ) {
        return invalid(`Results[${i}].Vulnerabilities[${j}] has no VulnerabilityID or Severity`);
      }
      // One finding per CVE x package x installed version: Trivy repeats a package's CVE per target.
      const key = `${vulnerability.VulnerabilityID}\u0000${String(vulnerability.PkgName)}\u0000${String(vulnerability.InstalledVersion)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      counts[toSeverity(vulnerability.Severity)] += 1;
    }
  }
  const metadata = isObject(json.Metadata) ? json.Metadata : {};
  const repoDigests = Array.isArray(metadata.RepoDigests)
    ? metadata.RepoDigests.filter((d): d is string => typeof d === 'string')
    : [];
  return {
    status: 'ok',
    summary: { artifactName: json.ArtifactName, counts, total: seen.size, repoDigests },
  };
}

/** The digest Trivy resolved for `repository` (normalised), from `Metadata.RepoDigests`. */
export function digestFor(summary: TrivySummary, repository: string): string | undefined {
  for (const entry of summary.repoDigests) {
    const parsed = parseImageRef(entry);
    if (parsed.ok && parsed.ref.name === repository && parsed.ref.digest !== undefined) {
      const digest = normalizeDigest(parsed.ref.digest);
      if (digest !== undefined) return digest;
    }
  }
  return undefined;
}

function invalid(error: string): TrivyReportResult {
  return { status: 'invalid', error };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
