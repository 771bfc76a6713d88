/**
 * Vulnerabilities on running images (fleet overview): which images run Critical CVEs right now,
 * the image x severity matrix, and the most vulnerable images. Source: the collector's
 * `image_cve_age_hours`, which exists only for running digests that carry the CVE.
 */
import { L, METRICS, RECORDS, SEVERITY_BY_KEY } from '../../shared/metrics.ts';
import { barGaugePanel, statPanel, steps, tablePanel } from '../panels.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { image, cveId, severity } = L;

export function vulnerabilitiesConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  /** Distinct CVEs per image and severity (a CVE on several running digests counts once). */
  const distinctCves = `max ${q.by(image, cveId, severity)} (${q.series(METRICS.imageCveAgeHours)})`;
  return {
    name: 'vulnerabilities',
    records: [
      {
        record: RECORDS.runningCriticalCveImages,
        // trivy-operator spells severities `Critical`, not `CRITICAL` (the seed's defect). Absent, not 0, without the collector.
        expr: `${q.agg('count', `count ${q.by(image)} (${q.series(METRICS.imageCveAgeHours, { [severity]: SEVERITY_BY_KEY.critical })})`)} or ${q.collectorZero}`,
      },
    ],
    alerts: [],
    panels: {
      runningCriticalCveImages: statPanel({
        title: 'Running images with Critical CVEs',
        description:
          'Inventoried images with at least one running container whose digest carries a Critical CVE.',
        queries: [{ expr: q.record(RECORDS.runningCriticalCveImages) }],
        width: 4,
        height: 4,
        thresholds: steps([1, 'red']),
      }),
      severityMatrix: tablePanel({
        title: 'CVEs on running images: image x severity',
        description:
          'Heatmap of distinct CVEs per image (rows) and severity (columns), counted on the digests that running containers execute. Only severities with an SLA are tracked.',
        queries: [{ expr: `count ${q.by(image, severity)} (${distinctCves})` }],
        width: 12,
        height: 10,
        transformations: [
          {
            id: 'groupingToMatrix',
            options: {
              columnField: severity,
              rowField: image,
              valueField: 'Value',
              emptyValue: 'zero',
            },
          },
        ],
        colorAllCells: true,
        thresholds: steps([1, 'orange'], [10, 'red']),
      }),
      mostVulnerableImages: barGaugePanel({
        title: 'Top 10 most vulnerable running images',
        description: 'Distinct tracked CVEs on the running digests of each image; the ten highest.',
        queries: [
          { expr: `topk(10, count ${q.by(image)} (${distinctCves}))`, legend: `{{${image}}}` },
        ],
        width: 12,
        height: 10,
        thresholds: steps([1, 'orange'], [10, 'red']),
      }),
    },
  } satisfies Concern;
}
