/**
 * The Grafana dashboard: the concerns' panels laid out in three rows (fleet overview, SLA tracking,
 * Copa pipeline health) by LAYOUT, the one place that decides where each panel goes (as in the
 * grafana-foundation-sdk examples), a `$datasource` variable, and a uid that is stable for a fleet
 * namespace so that re-provisioning replaces the dashboard instead of adding another.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { stableHash } from '../model/naming.ts';
import type { collectorConcern } from './concerns/collector.ts';
import type { coverageConcern } from './concerns/coverage.ts';
import type { dependencyTrackConcern } from './concerns/dependency-track.ts';
import type { driftConcern } from './concerns/drift.ts';
import type { exceptionsConcern } from './concerns/exceptions.ts';
import type { firstRunsConcern } from './concerns/first-runs.ts';
import type { jobFailuresConcern } from './concerns/job-failures.ts';
import type { pipelineConcern } from './concerns/pipeline.ts';
import type { pushgatewayConcern } from './concerns/pushgateway.ts';
import type { silencesConcern } from './concerns/silences.ts';
import type { slaConcern } from './concerns/sla.ts';
import type { vulnerabilitiesConcern } from './concerns/vulnerabilities.ts';
import { METRICS } from '../shared/metrics.ts';
import { DATASOURCE_VARIABLE } from './panels.ts';
import type { ObservabilitySettings } from './settings.ts';
import type { Concern, PanelBuilder } from './types.ts';

/** The panel names a concern function defines. */
type PanelsOf<F extends (settings: ObservabilitySettings) => Concern> = Extract<
  keyof ReturnType<F>['panels'],
  string
>;

/** Concern name -> the names of its panels (checked against the concerns' own panel maps). */
interface ConcernPanels {
  readonly vulnerabilities: PanelsOf<typeof vulnerabilitiesConcern>;
  readonly sla: PanelsOf<typeof slaConcern>;
  readonly drift: PanelsOf<typeof driftConcern>;
  readonly exceptions: PanelsOf<typeof exceptionsConcern>;
  readonly coverage: PanelsOf<typeof coverageConcern>;
  readonly pipeline: PanelsOf<typeof pipelineConcern>;
  readonly 'job-failures': PanelsOf<typeof jobFailuresConcern>;
  readonly 'first-runs': PanelsOf<typeof firstRunsConcern>;
  readonly pushgateway: PanelsOf<typeof pushgatewayConcern>;
  readonly collector: PanelsOf<typeof collectorConcern>;
  readonly 'dependency-track': PanelsOf<typeof dependencyTrackConcern>;
  readonly silences: PanelsOf<typeof silencesConcern>;
}

/** One placed panel: `[concern name, panel name]`. */
export type PanelRef = {
  readonly [C in keyof ConcernPanels]: readonly [C, ConcernPanels[C]];
}[keyof ConcernPanels];

export interface LayoutRow {
  readonly title: string;
  /** Left to right, wrapping at the grid width. */
  readonly panels: readonly PanelRef[];
}

/**
 * The whole dashboard: its rows, in order, and the panels of each, in order. Each concern defines
 * its panels (named builders); this is the only place that decides where they go. A panel of a
 * concern that is not enabled (Dependency-Track without `dependencyTrack`) is left out.
 */
export const LAYOUT: readonly LayoutRow[] = [
  {
    title: 'Fleet overview',
    panels: [
      ['coverage', 'inventoriedImages'],
      ['vulnerabilities', 'runningCriticalCveImages'],
      ['drift', 'patchCompliance'],
      ['exceptions', 'complianceWithAcceptedRisk'],
      ['drift', 'complianceUnknown'],
      ['drift', 'driftedContainerCount'],
      ['coverage', 'unscannedNamespaceCount'],
      ['vulnerabilities', 'severityMatrix'],
      ['vulnerabilities', 'mostVulnerableImages'],
      ['drift', 'driftedContainers'],
      ['coverage', 'scanAge'],
      ['coverage', 'unscannedNamespaces'],
      ['coverage', 'unscannedImages'],
      ['first-runs', 'neverReported'],
      ['silences', 'muted'],
      ['silences', 'unreadable'],
    ],
  },
  {
    title: 'SLA tracking',
    panels: [
      ['sla', 'breaches'],
      ['sla', 'criticalOlderThan24h'],
      ['sla', 'breachesCounted'],
      ['sla', 'breachesBySeverity'],
      ['sla', 'oldestCve'],
      ['exceptions', 'acceptedRisk'],
      ['exceptions', 'acceptedBreaches'],
      ['exceptions', 'unfixableCves'],
    ],
  },
  {
    title: 'Copa pipeline health',
    panels: [
      ['pipeline', 'successRate'],
      ['pipeline', 'runs'],
      ['pipeline', 'failuresByReason'],
      ['pipeline', 'successRateByImage'],
      ['job-failures', 'lastRunFailed'],
      ['pipeline', 'hoursSinceSuccess'],
      ['pipeline', 'runDuration'],
      ['pipeline', 'fixableVulnerabilities'],
      ['pushgateway', 'groupAge'],
      ['collector', 'up'],
      ['collector', 'lastSync'],
      ['collector', 'informers'],
      ['collector', 'apiErrors'],
      ['dependency-track', 'uploadFailures'],
    ],
  },
];

/**
 * The layout's rows with the concerns' panel builders. Throws when a concern defines a panel the
 * layout does not place (or the layout names one no concern defines): a panel is never silently lost.
 */
export function layoutPanels(
  concerns: readonly Concern[],
  layout: readonly LayoutRow[] = LAYOUT,
): Array<{ title: string; panels: PanelBuilder[] }> {
  const byConcern = new Map(concerns.map((concern) => [concern.name, concern]));
  const placed = new Set<string>();
  const rows = layout.map((row) => ({
    title: row.title,
    panels: row.panels.flatMap(([concernName, panelName]) => {
      const concern = byConcern.get(concernName);
      if (concern === undefined) return [];
      const panel = concern.panels[panelName];
      if (panel === undefined)
        throw new Error(`dashboard layout: concern "${concernName}" has no panel "${panelName}"`);
      const key = `${concernName}.${panelName}`;
      if (placed.has(key)) throw new Error(`dashboard layout: ${key} is placed twice`);
      placed.add(key);
      return [panel];
    }),
  }));
  const unplaced = concerns
    .flatMap((concern) => Object.keys(concern.panels).map((name) => `${concern.name}.${name}`))
    .filter((key) => !placed.has(key));
  if (unplaced.length > 0) throw new Error(`dashboard layout: not placed: ${unplaced.join(', ')}`);
  return rows;
}

/** Grafana's grid is 24 units wide. */
const GRID_WIDTH = 24;
/** Grafana limits uids to 40 characters. */
const UID_MAX = 40;
const UID_PREFIX = 'copa-fleet';
/** The kube-prometheus-stack Grafana sidecar reads the target folder from this annotation. */
export const GRAFANA_FOLDER_ANNOTATION = 'grafana_folder';
export const DASHBOARD_FILE = 'copa-fleet.json';
/** Multi-cluster dashboards: the variable every panel's series are filtered by. */
export const CLUSTER_VARIABLE = 'cluster';

export function dashboardUid(namespace: string): string {
  const readable = `${UID_PREFIX}-${namespace}`;
  return readable.length <= UID_MAX
    ? readable
    : `${UID_PREFIX}-${stableHash(namespace).slice(0, 12)}`;
}

export function buildDashboard(
  settings: ObservabilitySettings,
  concerns: readonly Concern[],
): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(
    `Copa fleet: patch compliance (${settings.namespace})`,
  )
    .uid(dashboardUid(settings.namespace))
    .description(
      'Which running images carry critical CVEs, which are past their SLA, which Copa runs failed, and which Pods still run an unpatched digest.',
    )
    .tags(['copa-fleet', 'security', 'patching'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh('5m')
    .time({ from: 'now-7d', to: 'now' })
    .timezone('browser')
    .withVariable(
      new dashboard.DatasourceVariableBuilder(DATASOURCE_VARIABLE)
        .label('Data source')
        .type('prometheus'),
    );
  const { clusters } = settings.q;
  if (clusters !== undefined) {
    // The clusters that export the inventory, i.e. every cluster whose collector reports.
    builder.withVariable(
      new dashboard.QueryVariableBuilder(CLUSTER_VARIABLE)
        .label('Cluster')
        .datasource({ type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` })
        .query(`label_values(${settings.q.series(METRICS.inventoryImageInfo)}, ${clusters.label})`)
        .multi(true)
        .includeAll(true)
        .allValue('.+')
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc),
    );
  }

  // The positions are computed here (left to right, wrapping at the grid width) rather than by the
  // builder, which lets a panel overflow the row.
  let id = 1;
  let y = 0;
  for (const row of layoutPanels(concerns)) {
    builder.withRow(
      new dashboard.RowBuilder(row.title).id(id++).gridPos({ x: 0, y, w: GRID_WIDTH, h: 1 }),
    );
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const panelBuilder of row.panels) {
      const panel = panelBuilder.build();
      const { w, h } = panel.gridPos ?? { w: GRID_WIDTH, h: 8 };
      if (x + w > GRID_WIDTH) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panel.id = id++;
      panel.gridPos = { x, y, w, h };
      builder.withPanel({ build: () => panel });
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return builder.build();
}

/** Deterministic JSON text of the dashboard (what Grafana and the sidecar read). */
export function dashboardJson(model: dashboard.Dashboard): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}
