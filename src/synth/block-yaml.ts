/**
 * A fast block-style YAML writer for JSON-shaped Kubernetes objects that produces exactly the bytes
 * of `toYaml` (src/outputs/yaml.ts: `yaml`'s stringify with strings that YAML 1.1 would misread quoted).
 *
 * Why: `yaml` builds a node tree per document and tests every scalar against every tag; for 5,000
 * CronJobs that was most of synth's time and memory. Here the structure (maps, sequences, indents)
 * is written directly, and every scalar whose rendering is not trivially plain is rendered once by
 * `toYaml` itself (memoised), so quoting rules stay in one place. A document with anything outside
 * this subset (multi-line strings, non-JSON values) is handed to `toYaml` whole.
 */
import { ALWAYS_QUOTED, toYaml } from '../outputs/yaml.ts';

/**
 * Strings that are plain in any block context and in YAML 1.1 and 1.2 alike: a letter or `/`
 * first, then a safe set (1.1 reads numbers, timestamps and sexagesimals only after a digit, sign
 * or dot), unless they are one of the words readers resolve to booleans or null.
 */
const PLAIN = /^[A-Za-z/][A-Za-z0-9._/-]*$/;

class Unsupported extends Error {}

const valueCache = new Map<string, string>();
const keyCache = new Map<string, string>();

/** `yaml` writes longer keys as explicit `? key` entries; the fast path stays well below that. */
const MAX_FAST_LENGTH = 512;

function isPlain(value: string): boolean {
  return value.length <= MAX_FAST_LENGTH && PLAIN.test(value) && !ALWAYS_QUOTED.test(value);
}

function scalarString(value: string): string {
  if (isPlain(value)) return value;
  let rendered = valueCache.get(value);
  if (rendered === undefined) {
    if (value.includes('\n')) throw new Unsupported();
    rendered = toYaml(value).slice(0, -1);
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
    const line = toYaml({ [key]: 1 });
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
      return Number.isSafeInteger(value) && !Object.is(value, -0)
        ? String(value)
        : toYaml(value).slice(0, -1);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
      if (
        Object.getPrototypeOf(value) !== Object.prototype &&
        Object.getPrototypeOf(value) !== null
      )
        throw new Unsupported();
      for (const key in value) if (Object.hasOwn(value, key)) return undefined;
      return '{}';
    default:
      throw new Unsupported();
  }
}

/** Appends a map's entries; the first entry goes on the current line when `firstInline` (a sequence item). */
function writeMap(
  out: string[],
  map: Record<string, unknown>,
  indent: string,
  firstInline: boolean,
): void {
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

/** One YAML document (no `---`), byte for byte what `toYaml` writes. */
export function blockYaml(document: unknown): string {
  try {
    const scalar = inline(document);
    if (scalar !== undefined || Array.isArray(document)) return toYaml(document);
    const out: string[] = [];
    writeMap(out, document as Record<string, unknown>, '', false);
    return out.join('');
  } catch (error) {
    if (error instanceof Unsupported) return toYaml(document);
    throw error;
  }
}
