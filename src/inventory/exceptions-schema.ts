/**
 * The inventory's `exceptions:` and `exceptionFiles:` keys: reviewed risk acceptances with an
 * owner, a ticket and an expiry (DefectDojo's risk acceptance and Trivy's `.trivyignore.yaml`
 * `id`/`expired_at`/`statement` are the shapes users know). Cross-field checks (expiry window,
 * images in the inventory, duplicates) run in `checkExceptions`, located like every other error.
 */
import { z } from 'zod';
import { EXCEPTION_REASON_VALUES, EXCEPTION_REASONS } from '../shared/exceptions.ts';
import { DEFAULT_TAG, parseImageRef } from '../shared/image-ref.ts';

/** CVE ids (`CVE-2024-3094`) and GitHub advisories (`GHSA-xxxx-xxxx-xxxx`, GitHub's alphabet). */
const VULNERABILITY_ID = /^(CVE-[0-9]{4}-[0-9]{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$/;
export const FLEET_WIDE = '*';
export const DEFAULT_MAX_EXCEPTION_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

// Only the format gets its own words; a missing date keeps the inventory's "is required" message.
const isoDate = () =>
  z.iso.date({
    error: (issue) =>
      issue.code === 'invalid_format' ? 'must be a date written YYYY-MM-DD' : undefined,
  });

export const vulnerabilityId = z
  .string()
  .regex(
    VULNERABILITY_ID,
    'must be a CVE id such as "CVE-2024-3094" or a GitHub advisory id such as "GHSA-vp9c-fpxx-744v"',
  );

const exceptionImage = z.string().superRefine((value, ctx) => {
  if (value === FLEET_WIDE) return;
  const parsed = parseImageRef(value);
  if (!parsed.ok)
    ctx.addIssue({ code: 'custom', message: `is not a valid image reference: ${parsed.reason}` });
  else if (parsed.ref.digest !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        'must be a repository or a repository and tag, not a digest (the exception follows the image across patches)',
    });
  }
});

const reasonDescription = Object.entries(EXCEPTION_REASONS)
  .map(([reason, meaning]) => `\`${reason}\`: ${meaning}`)
  .join('; ');

const accountability = {
  owner: z
    .string()
    .min(1, 'must name who owns the risk')
    .describe(
      'Who owns the accepted risk (a person or team; shown on the dashboard and in alerts).',
    ),
  ticket: z
    .string()
    .min(1, 'must reference the review ticket')
    .describe('The ticket or change record of the review, e.g. `SEC-1234`.'),
  approved: isoDate().describe(
    'Date the exception was approved (`YYYY-MM-DD`); it is in force from 00:00 UTC of that day.',
  ),
  expires: isoDate().describe(
    'Date the exception lapses (`YYYY-MM-DD`, 00:00 UTC), at most `defaults.maxExceptionDays` after `approved`. Required: an exception without an expiry is a silence by another name.',
  ),
};

export const exceptionSchema = z
  .strictObject({
    id: vulnerabilityId.describe(
      'The vulnerability accepted: a CVE or GHSA id, as trivy-operator reports it.',
    ),
    images: z
      .array(exceptionImage)
      .min(1, 'list at least one image, or "*" for the whole fleet')
      .describe(
        'Images the exception covers: a repository (`nginx`, every tag), a repository and tag (`nginx:1.27.3`, that inventory entry and its patched tag), or `"*"` for the whole fleet. References are normalised like everywhere else.',
      ),
    reason: z.enum(EXCEPTION_REASON_VALUES).describe(`Why it is accepted: ${reasonDescription}.`),
    statement: z
      .string()
      .min(1, 'must explain the decision')
      .describe('Why the risk is acceptable (an auditor reads this).'),
    ...accountability,
  })
  .describe(
    'One reviewed exception: the CVE still shows, its SLA breach is counted as accepted, until it expires.',
  );

export const exceptionFileSchema = z
  .strictObject({
    path: z.string().min(1).describe('OpenVEX document (JSON), relative to the inventory file.'),
    ...accountability,
  })
  .describe(
    'An OpenVEX document whose `not_affected` statements become exceptions. OpenVEX has no expiry, so the file entry gives one for all of them.',
  );

export type ExceptionEntry = z.output<typeof exceptionSchema>;
export type ExceptionFileEntry = z.output<typeof exceptionFileSchema>;

type Ctx = z.RefinementCtx<unknown>;
type Loose = Readonly<Record<string, unknown>>;
type Path = readonly (string | number)[];

export interface InventoryImageKeys {
  /** Normalised repositories of the inventory's images. */
  readonly repositories: ReadonlySet<string>;
  /** `repository:tag` of every entry, and of every entry's patched tag. */
  readonly tagged: ReadonlySet<string>;
}

/** What exception scopes may name: the inventory's images, read defensively from partly parsed input. */
export function inventoryImageKeys(images: readonly unknown[]): InventoryImageKeys {
  const repositories = new Set<string>();
  const tagged = new Set<string>();
  for (const image of images) {
    const entry = typeof image === 'object' && image !== null ? (image as Loose) : undefined;
    const parsed = typeof entry?.ref === 'string' ? parseImageRef(entry.ref) : undefined;
    if (!parsed?.ok) continue;
    const tag = parsed.ref.tag ?? DEFAULT_TAG;
    repositories.add(parsed.ref.name);
    tagged.add(`${parsed.ref.name}:${tag}`);
    tagged.add(
      `${parsed.ref.name}:${typeof entry?.patchedTag === 'string' ? entry.patchedTag : `${tag}-patched`}`,
    );
  }
  return { repositories, tagged };
}

/** `*`, `registry/path` or `registry/path:tag`, normalised; undefined when invalid. */
export function exceptionScopeKey(value: string): string | undefined {
  if (value === FLEET_WIDE) return FLEET_WIDE;
  const parsed = parseImageRef(value);
  if (!parsed.ok || parsed.ref.digest !== undefined) return undefined;
  return parsed.ref.tag === undefined ? parsed.ref.name : `${parsed.ref.name}:${parsed.ref.tag}`;
}

/** Problems of one exception's dates against the maximum window; paths relative to the entry. */
export function datesProblems(entry: Loose, maxDays: number): { path: Path; message: string }[] {
  const { approved, expires } = entry;
  if (typeof approved !== 'string' || typeof expires !== 'string') return [];
  const start = Date.parse(`${approved}T00:00:00Z`);
  const end = Date.parse(`${expires}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end)) return [];
  if (end <= start) return [{ path: ['expires'], message: `must be after approved (${approved})` }];
  const days = Math.round((end - start) / DAY_MS);
  if (days > maxDays) {
    return [
      {
        path: ['expires'],
        message: `is ${days} days after approved (${approved}); at most defaults.maxExceptionDays (${maxDays}) days are allowed: review it again instead`,
      },
    ];
  }
  return [];
}

/**
 * Cross-field checks of `exceptions:`: the dates' window, every image in the inventory, and no
 * vulnerability accepted twice for the same image (two entries would give two owners and two
 * expiries for one decision).
 */
export function checkExceptions(
  exceptions: readonly unknown[],
  images: InventoryImageKeys,
  maxDays: number,
  ctx: Ctx,
): void {
  const seen = new Map<string, number>();
  exceptions.forEach((raw, index) => {
    const entry = typeof raw === 'object' && raw !== null ? (raw as Loose) : undefined;
    if (entry === undefined) return;
    for (const problem of datesProblems(entry, maxDays)) {
      ctx.addIssue({
        code: 'custom',
        path: ['exceptions', index, ...problem.path],
        message: problem.message,
      });
    }
    const id = typeof entry.id === 'string' ? entry.id : undefined;
    const scopes = Array.isArray(entry.images) ? entry.images : [];
    scopes.forEach((scope, scopeIndex) => {
      if (typeof scope !== 'string') return;
      const key = exceptionScopeKey(scope);
      if (key === undefined) return;
      const path = ['exceptions', index, 'images', scopeIndex];
      if (key !== FLEET_WIDE && !images.repositories.has(key) && !images.tagged.has(key)) {
        const what = key.includes(':', key.lastIndexOf('/'))
          ? 'an image tag (or patched tag)'
          : 'an image repository';
        ctx.addIssue({
          code: 'custom',
          path,
          message: `"${key}" is not ${what} of the inventory: an exception covers inventoried images only`,
        });
        return;
      }
      if (id === undefined) return;
      const duplicate = `${id}@${key}`;
      const first = seen.get(duplicate);
      if (first === index) ctx.addIssue({ code: 'custom', path, message: `names ${key} twice` });
      else if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `duplicates exceptions[${first}]: ${id} is already accepted for ${key}`,
        });
      else seen.set(duplicate, index);
    });
  });
}
