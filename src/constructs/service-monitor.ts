/**
 * A prometheus-operator ServiceMonitor. cdk8s-plus has no monitoring.coreos.com kinds: a plain
 * ApiObject whose spec is typed by @kubernetes-models/prometheus-operator (a type-only import,
 * so the model library is not needed at runtime).
 */
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

export type ServiceMonitorSpec = IServiceMonitor['spec'];

export interface ServiceMonitorProps {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: ServiceMonitorSpec;
}

export class ServiceMonitor extends ApiObject {
  static readonly API_VERSION = 'monitoring.coreos.com/v1';
  static readonly KIND = 'ServiceMonitor';

  constructor(scope: Construct, id: string, props: ServiceMonitorProps) {
    super(scope, id, {
      apiVersion: ServiceMonitor.API_VERSION,
      kind: ServiceMonitor.KIND,
      metadata: { name: props.name, labels: { ...props.labels } },
      spec: props.spec,
    });
  }
}
