/**
 * The one YAML writer for every generated file: `yaml`'s YAML 1.2 output, except that every string
 * a YAML 1.1 reader would take for something else is double-quoted.
 *
 * Why: kubectl (sigs.k8s.io/yaml over go-yaml v2) and PyYAML read YAML 1.1, where plain `y`, `n`,
 * `yes`, `no`, `on`, `off` are booleans, `1_000`, `0b101`, `1:20` (sexagesimal) are numbers,
 * `2001-12-14` is a timestamp, and PyYAML reads a plain `=` as its `value` tag and `<<` as a merge
 * key. `yaml` writes those plain (they are strings in 1.2), so a namespace `no` or a team `yes`
 * became a boolean in kubectl. The check asks `yaml`'s own YAML 1.1 schema how it would read the
 * plain text, plus the words no schema resolves the same way in every reader (booleans in any
 * case, `=`, `<<`, `.inf`/`.nan` spellings). Quoting a string is always safe in both versions, so
 * the rule errs on the side of quoting. test/synth/yaml-1-1.test.ts proves it on every file.
 */
import { Document, parse, Scalar, visit } from 'yaml';

/** The options every generated YAML file is written with: long lines never fold (diffable PromQL), no anchors. */
export const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/**
 * Readers differ on case and on these non-core tags: quote them whatever a schema says. The last
 * form (`e0`, `E-5`) is a float to `yaml`'s own 1.1 schema (its exponent needs no digits before
 * it); block-yaml's fast path relies on this list for every string that starts with a letter.
 */
export const ALWAYS_QUOTED =
  /^(?:y|n|yes|no|on|off|true|false|null|~|=|<<|[-+]?\.(?:inf|nan)|e[-+]?[0-9]+)$/i;

const misreadCache = new Map<string, boolean>();

/**
 * True when `value` must be quoted for YAML 1.1 readers although `yaml` would write it plain: it
 * reads back as itself in YAML 1.2 but not in 1.1. (A string that does not read back plain in 1.2
 * is quoted by `yaml` already, in whichever style it picks.)
 */
export function misreadBy11(value: string): boolean {
  if (value.includes('\n')) return false; // never written plain
  let misread = misreadCache.get(value);
  if (misread === undefined) {
    misread = ALWAYS_QUOTED.test(value) || (readsBack(value, '1.2') && !readsBack(value, '1.1'));
    misreadCache.set(value, misread);
  }
  return misread;
}

function readsBack(value: string, version: '1.1' | '1.2'): boolean {
  try {
    return parse(value, { version, logLevel: 'silent' }) === value;
  } catch {
    return false;
  }
}

/** `value` as a YAML document: what `yaml.stringify(value, YAML_OPTIONS)` writes, with 1.1-ambiguous strings quoted. */
export function toYaml(value: unknown): string {
  const document = new Document(value, YAML_OPTIONS);
  visit(document, {
    Scalar(_key, node) {
      if (
        typeof node.value === 'string' &&
        node.type !== Scalar.QUOTE_DOUBLE &&
        misreadBy11(node.value)
      )
        node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return document.toString(YAML_OPTIONS);
}
