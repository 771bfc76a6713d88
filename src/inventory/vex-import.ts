/**
 * `exceptionFiles:`: OpenVEX documents (v0.2.0, and the v0.0.x spellings still in the wild) whose
 * `not_affected` statements become exceptions. OpenVEX carries no owner, ticket or expiry, so the
 * inventory entry that imports the file gives them for all of its statements.
 *
 * Products name images as OCI package URLs (`pkg:oci/<name>[@<digest>]?repository_url=<repo>[&tag=<tag>]`,
 * the purl spec's OCI type) or as plain image references. A digest in a purl pins one build; the
 * exception follows the repository (or tag) across patches, so only the repository and tag count.
 * Statements naming none of our images are skipped: vendor VEX files cover many products.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileErrorReason } from '../support/file-errors.ts';
import { DEFAULT_TAG, parseImageRef } from '../shared/image-ref.ts';
import {
  type ExceptionEntry,
  type ExceptionFileEntry,
  type InventoryImageKeys,
  vulnerabilityId,
} from './exceptions-schema.ts';

/** An exception read from an OpenVEX statement, in the shape of an inline one. */
export interface ImportedException extends ExceptionEntry {
  /** `<path>#statements[<n>]`, for the evidence trail. */
  readonly source: string;
}

export interface VexImport {
  readonly exceptions: readonly ImportedException[];
  /** Problems by index into `exceptionFiles`. */
  readonly problems: readonly { readonly index: number; readonly message: string }[];
}

type Loose = Readonly<Record<string, unknown>>;
const asObject = (value: unknown): Loose | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Loose)
    : undefined;

export function importExceptionFiles(
  entries: readonly ExceptionFileEntry[],
  inventoryFile: string,
  images: InventoryImageKeys,
): VexImport {
  const exceptions: ImportedException[] = [];
  const problems: { index: number; message: string }[] = [];
  entries.forEach((entry, index) => {
    const result = importOne(entry, resolve(dirname(inventoryFile), entry.path), images);
    if (typeof result === 'string') problems.push({ index, message: result });
    else exceptions.push(...result);
  });
  return { exceptions, problems };
}

function importOne(
  entry: ExceptionFileEntry,
  file: string,
  images: InventoryImageKeys,
): ImportedException[] | string {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return error instanceof SyntaxError
      ? `${entry.path} is not JSON: ${error.message}`
      : `cannot read ${entry.path}: ${fileErrorReason(error)}`;
  }
  const statements = asObject(document)?.statements;
  if (!Array.isArray(statements))
    return `${entry.path} is not an OpenVEX document: it has no "statements" list`;

  const imported: ImportedException[] = [];
  for (const [n, raw] of statements.entries()) {
    const statement = asObject(raw);
    if (statement?.status !== 'not_affected') continue;
    const vulnerability = vulnerabilityName(statement.vulnerability);
    const where = `${entry.path}: statements[${n}]`;
    if (vulnerability === undefined || !vulnerabilityId.safeParse(vulnerability).success) {
      return `${where}: vulnerability ${JSON.stringify(vulnerability ?? statement.vulnerability)} is not a CVE or GHSA id`;
    }
    const scopes = [
      ...new Set(
        productIds(statement.products)
          .map((id) => productScope(id, images))
          .filter((s) => s !== undefined),
      ),
    ].sort();
    if (scopes.length === 0) continue;
    const text = [statement.justification, statement.impact_statement].filter(
      (s): s is string => typeof s === 'string' && s !== '',
    );
    imported.push({
      id: vulnerability,
      images: scopes,
      reason: 'not_affected',
      statement: text.length > 0 ? text.join(': ') : 'OpenVEX status not_affected',
      owner: entry.owner,
      ticket: entry.ticket,
      approved: entry.approved,
      expires: entry.expires,
      source: `${entry.path}#statements[${n}]`,
    });
  }
  if (imported.length === 0)
    return `${entry.path} imports nothing: no "not_affected" statement names an image of the inventory`;
  return imported;
}

/** v0.2.0: `{ name: "CVE-…" }`; v0.0.x: the id as a string. */
function vulnerabilityName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const name = asObject(value)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** v0.2.0: `[{ "@id": "pkg:…" }]`; v0.0.x: `["pkg:…"]`. */
function productIds(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((product) => {
    if (typeof product === 'string') return [product];
    const id = asObject(product)?.['@id'];
    return typeof id === 'string' ? [id] : [];
  });
}

/** The exception scope key (`repo` or `repo:tag`) a product names, when it is one of ours. */
function productScope(id: string, images: InventoryImageKeys): string | undefined {
  const reference = id.startsWith('pkg:oci/') ? ociPurlReference(id) : id;
  if (reference === undefined) return undefined;
  const parsed = parseImageRef(reference);
  if (!parsed.ok || !images.repositories.has(parsed.ref.name)) return undefined;
  if (parsed.ref.tag === undefined || parsed.ref.tag === DEFAULT_TAG) return parsed.ref.name;
  const tagged = `${parsed.ref.name}:${parsed.ref.tag}`;
  return images.tagged.has(tagged) ? tagged : parsed.ref.name;
}

/** `pkg:oci/nginx@sha256:…?repository_url=docker.io/library/nginx&tag=1.27` -> `docker.io/library/nginx:1.27`. */
function ociPurlReference(purl: string): string | undefined {
  const [path = '', query = ''] = purl.slice('pkg:oci/'.length).split('?', 2);
  const name = decodeURIComponent(path.split('@', 1)[0] ?? '');
  const qualifiers = new URLSearchParams(query);
  const repository = qualifiers.get('repository_url') ?? name;
  if (repository === '') return undefined;
  const tag = qualifiers.get('tag');
  return tag === null ? repository : `${repository}:${tag}`;
}
