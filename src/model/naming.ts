/**
 * Object names derived from image references: valid DNS labels, stable across runs, distinct for
 * distinct references even when the readable part is truncated (a short hash of the full
 * normalised reference is always part of the name).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_TAG, formatImageRef, type ImageRef } from '../shared/image-ref.ts';

/** CronJob names are limited to 52 characters: the Job controller appends an 11-character suffix. */
export const CRONJOB_NAME_MAX = 52;
const PREFIX = 'copa-';
const HASH_LENGTH = 6;

/** A hex digest of `value`: the one hash behind names and schedule spreading. */
export function stableHash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Lower-case DNS-label slug: runs of anything else become one "-". */
export function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * `copa-<last path component>-<tag>-<hash>`, e.g. `copa-nginx-1-27-3f9a1c`, at most 52 characters.
 * `canonicalRef` is the normalised `registry/path:tag`.
 */
export function cronJobName(canonicalRef: string, lastPathComponent: string, tag: string): string {
  const hash = stableHash(canonicalRef).slice(0, HASH_LENGTH);
  const room = CRONJOB_NAME_MAX - PREFIX.length - 1 - HASH_LENGTH;
  const readable = slug(`${lastPathComponent}-${tag}`).slice(0, room).replace(/-+$/, '');
  return `${PREFIX}${readable === '' ? 'image' : readable}-${hash}`;
}

/** The CronJob name of an inventory image, from its normalised reference (no tag means `latest`). */
export function imageCronJobName(ref: ImageRef): string {
  const tag = ref.tag ?? DEFAULT_TAG;
  const lastComponent = ref.path.split('/').at(-1) ?? ref.path;
  return cronJobName(
    formatImageRef({ registry: ref.registry, path: ref.path, name: ref.name, tag }),
    lastComponent,
    tag,
  );
}
