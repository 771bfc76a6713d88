/**
 * The report's content as a list of blocks (sections, text, tables, charts), written once and
 * rendered by render-md.ts and render-html.ts, so the two formats carry the same tables.
 */
import type { Chart, ClusterDriftRow, DriftRow, Figure, Report } from './model.ts';

export type Cell = string | number | null;
export type Block =
  | { readonly kind: 'section'; readonly title: string }
  | { readonly kind: 'heading'; readonly title: string }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'figures'; readonly items: ReadonlyArray<readonly [string, string]> }
  | {
      readonly kind: 'table';
      readonly headers: readonly string[];
      readonly rows: ReadonlyArray<readonly Cell[]>;
      readonly empty: string;
      readonly queries: readonly string[];
    }
  | { readonly kind: 'chart'; readonly chart: Chart }
  | { readonly kind: 'queries'; readonly report: Report };

export const SECTION_TITLES = {
  asOf: '1. Point in time: the four questions',
  period: '2. Over the period: SLA attainment',
  coverage: '3. Coverage and trust in the data',
  exceptions: '4. Accepted risk and silences',
  appendix: 'Appendix: the PromQL behind every figure',
} as const;

export function formatFigure(figure: Figure): string {
  if (figure.value === null) return 'n/a';
  if (figure.unit === 'ratio') return `${(figure.value * 100).toFixed(1)} %`;
  if (figure.unit === 'hours') return `${figure.value.toFixed(1)} h`;
  return String(figure.value);
}

const hours = (h: number | null): string => (h === null ? 'n/a' : `${h.toFixed(1)} h`);

export const isClusterDrift = (row: DriftRow | ClusterDriftRow): row is ClusterDriftRow =>
  'containers' in row;

export function reportBlocks(report: Report): Block[] {
  const { asOf, period, coverage, exceptions, clusters } = report;
  // Multi-cluster fleets only: a leading cluster column on the tables whose rows carry one.
  const headed = (headers: readonly string[]): string[] =>
    clusters === undefined ? [...headers] : ['cluster', ...headers];
  const row = (r: { readonly cluster?: string }, cells: readonly Cell[]): Cell[] =>
    clusters === undefined ? [...cells] : [r.cluster ?? null, ...cells];
  const blocks: Block[] = [
    {
      kind: 'figures',
      items: [
        ['Report time (--at)', report.at],
        ['Period', `${report.periodStart} to ${report.at} (${report.periodHours} h)`],
        ['Prometheus', report.prometheus],
        ['Resolution of time figures', `${report.resolutionSeconds} s`],
        ...(clusters === undefined
          ? []
          : ([
              [
                'Clusters',
                `${clusters.names.join(', ')} (label ${clusters.label}); patch runs: ${clusters.patch}`,
              ],
            ] as const)),
      ],
    },
    { kind: 'section', title: SECTION_TITLES.asOf },
    {
      kind: 'heading',
      title: `Images with Critical CVEs on running digests: ${formatFigure(asOf.criticalCves.images)} (CVEs: ${formatFigure(asOf.criticalCves.count)})`,
    },
    {
      kind: 'table',
      headers: headed(['image', 'CVE', 'since', 'age', 'team', 'running digests']),
      rows: asOf.criticalCves.rows.map((r) =>
        row(r, [r.image, r.cveId, r.firstSeen, hours(r.ageHours), r.team, r.digests.join(' ')]),
      ),
      empty: 'No running digest carries a Critical CVE.',
      queries: asOf.criticalCves.count.queries,
    },
    { kind: 'heading', title: `CVEs past their SLA: ${formatFigure(asOf.pastSla.count)}` },
    {
      kind: 'table',
      headers: headed(['image', 'CVE', 'severity', 'age', 'SLA', 'team']),
      rows: asOf.pastSla.rows.map((r) =>
        row(r, [r.image, r.cveId, r.severity, hours(r.ageHours), hours(r.slaHours), r.team]),
      ),
      empty: 'No CVE on a running image is past its SLA.',
      queries: asOf.pastSla.count.queries,
    },
    {
      kind: 'heading',
      title: `Copa runs that failed: ${formatFigure(asOf.failedRuns.count)}; images without a successful patch within their schedule interval: ${formatFigure(asOf.overdue.count)}${clusters === undefined ? '' : ` (the patch cluster, ${clusters.patch})`}`,
    },
    {
      kind: 'table',
      headers: ['image', 'CronJob', 'failure reason', 'last success', 'team'],
      rows: asOf.failedRuns.rows.map((r) => [
        r.image,
        r.cronjob,
        r.failureReason,
        r.lastSuccess ?? 'never',
        r.team,
      ]),
      empty: 'No last run failed.',
      queries: asOf.failedRuns.count.queries,
    },
    {
      kind: 'table',
      headers: ['image', 'CronJob', 'reason', 'last success', 'schedule interval', 'team'],
      rows: asOf.overdue.rows.map((r) => [
        r.image,
        r.cronjob,
        r.reason,
        r.lastSuccess ?? 'never',
        hours(r.scheduleIntervalHours),
        r.team,
      ]),
      empty: 'Every inventoried image had a successful run within its schedule interval.',
      queries: asOf.overdue.count.queries,
    },
    {
      kind: 'heading',
      title: `Running containers on a pre-patch digest: ${formatFigure(asOf.drift.count)}`,
    },
    clusters === undefined
      ? {
          kind: 'table',
          headers: [
            'namespace',
            'pod',
            'container',
            'image',
            'running digest',
            'patched digest',
            'since',
            'for',
          ],
          rows: asOf.drift.rows
            .filter((r): r is DriftRow => !isClusterDrift(r))
            .map((r) => [
              r.namespace,
              r.pod,
              r.container,
              r.image,
              r.runningDigest,
              r.patchedDigest,
              r.since,
              `${r.beforePeriod ? '≥ ' : ''}${hours(r.hours)}`,
            ]),
          empty: 'Every running container runs the latest patched digest of its image.',
          queries: [...asOf.drift.count.queries, 'driftRange'],
        }
      : {
          kind: 'table',
          headers: [
            'cluster',
            'namespace',
            'image',
            'running digest',
            'containers',
            'since',
            'for',
          ],
          rows: asOf.drift.rows
            .filter(isClusterDrift)
            .map((r) => [
              r.cluster,
              r.namespace,
              r.image,
              r.runningDigest,
              r.containers,
              r.since,
              `${r.beforePeriod ? '≥ ' : ''}${hours(r.hours)}`,
            ]),
          empty:
            'No running container runs a pre-patch digest of its image (the latest patched digests are those the patch cluster pushed).',
          queries: [...asOf.drift.count.queries, 'driftRange'],
        },

    { kind: 'section', title: SECTION_TITLES.period },
    { kind: 'heading', title: 'CVEs by severity' },
    {
      kind: 'table',
      headers: [
        'severity',
        'appeared',
        'remediated',
        'within SLA',
        'within SLA share',
        'median time to remediate',
        'p90 time to remediate',
        'still open',
        'open past SLA',
      ],
      rows: period.bySeverity.map((r) => [
        r.severity,
        formatFigure(r.appeared),
        formatFigure(r.remediated),
        formatFigure(r.remediatedWithinSla),
        formatFigure(r.withinSlaShare),
        formatFigure(r.medianHoursToRemediate),
        formatFigure(r.p90HoursToRemediate),
        formatFigure(r.stillOpen),
        formatFigure(r.stillOpenPastSla),
      ]),
      empty: 'No CVE was tracked during the period.',
      queries: period.bySeverity[0]?.appeared.queries ?? [],
    },
    {
      kind: 'text',
      text:
        "Time to remediate is the SLA clock (first seen on a running container of the image, persisted across collector restarts) at the CVE's last sample in the period. " +
        '"Appeared": not open at the period start. "Remediated": not open at the period end.' +
        (clusters === undefined
          ? ''
          : ' In a multi-cluster fleet a CVE is counted once per cluster whose running containers carry it: the same CVE of an image in two clusters is two CVEs, each remediated (and timed) in its cluster.'),
    },
    {
      kind: 'table',
      headers: [
        'severity',
        'image',
        ...(clusters === undefined ? [] : ['cluster']),
        'CVE',
        'open at start',
        'open at end',
        'age at last sample',
        'SLA',
        'within SLA',
      ],
      rows: period.cves.map((c) => [
        c.severity,
        c.image,
        ...(clusters === undefined ? [] : [c.cluster ?? null]),
        c.cveId,
        c.openAtStart ? 'yes' : 'no',
        c.openAtEnd ? 'yes' : 'no',
        hours(c.lastAgeHours),
        hours(c.slaHours),
        c.withinSla === null ? 'open' : c.withinSla ? 'yes' : 'no',
      ]),
      empty: 'No CVE was tracked during the period.',
      queries: ['cveLastAge', 'cveAtStart', 'cveAtEnd', 'slaHours'],
    },
    { kind: 'heading', title: 'Copa runs by outcome' },
    {
      kind: 'table',
      headers: ['outcome', 'runs'],
      rows: period.runs.map((r) => [r.outcome, formatFigure(r.runs)]),
      empty: 'No runs.',
      queries: ['runsSucceeded', 'runsFailed'],
    },
    {
      kind: 'heading',
      title: `Time with drift: ${formatFigure(period.driftHours)} with at least one container on a pre-patch digest`,
    },
    {
      kind: 'table',
      headers: headed(['image', 'hours with drift']),
      rows: period.driftByImage.map((r) => row(r, [r.image, hours(r.hours)])),
      empty: 'No container ran a pre-patch digest during the period.',
      queries: period.driftHours.queries,
    },
    { kind: 'chart', chart: period.complianceRatio },
    { kind: 'chart', chart: period.breachesPerDay },

    { kind: 'section', title: SECTION_TITLES.coverage },
    { kind: 'heading', title: 'Sources of evidence: how much of the period each covers' },
    {
      kind: 'table',
      headers: headed(['source', 'job', 'up', 'down', 'no data', 'first sample']),
      rows: coverage.sources.map((s) =>
        row(s, [
          s.source,
          s.job,
          formatFigure(s.upShare),
          formatFigure(s.downShare),
          formatFigure(s.noDataShare),
          s.firstSample,
        ]),
      ),
      empty: 'No source.',
      queries: coverage.sources.flatMap((s) => s.upShare.queries),
    },
    {
      kind: 'text',
      text:
        `Retention: ${coverage.retention.configured ?? 'not reported by this server (Thanos and Mimir do not serve runtimeinfo)'}` +
        `${coverage.retention.coversPeriod === null ? '' : coverage.retention.coversPeriod ? ', covers the period' : ', SHORTER than the period'}. ${coverage.retention.note}`,
    },
    { kind: 'heading', title: 'Unscanned namespaces during the period' },
    {
      kind: 'table',
      headers: headed(['namespace', 'hours unscanned', 'most running pods']),
      rows: coverage.unscannedNamespaces.map((r) =>
        row(r, [r.namespace, hours(r.hours), r.maxPods]),
      ),
      empty: 'Every namespace with running pods had a VulnerabilityReport all period.',
      queries: ['unscannedRange'],
    },
    {
      kind: 'heading',
      title: `Stale scans during the period (older than ${coverage.staleScans.thresholdHours} h)`,
    },
    {
      kind: 'table',
      headers: headed(['image', 'oldest scan age']),
      rows: coverage.staleScans.rows.map((r) => row(r, [r.image, hours(r.maxScanAgeHours)])),
      empty: 'No scan was stale.',
      queries: ['scanAgeMax'],
    },
    { kind: 'heading', title: 'The inventory as it was' },
    {
      kind: 'table',
      headers: [
        'image',
        'CronJob',
        'team',
        'inventoried at the end',
        'schedule interval',
        'SLA hours',
      ],
      rows: coverage.inventory.map((r) => [
        r.image,
        r.cronjob,
        r.team,
        r.inventoriedAtEnd ? 'yes' : 'no',
        hours(r.scheduleIntervalHours),
        Object.entries(r.slaHours)
          .map(([sev, h]) => `${sev} ${h}`)
          .join(', '),
      ]),
      empty: 'No inventory series in the period.',
      queries: ['inventory', 'inventoryAtEnd', 'scheduleInterval', 'slaHours'],
    },

    { kind: 'section', title: SECTION_TITLES.exceptions },
    {
      kind: 'text',
      text: exceptions.present
        ? 'Series of accepted-risk exceptions and watched silences in force during the period. They are listed here and never counted as compliant in the figures above.'
        : `No series of accepted-risk exceptions or silences in the period (matcher ${exceptions.matcher}): none were recorded, or the feature is not deployed. The figures above count every CVE.`,
    },
    ...exceptions.groups.flatMap((group): Block[] => {
      const labels = [...new Set(group.series.flatMap((s) => Object.keys(s)))].sort();
      return [
        { kind: 'heading', title: group.metric },
        {
          kind: 'table',
          headers: labels,
          rows: group.series.map((s) => labels.map((l) => s[l] ?? null)),
          empty: 'none',
          queries: ['exceptions'],
        },
      ];
    }),

    { kind: 'section', title: SECTION_TITLES.appendix },
    { kind: 'queries', report },
  ];
  return blocks;
}
