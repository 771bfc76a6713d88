/**
 * Wording of inventory errors for people editing YAML: "a map" and "a list" rather than zod's
 * "object" and "array", what was expected and what was found, and the closest known key for a
 * typo. Messages written in schema.ts take precedence over these.
 */
import { z } from 'zod';

/** zod's per-parse error map: the default message of every issue the schema does not word itself. */
export const inventoryErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `is required (expected ${expectedNoun(issue.expected)})`
        : `expected ${expectedNoun(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'too_small':
      return sizeMessage('at least', issue.origin, issue.minimum, issue.inclusive !== false);
    case 'too_big':
      return sizeMessage('at most', issue.origin, issue.maximum, issue.inclusive !== false);
    case 'invalid_format':
      if (issue.format === 'url') return 'must be a URL such as "https://example.com/path"';
      if (issue.format === 'regex' && 'pattern' in issue)
        return `must match the pattern ${String(issue.pattern)}`;
      return `must be a valid ${issue.format}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_key': {
      const inner = issue.issues[0]?.message;
      return `key ${JSON.stringify(issue.input)} is invalid${inner === undefined ? '' : `: it ${inner}`}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
};

function expectedNoun(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a map (key: value)';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'true or false';
    case 'int':
      return 'an integer';
    default:
      return `a ${expected}`;
  }
}

function sizeMessage(
  bound: 'at least' | 'at most',
  origin: string,
  limit: number | bigint,
  inclusive: boolean,
): string {
  const n = Number(limit);
  switch (origin) {
    case 'array':
      return bound === 'at least' && n === 1
        ? 'must not be empty'
        : `must list ${bound} ${n} item${n === 1 ? '' : 's'}`;
    case 'string':
      return bound === 'at least' && n === 1
        ? 'must not be empty'
        : `must be ${bound} ${n} character${n === 1 ? '' : 's'} long`;
    default:
      if (inclusive) return `must be ${bound} ${n}`;
      return `must be ${bound === 'at least' ? 'greater' : 'less'} than ${n}`;
  }
}

const MAX_SHOWN = 60;

/** How a found value reads in a message: `a list`, `the string "yes"`, `the number 12`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'number') return `the number ${String(value)}`;
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Uint8Array) return 'binary data';
  if (typeof value === 'object') return 'a map';
  return typeof value;
}

/** `value` as it appears after "got": quoted, shortened when long. */
export function quote(value: string): string {
  const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN - 1)}…` : value;
  return JSON.stringify(shown);
}

/** The scalar found at a path, for "(got …)" after a message that does not show it. */
export function foundSuffix(message: string, value: unknown): string {
  if (typeof value === 'string')
    return message.includes(quote(value)) ? '' : ` (got ${quote(value)})`;
  if (typeof value === 'number' || typeof value === 'boolean') {
    return message.includes(`got ${String(value)}`) ? '' : ` (got ${String(value)})`;
  }
  return '';
}

/** The known keys of the object schema at `path` in `schema` (for "did you mean"). */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.core.$ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.core.$ZodObject)
      current = unwrap(current._zod.def.shape[String(segment)]);
    else if (current instanceof z.core.$ZodArray) current = unwrap(current._zod.def.element);
    else if (current instanceof z.core.$ZodRecord) current = unwrap(current._zod.def.valueType);
    else return [];
  }
  return current instanceof z.core.$ZodObject ? Object.keys(current._zod.def.shape) : [];
}

/** Strips optional/default/prefault/nullable/pipe wrappers down to the schema that shapes the value. */
function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.core.$ZodOptional ||
      current instanceof z.core.$ZodDefault ||
      current instanceof z.core.$ZodPrefault ||
      current instanceof z.core.$ZodNullable
    ) {
      current = current._zod.def.innerType;
    } else if (current instanceof z.core.$ZodPipe) {
      current = current._zod.def.in;
    } else {
      return current;
    }
  }
}

/** The message for an unknown key: the closest known key when the typo is obvious, else the list. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = closest(key, known);
  if (suggestion !== undefined) return `unknown key; did you mean "${suggestion}"?`;
  return known.length === 0
    ? 'unknown key'
    : `unknown key; expected one of: ${[...known].sort().join(', ')}`;
}

/** A known key within a small edit distance of `key` (case differences count as none). */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`shcedule`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row !== undefined) row[j] = value;
    }
  }
  return at(a.length, b.length);
}
