/**
 * What the drift collector needs from the inventory (src/shared/contract.ts CollectorInventory),
 * as deterministic JSON: images sorted by CronJob name, severities in SEVERITIES order.
 */
import type { Fleet } from '../model/fleet.ts';
import type { CollectorInventory, CollectorInventoryImage } from '../shared/contract.ts';
import { SEVERITIES, type Severity } from '../shared/metrics.ts';
import { silenceWatchSettings } from '../observability/silence-catalogue.ts';

export function collectorInventory(fleet: Fleet): CollectorInventory {
  const inScope = new Set<Severity>();
  const images = fleet.images.map((image): CollectorInventoryImage => {
    const slaHours: Record<string, number> = {};
    for (const severity of SEVERITIES) {
      const hours = image.slaHours[severity];
      if (hours === undefined) continue;
      slaHours[severity] = hours;
      inScope.add(severity);
    }
    return {
      image: image.image,
      cronjob: image.name,
      team: image.team,
      tag: image.tag,
      patchedTag: image.patchedTag,
      scheduleIntervalSeconds: image.scheduleIntervalSeconds,
      slaHours,
      slaScope: image.slaScope,
    };
  });
  const silenceWatch = silenceWatchSettings(fleet);
  return {
    namespace: fleet.namespace,
    // Absent in a single-cluster fleet: its ConfigMap is byte for byte what it was before the flag.
    ...(fleet.clusters !== undefined && { multiCluster: true }),
    severitiesInScope: SEVERITIES.filter((severity) => inScope.has(severity)),
    images: [...images].sort((a, b) =>
      a.cronjob < b.cronjob ? -1 : a.cronjob > b.cronjob ? 1 : 0,
    ),
    exceptions: fleet.exceptions,
    ...(silenceWatch !== undefined && { silenceWatch }),
  };
}

/** Pretty JSON with a trailing newline: readable in `kubectl get -o yaml`, stable byte for byte. */
export function collectorInventoryJson(fleet: Fleet): string {
  return `${JSON.stringify(collectorInventory(fleet), null, 2)}\n`;
}
