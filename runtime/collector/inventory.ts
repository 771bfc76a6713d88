/**
 * The collector's view of the inventory ConfigMap (CollectorInventory, written by synth) and of
 * the patched-digest ConfigMap (PatchedDigestRecord per CronJob, written by the exporters).
 *
 * One repository can appear under several CronJobs (two tags of one image). Per-image series then
 * take the strictest SLA (the smallest hours per severity), the longest schedule interval (no
 * false "missing run" for the slower CronJob), the most recently patched digest, and the wider SLA
 * scope (`all` if any entry says `all`: a CVE one tag's policy clocks is clocked for the image).
 */
import { INVENTORY_CONFIGMAP_KEY, type PatchedDigestRecord } from '../../src/shared/contract.ts';
import { normalizeDigest, repositoryOf } from '../../src/shared/image-ref.ts';
import { SEVERITIES, type Severity } from '../../src/shared/metrics.ts';
import { EMPTY_EXCEPTIONS, ExceptionIndex, parseExceptions } from './exceptions.ts';
import type { ConfigMapData } from './projections.ts';

/** `fixable`: only CVEs with a fixed version run the SLA clock (from when a fix is first seen); `all`: every CVE. */
export type SlaScope = 'fixable' | 'all';
const SLA_SCOPES: readonly SlaScope[] = ['fixable', 'all'];

export interface InventoryCronJob {
  readonly cronjob: string;
  readonly image: string;
  readonly team: string;
  readonly scheduleIntervalSeconds: number;
}

export interface InventoryImage {
  readonly image: string;
  /** Sorted by CronJob name. */
  readonly cronjobs: readonly InventoryCronJob[];
  /** Strictest SLA hours per severity over the image's CronJobs. */
  readonly slaHours: Readonly<Partial<Record<Severity, number>>>;
  /** Longest schedule interval over the image's CronJobs. */
  readonly scheduleIntervalSeconds: number;
  readonly slaScope: SlaScope;
}

export interface InventoryIndex {
  /** The fleet has `clusters`: the families only the global rules read are exported (table.ts `multiClusterOnly`). */
  readonly multiCluster: boolean;
  /** Severities whose CVEs the SLA clock tracks. */
  readonly severitiesInScope: readonly Severity[];
  readonly images: ReadonlyMap<string, InventoryImage>;
  readonly cronjobs: ReadonlyMap<string, InventoryCronJob>;
  readonly exceptions: ExceptionIndex;
}

export const EMPTY_INVENTORY: InventoryIndex = {
  multiCluster: false,
  severitiesInScope: [],
  images: new Map(),
  cronjobs: new Map(),
  exceptions: EMPTY_EXCEPTIONS,
};

export type InventoryParse =
  | { readonly ok: true; readonly inventory: InventoryIndex }
  | { readonly ok: false; readonly reason: string };

/** Reads the inventory ConfigMap's data. A missing ConfigMap or key is an empty inventory. */
export function parseInventoryConfigMap(data: ConfigMapData | undefined): InventoryParse {
  const text = data?.[INVENTORY_CONFIGMAP_KEY];
  if (text === undefined) return { ok: true, inventory: EMPTY_INVENTORY };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      reason: `key ${INVENTORY_CONFIGMAP_KEY} is not JSON: ${(error as Error).message}`,
    };
  }
  return parseInventory(json);
}

export function parseInventory(json: unknown): InventoryParse {
  if (!isRecord(json)) return { ok: false, reason: 'the inventory must be a JSON object' };
  const scope = json.severitiesInScope;
  if (!Array.isArray(scope) || !scope.every((s) => typeof s === 'string'))
    return { ok: false, reason: 'severitiesInScope must be an array of strings' };
  const unknown = scope.filter((s) => !(SEVERITIES as readonly string[]).includes(s));
  if (unknown.length > 0)
    return {
      ok: false,
      reason: `severitiesInScope has unknown values: ${unknown.join(', ')} (expected ${SEVERITIES.join(', ')})`,
    };
  if (!Array.isArray(json.images)) return { ok: false, reason: 'images must be an array' };
  // Absent (a single-cluster fleet, or an inventory from before the flag): false.
  const multiCluster = json.multiCluster ?? false;
  if (typeof multiCluster !== 'boolean')
    return { ok: false, reason: 'multiCluster must be a boolean' };

  const cronjobs = new Map<string, InventoryCronJob>();
  const slaByImage = new Map<string, Partial<Record<Severity, number>>>();
  const scopeByImage = new Map<string, SlaScope>();
  for (const [index, entry] of json.images.entries()) {
    const where = `images[${index}]`;
    if (!isRecord(entry)) return { ok: false, reason: `${where} must be an object` };
    const {
      image: rawImage,
      cronjob,
      team,
      scheduleIntervalSeconds,
      slaHours,
      slaScope = 'all',
    } = entry;
    if (typeof rawImage !== 'string')
      return { ok: false, reason: `${where}.image must be a string` };
    const image = repositoryOf(rawImage);
    if (image === undefined)
      return { ok: false, reason: `${where}.image "${rawImage}" is not a valid image reference` };
    if (typeof cronjob !== 'string' || cronjob === '')
      return { ok: false, reason: `${where}.cronjob must be a non-empty string` };
    if (cronjobs.has(cronjob))
      return { ok: false, reason: `${where}.cronjob "${cronjob}" appears twice` };
    if (typeof team !== 'string') return { ok: false, reason: `${where}.team must be a string` };
    if (typeof scheduleIntervalSeconds !== 'number' || !(scheduleIntervalSeconds > 0))
      return { ok: false, reason: `${where}.scheduleIntervalSeconds must be a positive number` };
    if (!isRecord(slaHours)) return { ok: false, reason: `${where}.slaHours must be an object` };
    // Absent (an inventory from before slaScope existed): every CVE, as it was then.
    if (!(SLA_SCOPES as readonly unknown[]).includes(slaScope))
      return { ok: false, reason: `${where}.slaScope must be one of ${SLA_SCOPES.join(', ')}` };
    if (scopeByImage.get(image) !== 'all') scopeByImage.set(image, slaScope as SlaScope);
    const sla = slaByImage.get(image) ?? {};
    for (const [severity, hours] of Object.entries(slaHours)) {
      if (!(SEVERITIES as readonly string[]).includes(severity))
        return { ok: false, reason: `${where}.slaHours has an unknown severity "${severity}"` };
      if (typeof hours !== 'number' || !(hours > 0))
        return { ok: false, reason: `${where}.slaHours.${severity} must be a positive number` };
      const s = severity as Severity;
      sla[s] = Math.min(sla[s] ?? Number.POSITIVE_INFINITY, hours);
    }
    slaByImage.set(image, sla);
    cronjobs.set(cronjob, { cronjob, image, team, scheduleIntervalSeconds });
  }

  const images = new Map<string, InventoryImage>();
  for (const entry of [...cronjobs.values()].sort((a, b) => compare(a.cronjob, b.cronjob))) {
    const existing = images.get(entry.image);
    images.set(entry.image, {
      image: entry.image,
      cronjobs: [...(existing?.cronjobs ?? []), entry],
      slaHours: slaByImage.get(entry.image) ?? {},
      scheduleIntervalSeconds: Math.max(
        existing?.scheduleIntervalSeconds ?? 0,
        entry.scheduleIntervalSeconds,
      ),
      slaScope: scopeByImage.get(entry.image) ?? 'all',
    });
  }
  const severitiesInScope = SEVERITIES.filter((s) => scope.includes(s));
  const exceptions = parseExceptions(json.exceptions);
  if (!exceptions.ok) return exceptions;
  return {
    ok: true,
    inventory: {
      multiCluster,
      severitiesInScope,
      images,
      cronjobs,
      exceptions: new ExceptionIndex(exceptions.exceptions),
    },
  };
}

export interface PatchedDigest {
  readonly digest: string;
  /** ms since the epoch (0 when unknown). */
  readonly patchedAt: number;
  readonly cronjob: string;
}

/**
 * Latest patched digest per image from the patched-digest ConfigMap (one key per CronJob). Keys
 * that do not parse are returned in `invalid` (and ignored), never fatal.
 */
export function parsePatchedDigests(data: ConfigMapData | undefined): {
  byImage: Map<string, PatchedDigest>;
  invalid: string[];
} {
  const byImage = new Map<string, PatchedDigest>();
  const invalid: string[] = [];
  for (const key of Object.keys(data ?? {}).sort()) {
    let record: Partial<PatchedDigestRecord>;
    try {
      record = JSON.parse(data![key]!) as Partial<PatchedDigestRecord>;
    } catch {
      invalid.push(key);
      continue;
    }
    const image = typeof record.image === 'string' ? repositoryOf(record.image) : undefined;
    const digest = typeof record.digest === 'string' ? normalizeDigest(record.digest) : undefined;
    if (image === undefined || digest === undefined) {
      invalid.push(key);
      continue;
    }
    const patchedAt = Date.parse(typeof record.patchedAt === 'string' ? record.patchedAt : '') || 0;
    const existing = byImage.get(image);
    if (existing === undefined || patchedAt > existing.patchedAt)
      byImage.set(image, { digest, patchedAt, cronjob: key });
  }
  return { byImage, invalid };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
