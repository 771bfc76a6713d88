/**
 * Who may talk to the Pushgateway, resolved once from the inventory: the Secret names of each
 * client's credential and of the generated Pushgateway's web config. Undefined when
 * authentication is off. Only names travel into dist/; the passwords and their bcrypt hashes stay
 * in the Secrets the user creates (docs/deploying.md#pushgateway-authentication).
 */
import type { Inventory } from '../inventory/schema.ts';

export interface PushgatewayAuth {
  /** The generated Pushgateway's `--web.config.file` Secret (key PUSHGATEWAY_WEB_CONFIG_KEY); unused with your own Pushgateway. */
  readonly webConfigSecret: string;
  /** kubernetes.io/basic-auth Secrets (`username`, `password`), one per client. */
  readonly exporterSecret: string;
  readonly collectorSecret: string;
  readonly prometheusSecret: string;
}

/** On by default for the generated Pushgateway only: a Pushgateway you run yourself checks credentials only if you made it. */
export function pushgatewayAuth(
  pushgateway: Inventory['defaults']['pushgateway'],
): PushgatewayAuth | undefined {
  const { auth } = pushgateway;
  if (!(auth.enabled ?? pushgateway.deploy)) return undefined;
  return {
    webConfigSecret: auth.webConfigSecret,
    exporterSecret: auth.exporterSecret,
    collectorSecret: auth.collectorSecret,
    prometheusSecret: auth.prometheusSecret,
  };
}
