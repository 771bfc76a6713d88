/**
 * A real Prometheus over backfilled history: the OpenMetrics file becomes TSDB blocks through
 * `promtool tsdb create-blocks-from openmetrics` in the data directory, then Prometheus starts on
 * it (no scrape targets: the history is all it holds). Retention is long, so that blocks from
 * the past are not deleted at start-up.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RunningProcess, BINARIES, startProcess } from '../../support/processes.ts';
import { writeFile } from 'node:fs/promises';

export const PROMTOOL = '/usr/bin/promtool';
export const RETENTION = '3650d';

export function startBackfilledPrometheus(
  openMetricsFile: string,
  extraArgs: readonly string[] = [],
): Promise<RunningProcess> {
  return startProcess({
    name: 'prometheus-backfilled',
    command: BINARIES.prometheus,
    prepare: async (dir) => {
      await writeFile(join(dir, 'prometheus.yml'), 'global: {}\n');
      // One block for the whole history (the default 2 h blocks would make hundreds).
      await promisify(execFile)(
        PROMTOOL,
        [
          'tsdb',
          'create-blocks-from',
          'openmetrics',
          '--max-block-duration=8760h',
          '-q',
          openMetricsFile,
          join(dir, 'data'),
        ],
        { maxBuffer: 64 << 20 },
      );
    },
    args: ({ port, dir }) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--storage.tsdb.retention.time=${RETENTION}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...extraArgs,
    ],
    readyPath: '/-/ready',
    readyTimeoutMs: 300_000,
  });
}
