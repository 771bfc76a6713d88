/**
 * copa-fleet-exporter: the in-pod program of every Copa CronJob (see runtime/README.md).
 *   report --image … --cronjob … (flags: src/shared/contract.ts)   the native sidecar
 *   exec --log FILE --exit-code FILE -- copa patch …                wraps Copa in the patch step
 * Errors a user can cause (bad flags, missing env) are one-line messages and exit code 2.
 */
import {
  EXPORTER_ENV,
  WORK_DIR,
  parseExporterExecArgs,
  parseExporterReportArgs,
} from '../../src/shared/contract.ts';
import { runExec } from './exec.ts';
import { kubeClient } from './kube.ts';
import { errorMessage, log } from './log.ts';
import { runReport } from './report.ts';

const USAGE =
  'usage: copa-fleet-exporter report --image … | copa-fleet-exporter exec --log FILE --exit-code FILE -- COMMAND…';
const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === 'exec') {
    let options;
    try {
      options = parseExporterExecArgs(rest);
    } catch (error) {
      process.stderr.write(`copa-fleet-exporter exec: ${errorMessage(error)}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    return runExec(options);
  }
  if (subcommand === 'report') {
    // Registered first: SIGTERM may arrive at any time and must never kill the reporter.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    let options;
    try {
      options = parseExporterReportArgs(rest);
    } catch (error) {
      log('error', { event: 'bad_arguments', error: errorMessage(error), usage: USAGE });
      return EXIT_USAGE;
    }
    const podName = process.env[EXPORTER_ENV.podName];
    const podNamespace = process.env[EXPORTER_ENV.podNamespace];
    if (!podName || !podNamespace) {
      log('error', {
        event: 'bad_environment',
        error: `${EXPORTER_ENV.podName} and ${EXPORTER_ENV.podNamespace} must be set (downward API)`,
      });
      return EXIT_USAGE;
    }
    let kube;
    try {
      kube = kubeClient();
    } catch (error) {
      log('error', { event: 'no_kubernetes_config', error: errorMessage(error) });
      return EXIT_USAGE;
    }
    return runReport({
      options,
      podName,
      podNamespace,
      workDir: process.env[EXPORTER_ENV.workDir] || WORK_DIR,
      dependencyTrackApiKey: process.env[EXPORTER_ENV.dependencyTrackApiKey],
      kube,
      stopped,
    });
  }
  process.stderr.write(`${USAGE}\n`);
  return EXIT_USAGE;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log('error', { event: 'fatal', error: errorMessage(error) });
    process.exit(1);
  },
);
