/**
 * The Grafana dashboard: the concerns' panels in three rows (fleet overview, SLA tracking, Copa
 * pipeline health), a `$datasource` variable, and a uid that is stable for a fleet namespace so
 * that re-provisioning replaces the dashboard instead of adding another.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { stableHash } from '../model/naming.ts';
import { DATASOURCE_VARIABLE } from './panels.ts';
import type { ObservabilitySettings } from './settings.ts';
import { type Concern, type PanelDefinition, ROWS, type RowId } from './types.ts';

/** Grafana's grid is 24 units wide. */
const GRID_WIDTH = 24;
/** Grafana limits uids to 40 characters. */
const UID_MAX = 40;
const UID_PREFIX = 'copa-fleet';
/** The kube-prometheus-stack Grafana sidecar reads the target folder from this annotation. */
export const GRAFANA_FOLDER_ANNOTATION = 'grafana_folder';
export const DASHBOARD_FILE = 'copa-fleet.json';

export function dashboardUid(namespace: string): string {
  const readable = `${UID_PREFIX}-${namespace}`;
  return readable.length <= UID_MAX ? readable : `${UID_PREFIX}-${stableHash(namespace).slice(0, 12)}`;
}

export function buildDashboard(settings: ObservabilitySettings, concerns: readonly Concern[]): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(`Copa fleet: patch compliance (${settings.namespace})`)
    .uid(dashboardUid(settings.namespace))
    .description('Which running images carry critical CVEs, which are past their SLA, which Copa runs failed, and which Pods still run an unpatched digest.')
    .tags(['copa-fleet', 'security', 'patching'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh('5m')
    .time({ from: 'now-7d', to: 'now' })
    .timezone('browser')
    .withVariable(new dashboard.DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Data source').type('prometheus'));

  // Panels keep their concern order among equal `order` values (a stable sort). The layout is
  // computed here (left to right, wrapping at the grid width) rather than by the builder, which
  // lets a panel overflow the row.
  const panels: PanelDefinition[] = concerns.flatMap((concern) => concern.panels);
  let id = 1;
  let y = 0;
  for (const rowId of Object.keys(ROWS) as RowId[]) {
    builder.withRow(new dashboard.RowBuilder(ROWS[rowId]).id(id++).gridPos({ x: 0, y, w: GRID_WIDTH, h: 1 }));
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const definition of panels.filter((panel) => panel.row === rowId).sort((a, b) => a.order - b.order)) {
      const panel = definition.panel.build();
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
