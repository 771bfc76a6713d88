/**
 * The observability chart (dist/observability.k8s.yaml, or dist/global/ of a multi-cluster fleet):
 * the PrometheusRule, the AlertmanagerConfig and the dashboard ConfigMap, in the fleet namespace. prometheus-operator kinds
 * are ApiObjects whose specs are typed by @kubernetes-models/prometheus-operator (type-only imports).
 */
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IAlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { appLabels } from '../constructs/labels.ts';
import type { Fleet } from '../model/fleet.ts';
import { ALERTMANAGER_CONFIG_NAME } from './alertmanager.ts';
import type { Observability } from './assemble.ts';
import { DASHBOARD_FILE, dashboardJson, GRAFANA_FOLDER_ANNOTATION } from './dashboard.ts';

export const OBSERVABILITY_CHART_ID = 'observability';
export const PROMETHEUS_RULE_NAME = 'copa-fleet';
export const DASHBOARD_CONFIGMAP_NAME = 'copa-fleet-dashboard';

export class ObservabilityChart extends Chart {
  constructor(scope: Construct, fleet: Fleet, observability: Observability) {
    super(scope, OBSERVABILITY_CHART_ID, {
      namespace: fleet.namespace,
      disableResourceNameHashes: true,
    });
    const { inventory } = fleet;
    const labels = appLabels('monitoring');
    // In a multi-cluster fleet this chart is dist/global/'s: the global layer's Prometheus and
    // Grafana may select by other labels than the clusters' (inventory `global`).
    const globalLayer = fleet.clusters === undefined ? undefined : inventory.global;
    const ruleLabels = globalLayer?.prometheus.ruleLabels ?? inventory.prometheus.ruleLabels;
    const dashboardLabels =
      globalLayer?.grafana.dashboardLabels ?? inventory.grafana.dashboardLabels;
    const folder = globalLayer?.grafana.folder ?? inventory.grafana.folder;

    const rule: IPrometheusRule = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: PROMETHEUS_RULE_NAME,
        labels: { ...labels, ...ruleLabels },
      },
      spec: { groups: [...observability.groups] },
    };
    new ApiObject(this, 'prometheus-rule', rule);

    if (observability.alertmanagerConfig !== undefined) {
      const config: IAlertmanagerConfig = {
        apiVersion: 'monitoring.coreos.com/v1alpha1',
        kind: 'AlertmanagerConfig',
        metadata: { name: ALERTMANAGER_CONFIG_NAME, labels },
        spec: observability.alertmanagerConfig,
      };
      new ApiObject(this, 'alertmanager-config', config);
    }

    new ApiObject(this, 'dashboard', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: DASHBOARD_CONFIGMAP_NAME,
        labels: { ...labels, ...dashboardLabels },
        ...(folder !== undefined && { annotations: { [GRAFANA_FOLDER_ANNOTATION]: folder } }),
      },
      data: { [DASHBOARD_FILE]: dashboardJson(observability.dashboard) },
    });
  }
}
