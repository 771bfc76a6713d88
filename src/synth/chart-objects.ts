/**
 * The ApiObjects of each chart in the order `chart.toJson()` renders them, without rendering them,
 * so that synth can render and write one object at a time (a 5,000-image fleet's copa-jobs chart
 * is 20,000 objects: their JSON all at once was ~90 MB of heap).
 *
 * `Chart.toJson()` (cdk8s 2.70, lib/app.js `App._synthChart`) first resolves the app's construct
 * dependencies into ApiObject dependencies and validates the whole app, then orders the chart's
 * objects by `DependencyGraph(chart).topology()`. The first two steps are private to cdk8s, so
 * `prepareApp` repeats them here, once for all charts (cdk8s repeats them for every chart); the
 * ordering uses cdk8s' own public DependencyGraph. test/synth/chart-objects.test.ts checks the
 * result against `chart.toJson()`, dependencies included, so a cdk8s upgrade that changes either
 * step fails there.
 */
import { ApiObject, type App, Chart, DependencyGraph } from 'cdk8s';
import type { IConstruct, Node } from 'constructs';

/** `node.findAll()`, memoised for one preparation (cdk8s' SynthRequestCache). */
function findAllCache(): (node: Node) => IConstruct[] {
  const cache = new Map<Node, IConstruct[]>();
  return (node) => {
    let all = cache.get(node);
    if (all === undefined) {
      all = node.findAll();
      cache.set(node, all);
    }
    return all;
  };
}

interface Dependency {
  readonly source: IConstruct;
  readonly target: IConstruct;
}

function dependenciesOf(app: App, findAll: (node: Node) => IConstruct[]): Dependency[] {
  return findAll(app.node).flatMap((source) =>
    source.node.dependencies.map((target) => ({ source, target })),
  );
}

/** cdk8s' resolveDependencies: construct dependencies become chart and ApiObject dependencies. */
function resolveDependencies(app: App, findAll: (node: Node) => IConstruct[]): void {
  for (const parentChart of findAll(app.node).filter((x) => x instanceof Chart)) {
    for (const childChart of parentChart.node.children.filter((x) => x instanceof Chart))
      parentChart.node.addDependency(childChart);
  }
  for (const { source, target } of dependenciesOf(app, findAll)) {
    const sourceChart = Chart.of(source);
    const targetChart = Chart.of(target);
    if (sourceChart !== targetChart) sourceChart.node.addDependency(targetChart);
  }
  for (const { source, target } of dependenciesOf(app, findAll)) {
    const sourceChart = Chart.of(source);
    const targetChart = Chart.of(target);
    const targetObjects = findAll(target.node).filter(
      (c) => c instanceof ApiObject && Chart.of(c) === targetChart,
    );
    const sourceObjects = findAll(source.node).filter(
      (c) => c instanceof ApiObject && Chart.of(c) === sourceChart,
    );
    for (const to of targetObjects) {
      for (const from of sourceObjects) if (to !== from) from.node.addDependency(to);
    }
  }
}

/** cdk8s' validate: every construct's validations, all errors in one message. */
function validate(app: App, findAll: (node: Node) => IConstruct[]): void {
  const errors = findAll(app.node).flatMap((child) =>
    child.node.validate().map((error) => `[${child.node.path}] ${error}`),
  );
  if (errors.length > 0)
    throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
}

/** What `chart.toJson()` does to the app before rendering any chart; call once, after the last construct is added. */
export function prepareApp(app: App): void {
  const findAll = findAllCache();
  resolveDependencies(app, findAll);
  validate(app, findAll);
}

/** The chart's own ApiObjects in `chart.toJson()` order (objects of nested charts belong to those). Call prepareApp first. */
export function chartObjects(chart: Chart): ApiObject[] {
  return new DependencyGraph(chart.node)
    .topology()
    .filter((x): x is ApiObject => x instanceof ApiObject && Chart.of(x) === chart);
}
