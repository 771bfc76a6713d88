/**
 * Panel factories over @grafana/grafana-foundation-sdk builders: one function per visualisation,
 * each taking the PromQL queries and the few options the concerns vary. Every query uses the
 * dashboard's `$datasource` variable, so the dashboard works against any Prometheus data source.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Name of the dashboard's data source variable. */
export const DATASOURCE_VARIABLE = 'datasource';
const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };

export interface Query {
  readonly expr: string;
  /** Grafana legend template, e.g. `{{image}}`. */
  readonly legend?: string;
}

export interface ThresholdStep {
  /** `null` for the base colour. */
  readonly value: number | null;
  readonly color: string;
}

interface PanelCommon {
  readonly title: string;
  readonly description: string;
  readonly queries: readonly Query[];
  /** Grid width (of 24) and height. */
  readonly width: number;
  readonly height: number;
  readonly unit?: string;
  readonly thresholds?: readonly ThresholdStep[];
  /** Text shown when the query returns nothing (e.g. "none" for an empty gap list). */
  readonly noValue?: string;
}

/**
 * `noValue` of a list fed by the drift collector (every copa-fleet list joins its inventory): an
 * empty result means "none" only while the collector reports, so the text says so rather than
 * showing a bare "none" with the collector down.
 */
export function noneIfCollected(none = 'none'): string {
  return `${none} (if the drift collector is up)`;
}

/** Green below the first step: the usual "good until" scale. */
export function steps(...points: ReadonlyArray<readonly [number, string]>): ThresholdStep[] {
  return [{ value: null, color: 'green' }, ...points.map(([value, color]) => ({ value, color }))];
}

function thresholds(points: readonly ThresholdStep[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(points.map((point) => ({ value: point.value, color: point.color })));
}

function targets(
  queries: readonly Query[],
  kind: 'instant-table' | 'instant' | 'range',
): prometheus.DataqueryBuilder[] {
  return queries.map((query, index) => {
    const builder = new prometheus.DataqueryBuilder()
      .datasource(DATASOURCE)
      .refId(String.fromCharCode(65 + index))
      .expr(query.expr);
    if (query.legend !== undefined) builder.legendFormat(query.legend);
    if (kind === 'range') return builder.range();
    builder.instant();
    return kind === 'instant-table' ? builder.format(prometheus.PromQueryFormat.Table) : builder;
  });
}

/** The builder methods every panel kind shares (each SDK panel builder has them, returning itself). */
interface CommonPanelBuilder {
  title(title: string): this;
  description(description: string): this;
  datasource(datasource: common.DataSourceRef): this;
  targets(targets: prometheus.DataqueryBuilder[]): this;
  span(span: number): this;
  height(height: number): this;
  unit(unit: string): this;
  thresholds(thresholds: dashboard.ThresholdsConfigBuilder): this;
  noValue(noValue: string): this;
}

/** Applies what every panel has: title, description, queries on `$datasource`, size, unit, thresholds. */
function withCommon<B extends CommonPanelBuilder>(
  panel: B,
  options: PanelCommon,
  kind: 'instant-table' | 'instant' | 'range',
): B {
  panel
    .title(options.title)
    .description(options.description)
    .datasource(DATASOURCE)
    .targets(targets(options.queries, kind))
    .span(options.width)
    .height(options.height)
    .unit(options.unit ?? 'short');
  if (options.thresholds !== undefined) panel.thresholds(thresholds(options.thresholds));
  if (options.noValue !== undefined) panel.noValue(options.noValue);
  return panel;
}

function lastValue(): common.ReduceDataOptionsBuilder {
  return new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);
}

/** A single number (or one per series), coloured by thresholds. */
export function statPanel(options: PanelCommon): stat.PanelBuilder {
  return withCommon(new stat.PanelBuilder(), options, 'instant')
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Background);
}

export interface TableOptions extends PanelCommon {
  /** Columns to hide (labels that are noise, `Time`). */
  readonly hide?: readonly string[];
  /** Column renames, e.g. `{ Value: 'Age (h)' }`. */
  readonly rename?: Readonly<Record<string, string>>;
  /** Colour the cells of this column by the thresholds. */
  readonly colorColumn?: string;
  /** Sort by this column (after renaming), descending. */
  readonly sortDesc?: string;
  /** Extra transformations after the column organisation. */
  readonly transformations?: readonly dashboard.DataTransformerConfig[];
  /** Colour every numeric cell by the thresholds (heatmap-like matrix). */
  readonly colorAllCells?: boolean;
}

/** A table of instant query results; several queries are merged into one table. */
export function tablePanel(options: TableOptions): table.PanelBuilder {
  const excludeByName = Object.fromEntries(
    ['Time', ...(options.hide ?? [])].map((name) => [name, true]),
  );
  const transformations: dashboard.DataTransformerConfig[] = [
    ...(options.queries.length > 1 ? [{ id: 'merge', options: {} }] : []),
    { id: 'organize', options: { excludeByName, renameByName: { ...(options.rename ?? {}) } } },
    ...(options.transformations ?? []),
  ];
  const panel = withCommon(new table.PanelBuilder(), options, 'instant-table').transformations(
    transformations,
  );
  const colored: dashboard.DynamicConfigValue[] = [
    { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
    { id: 'color', value: { mode: dashboard.FieldColorModeId.Thresholds } },
  ];
  if (options.colorAllCells === true) {
    panel.overrideByFieldType('number', colored);
  } else if (options.colorColumn !== undefined) {
    panel.overrideByName(options.colorColumn, colored);
  }
  if (options.sortDesc !== undefined)
    panel.sortBy([
      new common.TableSortByFieldStateBuilder().displayName(options.sortDesc).desc(true),
    ]);
  return panel;
}

/** Series over time. */
export function timeseriesPanel(
  options: PanelCommon & { readonly stacked?: boolean },
): timeseries.PanelBuilder {
  const panel = withCommon(new timeseries.PanelBuilder(), options, 'range')
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Right)
        .calcs(['lastNotNull']),
    );
  if (options.stacked === true)
    panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return panel;
}

/** Horizontal bars, one per series (top-N lists, per-image values). */
export function barGaugePanel(
  options: PanelCommon & { readonly min?: number; readonly max?: number },
): bargauge.PanelBuilder {
  const panel = withCommon(new bargauge.PanelBuilder(), options, 'instant')
    .reduceOptions(lastValue())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic);
  if (options.min !== undefined) panel.min(options.min);
  if (options.max !== undefined) panel.max(options.max);
  return panel;
}
