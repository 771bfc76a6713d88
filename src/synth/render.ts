/**
 * Fleet -> every output file: the cdk8s charts (one `<chart>.k8s.yaml` each, the generator's and
 * the observability ones), the trivy-operator values and the observability plain files. Pure and
 * deterministic: the same fleet gives the same files, byte for byte, sorted by path.
 *
 * `fleetFiles` builds the construct tree and validates it, but renders each chart only while its
 * file is being written, object by object (src/outputs/write-dist.ts): for 5,000 images the
 * rendered JSON and YAML (~90 MB and ~75 MB) never accumulate. `renderFleet` collects the same
 * files as strings (tests, benchmarks).
 */
import { App, Chart } from 'cdk8s';
import { addFleetCharts, CHARTS } from '../charts/fleet-charts.ts';
import { FleetNamespace } from '../constructs/fleet-namespace.ts';
import { GLOBAL_DIRECTORY } from '../inventory/schema.ts';
import type { FleetCluster, FleetClusters } from '../model/clusters.ts';
import type { Fleet } from '../model/fleet.ts';
import { addObservability } from '../observability/index.ts';
import {
  contentOf,
  type FileToWrite,
  type OutputFile,
  type StreamedFile,
} from '../outputs/output-file.ts';
import { trivyOperatorValuesFile } from '../outputs/trivy-operator-values.ts';
import { chartObjects, prepareApp } from './chart-objects.ts';
import { MANIFEST_EXTENSION, manifestChunks } from './manifests.ts';

/**
 * Every output file, sorted by path; chart manifests render when their chunks are iterated. Throws cdk8s validation errors here, before anything is written.
 *
 * A multi-cluster fleet (inventory `clusters`) gets one directory per cluster with what that
 * cluster applies (the one-path-per-cluster layout of Argo CD ApplicationSets and Flux
 * Kustomizations) and `global/` with the rules, routes and dashboard for the global query layer.
 */
export function fleetFiles(fleet: Fleet): FileToWrite[] {
  const files =
    fleet.clusters === undefined
      ? singleClusterFiles(fleet)
      : multiClusterFiles(fleet, fleet.clusters);
  checkPaths(files);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function singleClusterFiles(fleet: Fleet): FileToWrite[] {
  const { app, plainFiles } = fleetApp(fleet);
  return [...appManifests(app), trivyOperatorValuesFile(fleet), ...plainFiles];
}

function multiClusterFiles(fleet: Fleet, clusters: FleetClusters): FileToWrite[] {
  const files: FileToWrite[] = [];
  for (const cluster of clusters.all) {
    const app = new App();
    const view = clusterFleet(fleet, cluster);
    addFleetCharts(app, view, { patchPipeline: cluster.patch });
    prepareApp(app);
    files.push(...inDirectory(cluster.name, [...appManifests(app), trivyOperatorValuesFile(view)]));
  }
  const global = new App();
  new FleetNamespace(
    new Chart(global, CHARTS.namespace, {
      namespace: fleet.namespace,
      disableResourceNameHashes: true,
    }),
    'Namespace',
    { fleet, runsCopaJobs: false },
  );
  const plainFiles = addObservability(global, fleet);
  prepareApp(global);
  files.push(...inDirectory(GLOBAL_DIRECTORY, [...appManifests(global), ...plainFiles]));
  return files;
}

/**
 * The fleet as one cluster sees it: its namespace, its Prometheus' ServiceMonitor labels, and the Pushgateway
 * cleanup and the silence watch only in the patch cluster (a workload cluster's collector has no
 * Pushgateway to clean, and one watcher of the Alertmanagers is enough).
 */
function clusterFleet(fleet: Fleet, cluster: FleetCluster): Fleet {
  const { inventory } = fleet;
  const pushgateway = cluster.patch
    ? inventory.defaults.pushgateway
    : {
        ...inventory.defaults.pushgateway,
        cleanup: { ...inventory.defaults.pushgateway.cleanup, enabled: false },
      };
  return {
    ...fleet,
    namespace: cluster.namespace,
    inventory: {
      ...inventory,
      defaults: { ...inventory.defaults, namespace: cluster.namespace, pushgateway },
      // One cluster watches the silences (the patch cluster's collector): every collector polling
      // the same Alertmanagers would report each silence once per cluster.
      alerting: cluster.patch
        ? inventory.alerting
        : {
            ...inventory.alerting,
            silenceWatch: { ...inventory.alerting.silenceWatch, alertmanagers: [] },
          },
      prometheus: { ...inventory.prometheus, serviceMonitorLabels: cluster.serviceMonitorLabels },
    },
  };
}

function inDirectory(directory: string, files: readonly FileToWrite[]): FileToWrite[] {
  return files.map((file) => ({ ...file, path: `${directory}/${file.path}` }));
}

/** The manifests of a prepared app. */
function appManifests(app: App): StreamedFile[] {
  return app.charts.map((chart): StreamedFile => ({
    path: `${chart.node.id}${MANIFEST_EXTENSION}`,
    chunks: chartChunks(chart),
  }));
}

/** The construct tree of every chart of a single-cluster fleet, validated, and the plain files beside it. */
function fleetApp(fleet: Fleet): { app: App; plainFiles: FileToWrite[] } {
  const app = new App();
  addFleetCharts(app, fleet);
  const plainFiles = addObservability(app, fleet);
  prepareApp(app);
  return { app, plainFiles };
}

/** What each chart manifest is meant to contain: its path and its objects' JSON, in file order (tests read YAML back against it). */
export function manifestObjects(
  fleet: Fleet,
): { readonly path: string; readonly objects: unknown[] }[] {
  return fleetApp(fleet).app.charts.map((chart) => ({
    path: `${chart.node.id}${MANIFEST_EXTENSION}`,
    objects: [...renderEach(chart)],
  }));
}

/** Every output file with its content, in memory. */
export function renderFleet(fleet: Fleet): OutputFile[] {
  return fleetFiles(fleet).map((file) => ({ path: file.path, content: contentOf(file) }));
}

function chartChunks(chart: Chart): Iterable<string> {
  return { [Symbol.iterator]: () => manifestChunks(renderEach(chart)) };
}

/** Each object's JSON in turn, rendered only when asked for: nothing keeps the previous one alive. */
function* renderEach(chart: Chart): Generator<unknown, void, undefined> {
  for (const object of chartObjects(chart)) yield object.toJson();
}

const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Every path relative, `/`-separated, without `..`, and unique: nothing can escape the output dir. */
export function checkPaths(files: readonly { readonly path: string }[]): void {
  const seen = new Set<string>();
  for (const { path } of files) {
    if (!path.split('/').every((segment) => SAFE_SEGMENT.test(segment)))
      throw new Error(`output path "${path}" is not a safe relative path`);
    if (seen.has(path)) throw new Error(`two outputs want to write "${path}"`);
    seen.add(path);
  }
  for (const path of seen) {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i += 1) {
      const directory = segments.slice(0, i).join('/');
      if (seen.has(directory))
        throw new Error(`output "${directory}" is both a file and the directory of "${path}"`);
    }
  }
}
