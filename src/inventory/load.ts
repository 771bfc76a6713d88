/**
 * Reads the inventory: YAML -> zod -> Inventory with defaults applied. Every problem becomes an
 * InventoryIssue with file, line, column and field path, and all of them are reported at once
 * (YAML syntax errors first: a document that does not parse is not validated further).
 */
import { readFile } from 'node:fs/promises';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from 'yaml';
import type { z } from 'zod';
import {
  describeValue,
  foundSuffix,
  inventoryErrorMap,
  knownKeysAt,
  quote,
  unknownKeyMessage,
} from './issue-messages.ts';
import { inventoryImageKeys } from './exceptions-schema.ts';
import { type Inventory, inventorySchema } from './schema.ts';
import { type ImportedException, importExceptionFiles } from './vex-import.ts';
import { type PathSegment, type Target, YamlLocator } from './yaml-locate.ts';
import { fileErrorReason } from '../support/file-errors.ts';

export interface InventoryIssue {
  readonly file: string;
  /** 1-based; 0 when the problem has no position (e.g. the file cannot be read). */
  readonly line: number;
  readonly column: number;
  /** Field path such as `images[3].schedule`; empty for problems of the document as a whole. */
  readonly path: string;
  readonly message: string;
}

export class InventoryError extends Error {
  override readonly name = 'InventoryError';

  constructor(readonly issues: readonly InventoryIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

/** `inventory.yaml:12:7: images[3].schedule: is not a valid cron expression (got "61 * * * *")` */
export function formatIssue(issue: InventoryIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return issue.path === ''
    ? `${where}: ${issue.message}`
    : `${where}: ${issue.path}: ${issue.message}`;
}

/** `['images', 3, 'schedule']` -> `images[3].schedule`; keys that are not identifiers are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let result = '';
  for (const segment of path) {
    if (typeof segment === 'number') result += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(segment)))
      result += result === '' ? String(segment) : `.${String(segment)}`;
    else result += `[${JSON.stringify(String(segment))}]`;
  }
  return result;
}

const EMPTY_MESSAGE =
  'the inventory is empty: expected a map with at least an "images" list (see docs/inventory.md)';

/** The validated inventory and the exceptions imported from its `exceptionFiles`. */
export interface LoadedInventory extends Inventory {
  readonly importedExceptions: readonly ImportedException[];
}

/**
 * Parses and validates inventory YAML; throws InventoryError listing every problem. OpenVEX files
 * named in `exceptionFiles` are read relative to `file`'s directory.
 */
export function parseInventory(text: string, file: string): LoadedInventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new YamlLocator(doc, lineCounter);
  const at = (offset: number) => locator.positionAt(offset);

  const yamlIssues: InventoryIssue[] = [...doc.errors, ...doc.warnings].map((error) => ({
    file,
    ...at(error.pos[0]),
    ...yamlProblem(doc, text, error),
  }));
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined) {
        yamlIssues.push({
          file,
          ...at(alias.range?.[0] ?? 0),
          path: '',
          message: `alias *${alias.source} refers to no anchor defined before it`,
        });
      }
    },
  });
  if (yamlIssues.length > 0) throw new InventoryError(sortIssues(yamlIssues));

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    throw new InventoryError([{ file, line: 1, column: 1, path: '', message: EMPTY_MESSAGE }]);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new InventoryError([
      {
        file,
        line: 1,
        column: 1,
        path: '',
        message: `the YAML cannot be read: ${(error as Error).message}`,
      },
    ]);
  }

  const result = inventorySchema.safeParse(data, { error: inventoryErrorMap });
  if (result.success) {
    const imported = importExceptionFiles(
      result.data.exceptionFiles,
      file,
      inventoryImageKeys(result.data.images),
    );
    if (imported.problems.length === 0)
      return { ...result.data, importedExceptions: imported.exceptions };
    const path = (index: number) => ['exceptionFiles', index, 'path'];
    throw new InventoryError(
      sortIssues(
        imported.problems.map(({ index, message }) => ({
          file,
          ...locator.position(path(index)),
          path: formatPath(path(index)),
          message,
        })),
      ),
    );
  }

  const issues = result.error.issues.flatMap((issue) =>
    describeIssue(issue, data, (path) => locator.scalarSource(path, text)).map((found) => ({
      file,
      ...locator.position(found.path, found.target),
      path: formatPath(found.path),
      message: found.message,
    })),
  );
  throw new InventoryError(sortIssues(issues));
}

/** Reads and validates the inventory at `file`; an unreadable file is an InventoryError too. */
export async function loadInventory(file: string): Promise<LoadedInventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InventoryError([
      {
        file,
        line: 0,
        column: 0,
        path: '',
        message: `cannot read the inventory: ${fileErrorReason(error)}`,
      },
    ]);
  }
  return parseInventory(text, file);
}

interface FoundIssue {
  readonly path: readonly PathSegment[];
  readonly target: Target;
  readonly message: string;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
  sourceAt: (path: readonly PathSegment[]) => string | undefined,
): FoundIssue[] {
  const path = issue.path;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(inventorySchema, path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        target: 'key',
        message: unknownKeyMessage(key, known),
      }));
    }
    case 'invalid_key':
      return [{ path, target: 'key', message: issue.message }];
    case 'invalid_type': {
      const value = valueAt(data, path);
      if (path.length === 0) {
        return [
          {
            path,
            target: 'value',
            message: `the top level must be a map (key: value) with at least an "images" list, got ${describeValue(value)}`,
          },
        ];
      }
      const source = sourceAt(path);
      // YAML reads `1.10` as the number 1.1 and `true` as a boolean: a string needs quotes.
      const hint =
        issue.expected === 'string' &&
        (typeof value === 'number' || typeof value === 'boolean') &&
        source !== undefined
          ? ` (write it in quotes to keep it a string: "${source.replaceAll('"', '\\"')}")`
          : '';
      return [{ path, target: 'value', message: `${issue.message}${hint}` }];
    }
    default:
      return [
        {
          path,
          target: 'value',
          message: `${issue.message}${foundSuffix(issue.message, valueAt(data, path))}`,
        },
      ];
  }
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** The message and, for a duplicate key, the path of the key that repeats. */
function yamlProblem(
  doc: Document,
  text: string,
  error: YAMLError,
): { path: string; message: string } {
  if (error.code === 'DUPLICATE_KEY') {
    const path = pathToKeyAt(doc.contents, error.pos[0]);
    const key = path?.at(-1);
    const shown =
      key === undefined ? quote(text.slice(error.pos[0], error.pos[1])) : quote(String(key));
    return {
      path: path === undefined ? '' : formatPath(path),
      message: `duplicate key ${shown}: each key may appear only once in a map`,
    };
  }
  if (error.code === 'MULTIPLE_DOCS')
    return {
      path: '',
      message: 'the inventory must be a single YAML document (remove the extra "---")',
    };
  return { path: '', message: `YAML syntax error: ${error.message}` };
}

/** The path to the map key that starts at `offset`, searching the whole document. */
function pathToKeyAt(node: unknown, offset: number): PathSegment[] | undefined {
  const current = isAlias(node) ? undefined : (node as Node | null | undefined);
  if (isMap(current)) {
    for (const pair of current.items) {
      const key = isScalar(pair.key) ? pair.key : undefined;
      const name = key === undefined ? String(pair.key) : String(key.value);
      if (key?.range?.[0] === offset) return [name];
      const below = pathToKeyAt(pair.value, offset);
      if (below !== undefined) return [name, ...below];
    }
  } else if (isSeq(current)) {
    for (const [index, item] of current.items.entries()) {
      const below = pathToKeyAt(item, offset);
      if (below !== undefined) return [index, ...below];
    }
  }
  return undefined;
}

function sortIssues(issues: readonly InventoryIssue[]): InventoryIssue[] {
  const seen = new Set<string>();
  return [...issues]
    .sort(
      (a, b) =>
        a.line - b.line || a.column - b.column || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    )
    .filter((issue) => {
      const key = formatIssue(issue);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
