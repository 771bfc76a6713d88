/**
 * Where the collector learns each image's latest patched digest, and which writes it trusts.
 *
 * Each CronJob's exporter writes one record, in a ConfigMap of its own (`digestRecordName`) that
 * RBAC lets only that exporter patch. The name is the trust anchor, not the labels (anyone who
 * can create a ConfigMap can copy them): from ConfigMap `<cronjob>-digest` the collector reads
 * only key `<cronjob>`, and only a record whose `image` is that CronJob's inventoried image. So a
 * compromised job can corrupt its own image's record, never another's.
 *
 * Migration: the shared store of earlier releases (one key per CronJob, every exporter could patch
 * every key) is read for an inventoried CronJob only while it has no valid record of its own.
 */
import { digestRecordName } from '../../src/shared/contract.ts';
import type { DigestRecordSource } from '../../src/shared/metrics.ts';
import { parsePatchedDigests, type InventoryIndex, type PatchedDigest } from './inventory.ts';
import type { ConfigMapData } from './projections.ts';

export interface TrustedDigests {
  readonly byImage: Map<string, PatchedDigest>;
  /** Inventoried CronJobs per source of their record (absent: no record yet). */
  readonly sources: Readonly<Record<DigestRecordSource, number>>;
  /** CronJobs whose own record was refused, with why. */
  readonly rejected: readonly { readonly cronjob: string; readonly reason: string }[];
}

export class DigestRecords {
  private legacy: ConfigMapData | undefined;
  /** Per-CronJob records by ConfigMap name. */
  private readonly own = new Map<string, ConfigMapData>();

  setLegacy(data: ConfigMapData | undefined): void {
    this.legacy = data;
  }

  upsertOwn(configMapName: string, data: ConfigMapData): void {
    this.own.set(configMapName, data);
  }

  removeOwn(configMapName: string): void {
    this.own.delete(configMapName);
  }

  /** The latest patched digest per image from the records the inventory's CronJobs may write. */
  resolve(inventory: InventoryIndex): TrustedDigests {
    const trusted: Record<string, string> = {};
    const sources: Record<DigestRecordSource, number> = { own: 0, legacy: 0, rejected: 0 };
    const rejected: { cronjob: string; reason: string }[] = [];
    for (const [cronjob, entry] of inventory.cronjobs) {
      const own = this.own.get(digestRecordName(cronjob))?.[cronjob];
      const ownProblem = own === undefined ? undefined : recordProblem(own, cronjob, entry.image);
      if (own !== undefined && ownProblem === undefined) {
        trusted[cronjob] = own;
        sources.own++;
        continue;
      }
      if (ownProblem !== undefined) {
        rejected.push({ cronjob, reason: ownProblem });
        sources.rejected++;
      }
      const legacy = this.legacy?.[cronjob];
      if (legacy !== undefined && recordProblem(legacy, cronjob, entry.image) === undefined) {
        trusted[cronjob] = legacy;
        sources.legacy++;
      }
    }
    return { byImage: parsePatchedDigests(trusted).byImage, sources, rejected };
  }
}

/** Why a record may not stand for `cronjob` (inventoried as `image`), or undefined when it may. */
function recordProblem(text: string, cronjob: string, image: string): string | undefined {
  const { byImage, invalid } = parsePatchedDigests({ [cronjob]: text });
  if (invalid.length > 0) return 'not a patched-digest record (image, digest)';
  if (!byImage.has(image))
    return `names image ${[...byImage.keys()].join(', ')}, but CronJob ${cronjob} patches ${image}`;
  return undefined;
}
