/**
 * copa-fleet-collector: the drift collector (a Deployment). Command line: see
 * parseCollectorArgs in src/shared/contract.ts; tuning: config.ts; behaviour: README.md.
 *
 *   copa-fleet-collector --namespace copa-fleet [--inventory-configmap NAME] [--digest-store NAME]
 *                        [--state-configmap NAME] [--port 9464]
 *                        [--pushgateway-url URL --pushgateway-cleanup-grace-seconds N]
 */
import { KubeConfig } from '@kubernetes/client-node';
import { parseCollectorArgs } from '../../src/shared/contract.ts';
import { Collector } from './collector.ts';
import { tuningFromEnv } from './config.ts';
import { describeError, jsonLogger } from './log.ts';
import { WallClock } from './wall-clock.ts';

const USAGE =
  'usage: copa-fleet-collector --namespace NS [--inventory-configmap NAME] [--digest-store NAME] [--state-configmap NAME] [--port PORT] [--pushgateway-url URL --pushgateway-cleanup-grace-seconds N]';

async function main(argv: readonly string[]): Promise<number> {
  let collector: Collector;
  const log = jsonLogger();
  try {
    const options = parseCollectorArgs(argv);
    const tuning = tuningFromEnv(process.env);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    if (kubeConfig.getCurrentCluster() === null)
      throw new Error(
        'no Kubernetes cluster configured (in-cluster service account, KUBECONFIG or ~/.kube/config)',
      );
    collector = new Collector({
      kubeConfig,
      options,
      tuning,
      log,
      wallClock: WallClock.fromEnv(process.env),
    });
    const port = await collector.start();
    log.info('started', {
      port,
      namespace: options.namespace,
      inventoryConfigMap: options.inventoryConfigMap,
      digestStore: options.digestStore,
      stateConfigMap: options.stateConfigMap,
    });
  } catch (error) {
    process.stderr.write(`copa-fleet-collector: ${describeError(error)}\n${USAGE}\n`);
    return 2;
  }

  process.on('unhandledRejection', (reason) =>
    log.error('unhandled rejection', { error: describeError(reason) }),
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('signal received', { signal });
  await collector.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`copa-fleet-collector: ${describeError(error)}\n`);
    process.exit(1);
  },
);
