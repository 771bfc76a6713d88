/**
 * The Grafana dashboard: built with the foundation SDK, stable uid, `$datasource` variable, the
 * three rows with the panels issue 3 asks for, and every panel query evaluated by the real
 * promtool against the scenarios' input series (all scenario images at once): a panel that can
 * never show anything fails here.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleObservability } from '../../src/observability/assemble.ts';
import {
  dashboardJson,
  dashboardUid,
  LAYOUT,
  type LayoutRow,
  layoutPanels,
} from '../../src/observability/dashboard.ts';
import { observabilityFiles, OUTPUT_PATHS } from '../../src/observability/files.ts';
import { fleet, fleetOf, inventoryInput, observability, ruleDir } from './support/fixture.ts';
import { dataTestGroup, promtoolTest } from './support/promtool.ts';
import { panelExprs, panelsOf } from './support/queries.ts';
import { DASHBOARD_EVAL_TIME, dashboardWorld } from './support/scenarios.ts';
import { renderWorld, STEP } from './support/world.ts';
import { stringMatching } from '../support/matchers.ts';

const model = observability.dashboard;
const panels = panelsOf(model);
const rows = (model.panels ?? []).filter((panel) => panel.type === 'row');
const titles = panels.map((panel) => panel.title ?? '');

function panel(title: string) {
  const found = panels.find((candidate) => candidate.title === title);
  if (found === undefined) throw new Error(`no panel "${title}" (have: ${titles.join(' | ')})`);
  return found;
}

describe('dashboard layout (LAYOUT in dashboard.ts)', () => {
  const withoutDependencyTrack = assembleObservability(
    fleetOf({ ...inventoryInput, dependencyTrack: undefined }),
  );

  it.each([
    ['with Dependency-Track', observability],
    ['without Dependency-Track', withoutDependencyTrack],
  ] as const)('places every panel a concern defines exactly once (%s)', (_name, outputs) => {
    const defined = outputs.concerns.flatMap((concern) =>
      Object.keys(concern.panels).map((name) => `${concern.name}.${name}`),
    );
    const enabled = new Set(outputs.concerns.map((concern) => concern.name));
    const placed = LAYOUT.flatMap((row) =>
      row.panels
        .filter(([concern]) => enabled.has(concern))
        .map(([concern, name]) => `${concern}.${name}`),
    );
    expect([...placed].sort()).toEqual([...defined].sort());
    expect(new Set(placed).size).toBe(placed.length);
    // ...and the dashboard holds exactly those panels, in LAYOUT order.
    const builtTitles = panelsOf(outputs.dashboard).map((p) => p.title);
    const byName = new Map<string, string | undefined>(
      outputs.concerns.flatMap((concern) =>
        Object.entries(concern.panels).map(
          ([name, builder]) => [`${concern.name}.${name}`, builder.build().title] as const,
        ),
      ),
    );
    expect(builtTitles).toEqual(placed.map((key) => byName.get(key)));
    expect(outputs.concerns.some((concern) => concern.name === 'dependency-track')).toBe(
      outputs === observability,
    );
  });

  it('refuses a layout that leaves a panel out, places one twice, or names one that does not exist', () => {
    const [first, ...rest] = LAYOUT;
    const dropped: LayoutRow[] = [{ ...first!, panels: first!.panels.slice(1) }, ...rest];
    expect(() => layoutPanels(observability.concerns, dropped)).toThrow(
      /not placed: coverage\.inventoriedImages/,
    );
    const twice: LayoutRow[] = [
      { ...first!, panels: [...first!.panels, first!.panels[0]!] },
      ...rest,
    ];
    expect(() => layoutPanels(observability.concerns, twice)).toThrow(
      /coverage\.inventoriedImages is placed twice/,
    );
    const unknown = [
      { title: 'x', panels: [['coverage', 'nope']] },
      ...LAYOUT,
    ] as unknown as LayoutRow[];
    expect(() => layoutPanels(observability.concerns, unknown)).toThrow(
      /concern "coverage" has no panel "nope"/,
    );
  });
});

describe('dashboard model', () => {
  it('has a stable uid derived from the fleet namespace, and a $datasource variable', () => {
    expect(model.uid).toBe(dashboardUid(fleet.namespace));
    expect(model.uid).toBe('copa-fleet-patching');
    expect(dashboardUid('n'.repeat(63))).toHaveLength('copa-fleet-'.length + 12);
    const variables = model.templating?.list ?? [];
    expect(variables).toEqual([
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    ]);
  });

  it('has the three rows, in order, each with panels below it', () => {
    expect(rows.map((row) => row.title)).toEqual([
      'Fleet overview',
      'SLA tracking',
      'Copa pipeline health',
    ]);
    const rowY = rows.map((row) => row.gridPos?.y ?? -1);
    for (let index = 0; index < rowY.length; index += 1) {
      const top = rowY[index]!;
      const bottom = rowY[index + 1] ?? Infinity;
      expect(
        panels.filter((p) => (p.gridPos?.y ?? -1) > top && (p.gridPos?.y ?? -1) < bottom).length,
        rows[index]!.title,
      ).toBeGreaterThan(2);
    }
  });

  it('lays every panel out inside the 24-unit grid, without overlaps', () => {
    const boxes = (model.panels ?? []).map((p) => ({ title: p.title, ...p.gridPos! }));
    for (const box of boxes) expect(box.x + box.w, box.title).toBeLessThanOrEqual(24);
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} / ${b.title}`).toBe(false);
      }
    }
  });

  it('queries the $datasource variable everywhere, with unique panel ids', () => {
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of p.targets ?? [])
        expect((target as { datasource?: unknown }).datasource, p.title).toEqual({
          type: 'prometheus',
          uid: '${datasource}',
        });
    }
    const ids = (model.panels ?? []).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has the seed panels and the coverage panels', () => {
    expect(panel('CVEs on running images: image x severity').transformations).toContainEqual(
      expect.objectContaining({ id: 'groupingToMatrix' }),
    );
    expect(panel('Top 10 most vulnerable running images').targets?.[0]).toMatchObject({
      expr: stringMatching(/^topk\(10, /),
    });
    expect(panel('Containers on a pre-patch digest').type).toBe('stat');
    expect(
      panel('Copa runs: succeeded and failed (trailing 7 d)').targets?.map(
        (t) => (t as { legendFormat?: string }).legendFormat,
      ),
    ).toEqual(['succeeded', 'failed']);
    for (const title of [
      'Scan age per running image',
      'Namespaces with running pods and no Trivy report',
      'Inventoried images that never reported',
    ]) {
      expect(titles).toContain(title);
    }
  });

  it('never says a bare "none" for an empty list: every list depends on the collector, and says so', () => {
    const withNoValue = panelsOf(model).filter(
      (p) => p.fieldConfig?.defaults?.noValue !== undefined && p.title !== 'Drift collector',
    );
    expect(withNoValue.length).toBeGreaterThan(5);
    for (const p of withNoValue)
      expect(p.fieldConfig?.defaults?.noValue, p.title).toMatch(/if the drift collector is up/);
  });

  it('colours the SLA breach table orange from 24 h and red beyond 48 h', () => {
    const table = panel('SLA breaches');
    expect(table.type).toBe('table');
    expect(table.fieldConfig?.defaults?.thresholds?.steps).toEqual([
      { value: null, color: 'green' },
      { value: 24, color: 'orange' },
      { value: 48, color: 'red' },
    ]);
    const critical12 = assembleObservability(
      fleetOf({
        ...inventoryInput,
        defaults: { ...inventoryInput.defaults, sla: { critical: 12 } },
      }),
    );
    const steps = panelsOf(critical12.dashboard).find((p) => p.title === 'SLA breaches')
      ?.fieldConfig?.defaults?.thresholds?.steps;
    expect(steps?.map((step) => step.value)).toEqual([null, 12, 24]);
  });

  it('is written as dist/grafana/copa-fleet.json, byte-for-byte stable', () => {
    const file = observabilityFiles(observability).find((f) => f.path === OUTPUT_PATHS.dashboard);
    expect(file?.content).toBe(dashboardJson(model));
    expect(JSON.parse(file!.content)).toEqual(JSON.parse(JSON.stringify(model)));
    const reordered = assembleObservability(
      fleetOf({ ...inventoryInput, images: [...(inventoryInput.images ?? [])].reverse() }),
    );
    expect(dashboardJson(reordered.dashboard)).toBe(file?.content);
  });

  it('has no Dependency-Track panel when the upload is off', () => {
    const withoutDt = assembleObservability(
      fleetOf({ ...inventoryInput, dependencyTrack: undefined }),
    );
    expect(panelsOf(withoutDt.dashboard).map((p) => p.title)).not.toContain(
      'Dependency-Track upload failures',
    );
    expect(titles).toContain('Dependency-Track upload failures');
  });
});

/**
 * Panels that read no collector series (Pushgateway data not joined with the inventory, and the
 * collector's own scrape health): they keep their values while the collector is down.
 */
const PANELS_WITHOUT_COLLECTOR: readonly string[] = ['Drift collector'];

describe('every panel query returns data (promtool, scenario input series)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await ruleDir();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const queries = panelExprs(model);

  it('evaluates each of the panel queries', async () => {
    expect(queries.length).toBeGreaterThan(20);
    const result = await promtoolTest(dir, 'panels.test.yaml', [
      dataTestGroup(
        'dashboard panels',
        dashboardWorld(),
        DASHBOARD_EVAL_TIME,
        queries.map((q) => q.expr),
      ),
    ]);
    expect(
      result.code,
      `${result.output}\n${queries.map((q, i) => `${i}: ${q.source}`).join('\n')}`,
    ).toBe(0);
  });

  it('with the collector down, no panel that depends on it shows a value (no reassuring 0 or "none")', async () => {
    const down = { ...dashboardWorld(), collector: { down: { from: DASHBOARD_EVAL_TIME - 3600 } } };
    const collectorFree = queries.filter((q) =>
      PANELS_WITHOUT_COLLECTOR.some((title) => q.source.startsWith(`panel "${title}"`)),
    );
    const dependent = queries.filter((q) => !collectorFree.includes(q));
    const result = await promtoolTest(dir, 'panels-collector-down.test.yaml', [
      {
        name: 'collector down',
        interval: '5m',
        input_series: renderWorld(down, DASHBOARD_EVAL_TIME + STEP),
        promql_expr_test: dependent.map((q) => ({
          expr: `(${q.expr}) > -Inf`,
          eval_time: `${DASHBOARD_EVAL_TIME / 60}m`,
          exp_samples: [],
        })),
      },
    ]);
    expect(
      result.code,
      `${result.output}\n${dependent.map((q, i) => `${i}: ${q.source}`).join('\n')}`,
    ).toBe(0);
  });

  it('fails for a query that returns nothing (the check can fail)', async () => {
    const world = { ...dashboardWorld(), images: [] };
    const result = await promtoolTest(dir, 'empty.test.yaml', [
      dataTestGroup('empty', world, 3600, ['copa_patch_success_total', 'vector(1)']),
    ]);
    expect(result.output).toContain('copa_patch_success_total');
    expect(result.output).not.toContain('vector(1)');
    expect(result.code).not.toBe(0);
  });
});
