/**
 * A fast block-style YAML writer for JSON-shaped Kubernetes objects that produces exactly the bytes
 * of `yaml`'s `stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })`.
 *
 * Why: `yaml` builds a node tree per document and tests every scalar against every tag; for 5,000
 * CronJobs that was most of synth's time and memory. Here the structure (maps, sequences, indents)
 * is written directly, and every scalar whose rendering is not trivially plain is rendered once by
 * `yaml` itself (memoised), so quoting rules stay the library's. A document with anything outside
 * this subset (multi-line strings, non-JSON values) is handed to `yaml` whole.
 */
import { stringify } from 'yaml';

const OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** Strings that `yaml` writes plain in any block context: a letter or `/` first, then a safe set. */
const PLAIN = /^[A-Za-z/][A-Za-z0-9._/-]*$/;
/** ...unless the core schema would read them as something else. */
const CORE_WORD = /^(?:true|false|null|y|n|yes|no|on|off)$/i;

class Unsupported extends Error {}

const valueCache = new Map<string, string>();
const keyCache = new Map<string, string>();

/** `yaml` writes longer keys as explicit `? key` entries; the fast path stays well below that. */
const MAX_FAST_LENGTH = 512;

function isPlain(value: string): boolean {
  return value.length <= MAX_FAST_LENGTH && PLAIN.test(value) && !CORE_WORD.test(value);
}

function scalarString(value: string): string {
  if (isPlain(value)) return value;
  let rendered = valueCache.get(value);
  if (rendered === undefined) {
    if (value.includes('\n')) throw new Unsupported();
    rendered = stringify(value, OPTIONS).slice(0, -1);
    if (rendered.includes('\n')) throw new Unsupported();
    valueCache.set(value, rendered);
  }
  return rendered;
}

function keyString(key: string): string {
  if (isPlain(key)) return key;
  let rendered = keyCache.get(key);
  if (rendered === undefined) {
    if (key.includes('\n')) throw new Unsupported();
    const line = stringify({ [key]: 1 }, OPTIONS);
    if (!line.endsWith(': 1\n') || line.indexOf('\n') !== line.length - 1) throw new Unsupported();
    rendered = line.slice(0, -': 1\n'.length);
    keyCache.set(key, rendered);
  }
  return rendered;
}

/** The inline rendering of a scalar or empty collection; undefined for a non-empty collection. */
function inline(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return scalarString(value);
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : stringify(value, OPTIONS).slice(0, -1);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) throw new Unsupported();
      for (const key in value) if (Object.hasOwn(value, key)) return undefined;
      return '{}';
    default:
      throw new Unsupported();
  }
}

/** Appends a map's entries; the first entry goes on the current line when `firstInline` (a sequence item). */
function writeMap(out: string[], map: Record<string, unknown>, indent: string, firstInline: boolean): void {
  let first = firstInline;
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (value === undefined) throw new Unsupported();
    const prefix = first ? '' : indent;
    first = false;
    const scalar = inline(value);
    if (scalar !== undefined) {
      out.push(`${prefix}${keyString(key)}: ${scalar}\n`);
    } else if (Array.isArray(value)) {
      out.push(`${prefix}${keyString(key)}:\n`);
      writeSeq(out, value, `${indent}  `);
    } else {
      out.push(`${prefix}${keyString(key)}:\n`);
      writeMap(out, value as Record<string, unknown>, `${indent}  `, false);
    }
  }
}

function writeSeq(out: string[], seq: readonly unknown[], indent: string): void {
  for (const item of seq) {
    const scalar = inline(item);
    if (scalar !== undefined) {
      out.push(`${indent}- ${scalar}\n`);
    } else if (Array.isArray(item)) {
      // Nested sequences are rare in manifests: let `yaml` decide their layout.
      throw new Unsupported();
    } else {
      out.push(`${indent}- `);
      writeMap(out, item as Record<string, unknown>, `${indent}  `, true);
    }
  }
}

/** One YAML document (no `---`), byte for byte what `yaml` writes with { lineWidth: 0, aliasDuplicateObjects: false }. */
export function blockYaml(document: unknown): string {
  try {
    const scalar = inline(document);
    if (scalar !== undefined || Array.isArray(document)) return stringify(document, OPTIONS);
    const out: string[] = [];
    writeMap(out, document as Record<string, unknown>, '', false);
    return out.join('');
  } catch (error) {
    if (error instanceof Unsupported) return stringify(document, OPTIONS);
    throw error;
  }
}
