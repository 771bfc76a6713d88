/**
 * The SLA clock of DESIGN.md: per (image repository, CVE), the first time a running container of
 * the image carried the CVE, kept across collector restarts and report re-creation (persisted by
 * StateStore), and stopped when no running container of the image carries the CVE any more.
 *
 * Rules (see README.md, "The SLA clock"):
 * - A CVE starts its clock the first time it is seen on a running digest of the image.
 * - It is "gone" only when every running container of the image has a scan report and none lists
 *   it (or none runs at all). A running digest without a report (deleted by the report TTL, not
 *   yet rescanned) proves nothing: the clock keeps running.
 * - A CVE that comes back within the resume window (default 24 h) resumes its original first-seen
 *   time and keeps its counted breaches (a rollback, a drained node or a Recreate rollout does not
 *   reset the clock); after the window the entry is forgotten and a return starts a new clock.
 */
import type { CveClock, ImageClock } from './state-format.ts';

export class SlaClock {
  private readonly images = new Map<string, ImageClock>();
  private readonly dirty = new Set<string>();
  private isLoaded = false;

  constructor(private readonly resumeWindowSeconds: number) {}

  get loaded(): boolean {
    return this.isLoaded;
  }

  /** Installs the persisted state (once, at start-up). */
  load(images: Iterable<readonly [string, ImageClock]>): void {
    for (const [image, cves] of images) if (cves.size > 0) this.images.set(image, cves);
    this.isLoaded = true;
  }

  get(image: string, cve: string): CveClock | undefined {
    return this.images.get(image)?.get(cve);
  }

  /** The image's entries (active and gone). */
  entries(image: string): ReadonlyMap<string, CveClock> | undefined {
    return this.images.get(image);
  }

  trackedImages(): string[] {
    return [...this.images.keys()];
  }

  get size(): number {
    let n = 0;
    for (const cves of this.images.values()) n += cves.size;
    return n;
  }

  /**
   * Records which CVEs the running containers of `image` carry now. `complete` is false while
   * some running digest has no report: then nothing is marked gone.
   */
  observe(image: string, active: ReadonlySet<string>, complete: boolean, nowSeconds: number): void {
    let cves = this.images.get(image);
    for (const cve of active) {
      cves ??= this.newImage(image);
      const entry = cves.get(cve);
      if (entry === undefined) {
        cves.set(cve, { firstSeen: nowSeconds, goneSince: 0, breached: [] });
        this.dirty.add(image);
      } else if (entry.goneSince !== 0) {
        if (nowSeconds - entry.goneSince > this.resumeWindowSeconds) {
          entry.firstSeen = nowSeconds;
          entry.breached = [];
        }
        entry.goneSince = 0;
        this.dirty.add(image);
      }
    }
    if (!complete || cves === undefined) return;
    for (const [cve, entry] of cves) {
      if (entry.goneSince === 0 && !active.has(cve)) {
        entry.goneSince = nowSeconds;
        this.dirty.add(image);
      }
    }
  }

  markBreached(image: string, cve: string, hours: number): void {
    const entry = this.images.get(image)?.get(cve);
    if (entry === undefined || entry.breached.includes(hours)) return;
    entry.breached = [...entry.breached, hours].sort((a, b) => a - b);
    this.dirty.add(image);
  }

  /** Drops every entry of an image (it left the inventory). */
  forget(image: string): void {
    if (this.images.delete(image)) this.dirty.add(image);
  }

  /** Deletes entries gone for longer than the resume window. */
  prune(nowSeconds: number): void {
    for (const [image, cves] of this.images) {
      for (const [cve, entry] of cves) {
        if (entry.goneSince !== 0 && nowSeconds - entry.goneSince > this.resumeWindowSeconds) {
          cves.delete(cve);
          this.dirty.add(image);
        }
      }
      if (cves.size === 0) this.images.delete(image);
    }
  }

  /**
   * Folds in entries read back from the ConfigMap after a write conflict (another writer): the
   * earlier first-seen wins and counted breaches are united, so no clock restarts and no breach
   * is counted twice. Entries this process does not hold are left to the other writer.
   */
  mergeRemote(image: string, remote: ImageClock): void {
    const cves = this.images.get(image);
    if (cves === undefined) return;
    for (const [cve, theirs] of remote) {
      const ours = cves.get(cve);
      if (ours === undefined) continue;
      if (theirs.firstSeen < ours.firstSeen) ours.firstSeen = theirs.firstSeen;
      const breached = [...new Set([...ours.breached, ...theirs.breached])].sort((a, b) => a - b);
      if (breached.length !== ours.breached.length) ours.breached = breached;
    }
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  /** Images to write (their current entries, or undefined: delete the key). Clears the dirty set. */
  takeDirty(): Map<string, ImageClock | undefined> {
    const result = new Map<string, ImageClock | undefined>();
    for (const image of [...this.dirty].sort()) result.set(image, this.images.get(image));
    this.dirty.clear();
    return result;
  }

  /** Puts images back after a failed write. */
  markDirty(images: Iterable<string>): void {
    for (const image of images) this.dirty.add(image);
  }

  private newImage(image: string): ImageClock {
    const cves: ImageClock = new Map();
    this.images.set(image, cves);
    return cves;
  }
}
