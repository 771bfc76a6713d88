/**
 * Risk acceptance: the shape of one reviewed exception as synth hands it to the drift collector
 * (inside the inventory ConfigMap) and as the collector, the rules and the report read it.
 * Shared with the runtime programs: keep it dependency-free.
 *
 * Whether an exception is in force is decided at run time (`isExceptionInForce`), never by synth:
 * dist/ must not depend on today's date.
 */

/**
 * Why a vulnerability is accepted. The first two come from OpenVEX's `not_affected` status
 * (and Trivy's `.trivyignore.yaml` statements); the last two are a risk decision with an owner.
 */
export const EXCEPTION_REASONS = {
  not_affected: 'the vulnerable code is not present or not reachable in this image',
  false_positive: 'the scanner reports a vulnerability the image does not have',
  no_fix_available: 'no fixed version exists upstream yet',
  accepted_risk: 'a fix exists, and the risk of running without it is accepted for a while',
} as const;
export type ExceptionReason = keyof typeof EXCEPTION_REASONS;
export const EXCEPTION_REASON_VALUES = Object.keys(EXCEPTION_REASONS) as ExceptionReason[];

/** The images an exception covers: every image, a repository (all its tags), or one tag of it. */
export type ExceptionScope =
  | { readonly kind: 'fleet' }
  | { readonly kind: 'repository'; readonly image: string }
  | {
      readonly kind: 'tag';
      readonly image: string;
      /** The inventory tag and its patched tag: a running container may carry either. */
      readonly tags: readonly string[];
    };

export interface FleetException {
  /** Stable id of the exception (`<vulnerability>@<scope>`, sorted), the `exception` label. */
  readonly key: string;
  /** CVE or GHSA id, as trivy-operator writes `vulnerabilityID`. */
  readonly vulnerability: string;
  readonly scopes: readonly ExceptionScope[];
  readonly reason: ExceptionReason;
  readonly statement: string;
  readonly owner: string;
  readonly ticket: string;
  /** ISO date (`YYYY-MM-DD`) the exception was approved. */
  readonly approved: string;
  /** ISO date (`YYYY-MM-DD`): the exception lapses at 00:00 UTC of this day. */
  readonly expires: string;
  /** Where it was written: `inventory`, or an OpenVEX file and statement (`vex/nginx.json#statements[0]`). */
  readonly source: string;
}

/** The instant an exception lapses: 00:00 UTC of its `expires` date. */
export function exceptionExpiresAt(exception: Pick<FleetException, 'expires'>): Date {
  return new Date(`${exception.expires}T00:00:00Z`);
}

/** In force from 00:00 UTC of the approval date until 00:00 UTC of the expiry date. */
export function isExceptionInForce(
  exception: Pick<FleetException, 'approved' | 'expires'>,
  now: Date,
): boolean {
  const start = new Date(`${exception.approved}T00:00:00Z`).getTime();
  return now.getTime() >= start && now.getTime() < exceptionExpiresAt(exception).getTime();
}

/** Whether `scope` covers a running container of repository `image` whose spec tag is `tag`. */
export function scopeCovers(
  scope: ExceptionScope,
  image: string,
  tag: string | undefined,
): boolean {
  switch (scope.kind) {
    case 'fleet':
      return true;
    case 'repository':
      return scope.image === image;
    case 'tag':
      return scope.image === image && tag !== undefined && scope.tags.includes(tag);
  }
}
