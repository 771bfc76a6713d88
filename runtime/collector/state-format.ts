/**
 * The format of the collector's state ConfigMap: the persisted SLA clock.
 *
 * One key per image (so that a write touches only the images that changed, and a merge patch of
 * one key never conflicts with another): the key is the image with every character a ConfigMap
 * key cannot hold replaced by `_`, plus a short hash of the image (keys stay readable and unique).
 * The value is JSON:
 *
 *   {"v":1,"image":"docker.io/library/nginx","cves":{"CVE-2024-1234":[1714000000,0,24]}}
 *
 * where each CVE maps to `[firstSeen, goneSince, ...breachedThresholdHours]`: first-seen and
 * gone-since in Unix seconds (goneSince 0 while a running container carries the CVE), then the
 * SLA thresholds (hours) whose breach was already counted. Compact on purpose: a ConfigMap holds
 * at most 1 MiB, about 25,000 (image, CVE) entries in this format, which is why the state is
 * sharded over STATE_SHARDS ConfigMaps by `stateShardOf(image)` (state-store.ts).
 */
import { createHash } from 'node:crypto';
import { STATE_SHARDS } from '../../src/shared/contract.ts';

export const STATE_FORMAT_VERSION = 1;

export interface CveClock {
  /** Unix seconds: first time a running container of the image carried the CVE. */
  firstSeen: number;
  /** Unix seconds since no running container carries it (0: still carried). */
  goneSince: number;
  /** SLA thresholds (hours) whose breach was counted, ascending. */
  breached: number[];
}

export type ImageClock = Map<string, CveClock>;

const KEY_INVALID = /[^-._a-zA-Z0-9]/g;
const MAX_READABLE = 200;

/** The ConfigMap key of an image (valid: `[-._a-zA-Z0-9]+`, at most 253 characters). */
export function stateKey(image: string): string {
  const hash = createHash('sha256').update(image).digest('hex').slice(0, 12);
  return `${image.replace(KEY_INVALID, '_').slice(0, MAX_READABLE)}.${hash}`;
}

/** The shard an image's key lives in: the first 32 bits of its SHA-256, modulo STATE_SHARDS (stable across versions). */
export function stateShardOf(image: string): number {
  return createHash('sha256').update(image).digest().readUInt32BE(0) % STATE_SHARDS;
}

export function encodeImageClock(image: string, cves: ReadonlyMap<string, CveClock>): string {
  const entries: Record<string, number[]> = {};
  for (const cve of [...cves.keys()].sort()) {
    const c = cves.get(cve)!;
    entries[cve] = [c.firstSeen, c.goneSince, ...c.breached];
  }
  return JSON.stringify({ v: STATE_FORMAT_VERSION, image, cves: entries });
}

/** Decodes one value; undefined when it is not in this format (the key is then left alone). */
export function decodeImageClock(text: string): { image: string; cves: ImageClock } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { v, image, cves } = json as { v?: unknown; image?: unknown; cves?: unknown };
  if (
    v !== STATE_FORMAT_VERSION ||
    typeof image !== 'string' ||
    typeof cves !== 'object' ||
    cves === null
  )
    return undefined;
  const result: ImageClock = new Map();
  for (const [cve, value] of Object.entries(cves)) {
    if (
      !Array.isArray(value) ||
      value.length < 2 ||
      !value.every((n) => typeof n === 'number' && Number.isFinite(n))
    )
      continue;
    const [firstSeen, goneSince, ...breached] = value as number[];
    result.set(cve, {
      firstSeen: firstSeen!,
      goneSince: goneSince!,
      breached: [...new Set(breached)].sort((a, b) => a - b),
    });
  }
  return { image, cves: result };
}
