/**
 * Reads Copa's `--output` OpenVEX document: how many statements say a vulnerability was `fixed`.
 * Copa writes it only when it applied updates, so a document with fixed statements is evidence of
 * a patch, and an empty or absent one (with exit 0) is evidence of "nothing to do".
 */
export type VexResult =
  | { readonly status: 'ok'; readonly fixed: number }
  | { readonly status: 'missing' }
  | { readonly status: 'invalid'; readonly error: string };

export function parseVex(text: string): VexResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: 'invalid', error: 'not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { status: 'invalid', error: 'not a JSON object' };
  const statements = (json as Record<string, unknown>).statements ?? [];
  if (!Array.isArray(statements)) return { status: 'invalid', error: 'statements is not an array' };
  const fixed = statements.filter((s) => typeof s === 'object' && s !== null && (s as Record<string, unknown>).status === 'fixed').length;
  return { status: 'ok', fixed };
}
