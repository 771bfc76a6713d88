/**
 * Synth renders chart objects one at a time instead of calling `chart.toJson()`: the objects, their
 * order and the validation must be exactly cdk8s' own, with and without dependencies.
 */
import { ApiObject, App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { addFleetCharts } from '../../src/charts/fleet-charts.ts';
import { addObservability } from '../../src/observability/index.ts';
import { chartObjects, prepareApp } from '../../src/synth/chart-objects.ts';
import { manifestsYaml } from '../../src/synth/manifests.ts';
import { renderFleet } from '../../src/synth/render.ts';
import { ALL_INVENTORIES, fleetOf } from '../support/fleet-fixtures.ts';

const object = (scope: Construct, id: string) =>
  new ApiObject(scope, id, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: id.toLowerCase() },
  });

/** Charts and objects in several orders, nested charts, dependencies within and across charts. */
function appWithDependencies(): App {
  const app = new App();
  const base = new Chart(app, 'base');
  const a = object(base, 'A');
  const b = object(base, 'B');
  const c = object(base, 'C');
  a.node.addDependency(c); // within a chart: C before A
  const group = new Construct(base, 'Group');
  object(group, 'D');
  b.node.addDependency(group); // on a plain construct: its objects come first
  const nested = new Chart(base, 'nested');
  object(nested, 'N');
  const late = new Chart(app, 'late');
  const l = object(late, 'L');
  const early = new Chart(app, 'early');
  object(early, 'E');
  l.node.addDependency(a); // across charts: makes `late` depend on `base`
  late.node.addDependency(early);
  return app;
}

interface ObjectJson {
  readonly metadata: { readonly name?: string };
}
const names = (objects: readonly ObjectJson[]) => objects.map((o) => o.metadata.name);

describe('chartObjects', () => {
  it('gives every chart of a fleet exactly what chart.toJson() gives, in the same order', () => {
    for (const [name, inventory] of Object.entries(ALL_INVENTORIES)) {
      const app = new App();
      const fleet = fleetOf(inventory);
      addFleetCharts(app, fleet);
      addObservability(app, fleet);
      prepareApp(app);
      for (const chart of app.charts) {
        expect(
          chartObjects(chart).map((o): unknown => o.toJson()),
          `${name}: ${chart.node.id}`,
        ).toEqual(chart.toJson());
      }
    }
  });

  it('follows dependencies within and across charts like chart.toJson()', () => {
    const app = appWithDependencies();
    prepareApp(app);
    const charts = app.charts;
    expect(charts.map((c) => c.node.id)).not.toEqual(['base', 'nested', 'late', 'early']); // the order is not just the tree's
    for (const chart of charts)
      expect(
        names(chartObjects(chart).map((o) => o.toJson() as ObjectJson)),
        chart.node.id,
      ).toEqual(names(chart.toJson()));
    const base = charts.find((c) => c.node.id === 'base') as Chart;
    expect(names(chartObjects(base).map((o) => o.toJson() as ObjectJson))).toEqual([
      'c',
      'a',
      'd',
      'b',
    ]);
  });

  it('reports failed validations exactly as chart.toJson() does', () => {
    const app = new App();
    const chart = new Chart(app, 'chart');
    object(chart, 'Ok');
    object(chart, 'Bad').node.addValidation({ validate: () => ['needs a fix'] });
    const expected = 'Validation failed with the following errors:\n  [chart/Bad] needs a fix';
    expect((): unknown => chart.toJson()).toThrow(expected);
    expect(() => prepareApp(app)).toThrow(expected);
  });
});

describe('renderFleet', () => {
  it('writes each chart manifest byte for byte as rendering the whole chart.toJson() would', () => {
    for (const [name, inventory] of Object.entries(ALL_INVENTORIES)) {
      const fleet = fleetOf(inventory);
      const app = new App();
      addFleetCharts(app, fleet);
      addObservability(app, fleet);
      const expected = app.charts.map((chart) => ({
        path: `${chart.node.id}.k8s.yaml`,
        content: manifestsYaml(chart.toJson()),
      }));
      const files = renderFleet(fleet);
      for (const manifest of expected)
        expect(
          files.find((f) => f.path === manifest.path)?.content,
          `${name}: ${manifest.path}`,
        ).toBe(manifest.content);
    }
  });
});
