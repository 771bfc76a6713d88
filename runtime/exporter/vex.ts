/**
 * Reads Copa's `--output` OpenVEX document: the statements that say a vulnerability was `fixed`.
 * Copa writes it only when it applied updates, so a document with fixed statements is evidence of
 * a patch, and an empty or absent one (with exit 0) is evidence of "nothing to do".
 *
 * The fixed vulnerability ids are kept as evidence (issue 13), not only counted: the exporter
 * logs them and writes them into the CronJob's patched-digest record (`PatchedDigestRecord.fixed`),
 * next to the digest they were fixed in. OpenVEX v0.2 names a vulnerability by `name` (and an
 * `@id` IRI); Copa (go-vex) writes the CVE id in both. Older documents use a plain string.
 */
export type VexResult =
  | {
      readonly status: 'ok';
      readonly fixed: number;
      readonly fixedVulnerabilities: readonly string[];
    }
  | { readonly status: 'missing' }
  | { readonly status: 'invalid'; readonly error: string };

/**
 * At most this many ids go into the patched-digest record (`fixedCount` counts them all): the
 * record is read by the collector's watch on every change, and ids beyond a few hundred add size,
 * not evidence (the exporter's `vex_fixed` log line lists every one).
 */
export const MAX_RECORDED_FIXED = 200;

export function parseVex(text: string): VexResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: 'invalid', error: 'not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { status: 'invalid', error: 'not a JSON object' };
  const statements = (json as Record<string, unknown>).statements ?? [];
  if (!Array.isArray(statements)) return { status: 'invalid', error: 'statements is not an array' };
  const fixedStatements = statements.filter(
    (s): s is Record<string, unknown> =>
      typeof s === 'object' && s !== null && (s as Record<string, unknown>).status === 'fixed',
  );
  const ids = new Set<string>();
  for (const statement of fixedStatements) {
    const id = vulnerabilityId(statement.vulnerability);
    if (id !== undefined) ids.add(id);
  }
  return { status: 'ok', fixed: fixedStatements.length, fixedVulnerabilities: [...ids].sort() };
}

function vulnerabilityId(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, '@id': iri } = value as { name?: unknown; '@id'?: unknown };
  if (typeof name === 'string' && name !== '') return name;
  return typeof iri === 'string' && iri !== '' ? iri : undefined;
}
