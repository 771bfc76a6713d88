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
import { App, type Chart } from 'cdk8s';
import { addFleetCharts } from '../charts/fleet-charts.ts';
import type { Fleet } from '../model/fleet.ts';
import { addObservability } from '../observability/index.ts';
import { contentOf, type FileToWrite, type OutputFile, type StreamedFile } from '../outputs/output-file.ts';
import { trivyOperatorValuesFile } from '../outputs/trivy-operator-values.ts';
import { chartObjects, prepareApp } from './chart-objects.ts';
import { MANIFEST_EXTENSION, manifestChunks } from './manifests.ts';

/** Every output file, sorted by path; chart manifests render when their chunks are iterated. Throws cdk8s validation errors here, before anything is written. */
export function fleetFiles(fleet: Fleet): FileToWrite[] {
  const { app, plainFiles } = fleetApp(fleet);
  const manifests = app.charts.map((chart): StreamedFile => ({ path: `${chart.node.id}${MANIFEST_EXTENSION}`, chunks: chartChunks(chart) }));
  const files: FileToWrite[] = [...manifests, trivyOperatorValuesFile(fleet), ...plainFiles];
  checkPaths(files);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The construct tree of every chart, validated, and the plain files beside it. */
function fleetApp(fleet: Fleet): { app: App; plainFiles: FileToWrite[] } {
  const app = new App();
  addFleetCharts(app, fleet);
  const plainFiles = addObservability(app, fleet);
  prepareApp(app);
  return { app, plainFiles };
}

/** What each chart manifest is meant to contain: its path and its objects' JSON, in file order (tests read YAML back against it). */
export function manifestObjects(fleet: Fleet): { readonly path: string; readonly objects: unknown[] }[] {
  return fleetApp(fleet).app.charts.map((chart) => ({ path: `${chart.node.id}${MANIFEST_EXTENSION}`, objects: [...renderEach(chart)] }));
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
    if (!path.split('/').every((segment) => SAFE_SEGMENT.test(segment))) throw new Error(`output path "${path}" is not a safe relative path`);
    if (seen.has(path)) throw new Error(`two outputs want to write "${path}"`);
    seen.add(path);
  }
  for (const path of seen) {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i += 1) {
      const directory = segments.slice(0, i).join('/');
      if (seen.has(directory)) throw new Error(`output "${directory}" is both a file and the directory of "${path}"`);
    }
  }
}
