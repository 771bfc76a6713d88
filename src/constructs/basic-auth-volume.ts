/**
 * A kubernetes.io/basic-auth Secret as a volume: the files `username` and `password` in the
 * directory the runtime reads a Pushgateway credential from (contract.ts PUSHGATEWAY_CREDENTIALS_DIR).
 * Only these two keys, readable by owner and fsGroup: the pods run as a non-root UID with an fsGroup.
 */
import type { k8s } from 'cdk8s-plus-33';
import { BASIC_AUTH_KEYS } from '../shared/contract.ts';

export function basicAuthVolume(name: string, secretName: string): k8s.Volume {
  return {
    name,
    secret: {
      secretName,
      defaultMode: 0o440,
      items: Object.values(BASIC_AUTH_KEYS).map((key) => ({ key, path: key })),
    },
  };
}
