/**
 * Fleet -> every output file, in memory: the cdk8s charts (one `<chart>.k8s.yaml` each, the
 * generator's and the observability ones), the trivy-operator values and the observability plain
 * files. Pure and deterministic: the same fleet gives the same files, byte for byte, sorted by path.
 */
import { App } from 'cdk8s';
import { addFleetCharts } from '../charts/fleet-charts.ts';
import type { Fleet } from '../model/fleet.ts';
import { addObservability } from '../observability/index.ts';
import type { OutputFile } from '../outputs/output-file.ts';
import { trivyOperatorValuesFile } from '../outputs/trivy-operator-values.ts';
import { MANIFEST_EXTENSION, manifestsYaml } from './manifests.ts';

export function renderFleet(fleet: Fleet): OutputFile[] {
  const app = new App();
  addFleetCharts(app, fleet);
  const plainFiles = addObservability(app, fleet);
  const manifests = app.charts.map((chart): OutputFile => ({ path: `${chart.node.id}${MANIFEST_EXTENSION}`, content: manifestsYaml(chart.toJson()) }));
  const files = [...manifests, trivyOperatorValuesFile(fleet), ...plainFiles];
  checkPaths(files);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Every path relative, `/`-separated, without `..`, and unique: nothing can escape the output dir. */
export function checkPaths(files: readonly OutputFile[]): void {
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
