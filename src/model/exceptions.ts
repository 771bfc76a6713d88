/**
 * Exceptions resolved against the fleet: scopes normalised (`nginx` -> `docker.io/library/nginx`,
 * a tag scope widened to its patched tag, which the running containers carry after a patch),
 * sorted and keyed, so that the collector's input and everything derived from it is stable under
 * reordering of the inventory.
 */
import {
  exceptionScopeKey,
  FLEET_WIDE,
  type ExceptionEntry,
} from '../inventory/exceptions-schema.ts';
import type { ImportedException } from '../inventory/vex-import.ts';
import type { ExceptionScope, FleetException } from '../shared/exceptions.ts';
import type { FleetImage } from './fleet.ts';

/** The `source` of exceptions written in the inventory itself. */
export const INLINE_SOURCE = 'inventory';

export function resolveExceptions(
  inline: readonly ExceptionEntry[],
  imported: readonly ImportedException[],
  images: readonly FleetImage[],
): FleetException[] {
  // Inline entries are named by what they say, not by their position: reordering the inventory
  // must not change the output.
  const all = [
    ...inline.map((entry) => ({ entry, source: INLINE_SOURCE })),
    ...imported.map((entry) => ({ entry, source: entry.source })),
  ];
  return all
    .map(({ entry, source }): FleetException => {
      const keys = [
        ...new Set(
          entry.images.map(exceptionScopeKey).filter((key): key is string => key !== undefined),
        ),
      ].sort();
      return {
        key: `${entry.id}@${keys.join(',')}`,
        vulnerability: entry.id,
        scopes: keys.map((key) => scopeOf(key, images)),
        reason: entry.reason,
        statement: entry.statement,
        owner: entry.owner,
        ticket: entry.ticket,
        approved: entry.approved,
        expires: entry.expires,
        source,
      };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.source < b.source ? -1 : 1))
    .map(uniqueKey());
}

/**
 * Keys are the `exception` label and must be unique: an inline entry and an OpenVEX statement (or
 * two statements of one document, OpenVEX keeps a statement history) can name the same
 * vulnerability and scope. The first in sort order keeps the plain key, the others get their source.
 */
function uniqueKey(): (exception: FleetException) => FleetException {
  const seen = new Set<string>();
  return (exception) => {
    const key = seen.has(exception.key) ? `${exception.key}#${exception.source}` : exception.key;
    seen.add(key);
    return key === exception.key ? exception : { ...exception, key };
  };
}

function scopeOf(key: string, images: readonly FleetImage[]): ExceptionScope {
  if (key === FLEET_WIDE) return { kind: 'fleet' };
  const colon = key.lastIndexOf(':');
  if (colon <= key.lastIndexOf('/')) return { kind: 'repository', image: key };
  const image = key.slice(0, colon);
  const tag = key.slice(colon + 1);
  const entry = images.find(
    (candidate) =>
      candidate.image === image && (candidate.tag === tag || candidate.patchedTag === tag),
  );
  const tags = entry === undefined ? [tag] : [...new Set([entry.tag, entry.patchedTag])].sort();
  return { kind: 'tag', image, tags };
}
