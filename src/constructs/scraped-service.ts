/**
 * A Service in front of one metrics port and the ServiceMonitor that scrapes it with
 * `honorLabels`: both of our scrape targets (the Pushgateway and the drift collector) export series
 * whose `job`, `namespace`, `pod` and `container` labels describe *other* workloads, which
 * Prometheus would otherwise rename to `exported_*` and overwrite with the target's own.
 */
import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-33';
import { BASIC_AUTH_KEYS } from '../shared/contract.ts';
import { ServiceMonitor } from './service-monitor.ts';

export interface ScrapedServiceProps {
  /** Service and ServiceMonitor name: also the Prometheus `job` label of the target. */
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Pod selector of the Service; the ServiceMonitor selects the Service by the same labels. */
  readonly selector: Readonly<Record<string, string>>;
  /** Labels the Prometheus serviceMonitorSelector matches. */
  readonly serviceMonitorLabels: Readonly<Record<string, string>>;
  readonly portName: string;
  readonly port: number;
  /**
   * kubernetes.io/basic-auth Secret (in the fleet namespace) Prometheus scrapes with.
   * @default - no authentication
   */
  readonly basicAuthSecret?: string;
}

export class ScrapedService extends Construct {
  constructor(scope: Construct, id: string, props: ScrapedServiceProps) {
    super(scope, id);
    const service = new kplus.Service(this, 'Service', {
      metadata: { name: props.name, labels: { ...props.labels } },
      ports: [{ name: props.portName, port: props.port, targetPort: props.port }],
    });
    for (const [key, value] of Object.entries(props.selector)) service.selectLabel(key, value);

    new ServiceMonitor(this, 'ServiceMonitor', {
      name: props.name,
      labels: { ...props.labels, ...props.serviceMonitorLabels },
      spec: {
        selector: { matchLabels: { ...props.selector } },
        namespaceSelector: { matchNames: [props.namespace] },
        endpoints: [
          {
            port: props.portName,
            path: '/metrics',
            honorLabels: true,
            // ServiceMonitor CRD: basicAuth.{username,password} are SecretKeySelectors, read by the operator.
            ...(props.basicAuthSecret !== undefined && {
              basicAuth: {
                username: { name: props.basicAuthSecret, key: BASIC_AUTH_KEYS.username },
                password: { name: props.basicAuthSecret, key: BASIC_AUTH_KEYS.password },
              },
            }),
          },
        ],
      },
    });
  }
}
