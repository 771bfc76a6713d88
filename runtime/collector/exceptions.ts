/**
 * Risk acceptance in the collector: the reviewed exceptions of the inventory ConfigMap
 * (`CollectorInventory.exceptions`, FleetException of src/shared/exceptions.ts), indexed by
 * vulnerability, and the two questions the SLA families ask of them:
 *
 * - is a CVE on an image *accepted*: every running container that carries it (every tag of every
 *   carrying digest) is covered by an exception in force. Partly covered is not accepted: one
 *   uncovered workload keeps the breach counting;
 * - which exceptions *match* an image: some running container within the scope carries the
 *   vulnerability, in force or not (what `fleet_exception_covered_images` counts, and what
 *   CVEExceptionUnused watches).
 *
 * Whether an exception is in force is decided here at run time with the collector's clock
 * (`isExceptionInForce`), never by synth: dist/ must not depend on today's date.
 */
import {
  EXCEPTION_REASON_VALUES,
  exceptionExpiresAt,
  isExceptionInForce,
  scopeCovers,
  type ExceptionScope,
  type FleetException,
} from '../../src/shared/exceptions.ts';
import { repositoryOf } from '../../src/shared/image-ref.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const STRING_FIELDS = [
  'key',
  'vulnerability',
  'statement',
  'owner',
  'ticket',
  'approved',
  'expires',
  'source',
] as const;

export type ExceptionsParse =
  | { readonly ok: true; readonly exceptions: readonly FleetException[] }
  | { readonly ok: false; readonly reason: string };

/** Validates `exceptions` of the inventory JSON (absent: none, an older synth). */
export function parseExceptions(json: unknown): ExceptionsParse {
  if (json === undefined) return { ok: true, exceptions: [] };
  if (!Array.isArray(json)) return { ok: false, reason: 'exceptions must be an array' };
  const result: FleetException[] = [];
  const keys = new Set<string>();
  for (const [index, entry] of json.entries()) {
    const where = `exceptions[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return { ok: false, reason: `${where} must be an object` };
    const record = entry as Record<string, unknown>;
    for (const field of STRING_FIELDS)
      if (typeof record[field] !== 'string' || record[field] === '')
        return { ok: false, reason: `${where}.${field} must be a non-empty string` };
    for (const field of ['approved', 'expires'] as const) {
      const value = record[field] as string;
      if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
        return {
          ok: false,
          reason: `${where}.${field} must be a date YYYY-MM-DD (got "${value}")`,
        };
    }
    if (!(EXCEPTION_REASON_VALUES as readonly unknown[]).includes(record.reason))
      return {
        ok: false,
        reason: `${where}.reason must be one of ${EXCEPTION_REASON_VALUES.join(', ')}`,
      };
    if (keys.has(record.key as string))
      return { ok: false, reason: `${where}.key "${record.key as string}" appears twice` };
    keys.add(record.key as string);
    if (!Array.isArray(record.scopes) || record.scopes.length === 0)
      return { ok: false, reason: `${where}.scopes must be a non-empty array` };
    const scopes: ExceptionScope[] = [];
    for (const [i, scope] of record.scopes.entries()) {
      const parsed = parseScope(scope);
      if (parsed === undefined)
        return {
          ok: false,
          reason: `${where}.scopes[${i}] must be {kind: fleet}, {kind: repository, image} or {kind: tag, image, tags}`,
        };
      scopes.push(parsed);
    }
    result.push({ ...(record as unknown as FleetException), scopes });
  }
  return { ok: true, exceptions: result };
}

function parseScope(value: unknown): ExceptionScope | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, image, tags } = value as { kind?: unknown; image?: unknown; tags?: unknown };
  if (kind === 'fleet') return { kind };
  const repository = typeof image === 'string' ? repositoryOf(image) : undefined;
  if (repository === undefined) return undefined;
  if (kind === 'repository') return { kind, image: repository };
  if (
    kind === 'tag' &&
    Array.isArray(tags) &&
    tags.length > 0 &&
    tags.every((t) => typeof t === 'string' && t !== '')
  )
    return { kind, image: repository, tags: tags as string[] };
  return undefined;
}

/** The scope keys as the `images` label shows them (`*` for the whole fleet). */
export function scopeLabel(exception: FleetException): string {
  return exception.scopes
    .map((s) =>
      s.kind === 'fleet'
        ? '*'
        : s.kind === 'repository'
          ? s.image
          : `${s.image}:${s.tags.join('|')}`,
    )
    .join(',');
}

/** Unix seconds the exception lapses. */
export function expirySeconds(exception: FleetException): number {
  return exceptionExpiresAt(exception).getTime() / 1000;
}

/** The exceptions by vulnerability id. */
export class ExceptionIndex {
  private readonly byVulnerability = new Map<string, FleetException[]>();

  constructor(readonly all: readonly FleetException[]) {
    for (const exception of all) {
      const list = this.byVulnerability.get(exception.vulnerability);
      if (list === undefined) this.byVulnerability.set(exception.vulnerability, [exception]);
      else list.push(exception);
    }
  }

  get size(): number {
    return this.all.length;
  }

  /** The exceptions naming `vulnerability` (any state). */
  of(vulnerability: string): readonly FleetException[] {
    return this.byVulnerability.get(vulnerability) ?? [];
  }

  vulnerabilities(): IterableIterator<string> {
    return this.byVulnerability.keys();
  }

  /** Keys of the exceptions in force at `now` (ms), sorted: a change of this set is what re-evaluates acceptance. */
  inForceKeys(now: number): string[] {
    const date = new Date(now);
    return this.all
      .filter((e) => isExceptionInForce(e, date))
      .map((e) => e.key)
      .sort();
  }

  /**
   * Whether every tag in `tags` (the tags of the running containers that carry `vulnerability` on
   * `image`; undefined for a container pinned by digest alone) is covered by an exception in force.
   */
  accepts(
    vulnerability: string,
    image: string,
    tags: Iterable<string | undefined>,
    now: number,
  ): boolean {
    const date = new Date(now);
    const inForce = this.of(vulnerability).filter((e) => isExceptionInForce(e, date));
    if (inForce.length === 0) return false;
    let any = false;
    for (const tag of tags) {
      any = true;
      if (!inForce.some((e) => e.scopes.some((s) => scopeCovers(s, image, tag)))) return false;
    }
    return any;
  }

  /** Whether `exception` covers a running container of `image` with one of `tags`. */
  static covers(
    exception: FleetException,
    image: string,
    tags: Iterable<string | undefined>,
  ): boolean {
    for (const tag of tags)
      if (exception.scopes.some((s) => scopeCovers(s, image, tag))) return true;
    return false;
  }
}

export const EMPTY_EXCEPTIONS = new ExceptionIndex([]);
