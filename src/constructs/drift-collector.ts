/**
 * The drift collector: a long-running Deployment that joins running Pods, Trivy
 * VulnerabilityReports, the pipeline's Jobs and the patched-digest store into compliance metrics.
 * With it: its ServiceAccount and least-privilege RBAC, the inventory ConfigMap it reads, its
 * persisted state ConfigMap, and a Service + ServiceMonitor for Prometheus.
 */
import * as kplus from 'cdk8s-plus-33';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { Fleet } from '../model/fleet.ts';
import { basename } from 'node:path';
import {
  COLLECTOR_PORT,
  CONFIGMAPS,
  collectorArgs,
  INVENTORY_CONFIGMAP_KEY,
  PUSHGATEWAY_CREDENTIALS_DIR,
  RUNTIME_BIN,
  silenceWatchMount,
  stateShardNames,
  type CollectorOptions,
} from '../shared/contract.ts';
import { pushgatewayAuth } from '../model/pushgateway-auth.ts';
import { basicAuthVolume } from './basic-auth-volume.ts';
import { collectorInventoryJson } from './collector-inventory.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { metricsNetworkPolicy } from './metrics-network-policy.ts';
import { COLLECTOR_NAME, collectorClusterRoleName, fleetPushgatewayUrl } from './names.ts';
import { durationSeconds } from '../inventory/schema.ts';
import { ClusterWideRole, NamespacedRole, type Rule } from './rbac.ts';
import { containerResources } from './resources.ts';
import { RUNTIME_UID } from './security.ts';
import { singletonDeployment } from './singleton-deployment.ts';
import { ScrapedService } from './scraped-service.ts';
import { DESCRIPTION_ANNOTATION, runtimeStateConfigMap } from './runtime-state-config-map.ts';

const COMPONENT = 'drift-collector';
export const METRICS_PORT_NAME = 'metrics';
const CREDENTIALS_VOLUME = 'pushgateway-credentials';
export const HEALTH_PATHS = { liveness: '/healthz', readiness: '/readyz' } as const;

/** Read-only, cluster-wide: exactly the two kinds the collector watches in every namespace. */
export function collectorClusterRules(): Rule[] {
  return [
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    {
      apiGroups: ['aquasecurity.github.io'],
      resources: ['vulnerabilityreports'],
      verbs: ['list', 'watch'],
    },
  ];
}

/**
 * In the fleet namespace only. ConfigMaps: `list`/`watch` of the namespace's ConfigMaps, because
 * the per-CronJob digest records are found by label and RBAC cannot scope a label selector (it
 * scopes list/watch by resourceNames only with a `metadata.name` field selector, one object each).
 * The fleet namespace holds copa-fleet's own ConfigMaps; Secrets stay out of reach.
 *
 * Writes stay name-scoped. The SLA state lives in STATE_SHARDS shard ConfigMaps with fixed names,
 * read and merge-patched by name (resourceNames), plus the unsharded ConfigMap of earlier versions
 * (read, then emptied by the migration). The shards are created by the collector when they get
 * their first entry: `create` is the one verb Kubernetes cannot scope by name (the authorizer sees
 * no name on a create), so it is granted on ConfigMaps of this namespace, and it cannot read or
 * change an existing object.
 */
export function collectorNamespaceRules(): Rule[] {
  return [
    { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] },
    {
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: [CONFIGMAPS.collectorState, ...stateShardNames(CONFIGMAPS.collectorState)],
      verbs: ['get', 'patch'],
    },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
  ];
}

/**
 * The collector's Pushgateway cleanup: on by default for the generated Pushgateway (ours alone),
 * off by default for one the user runs (it may hold other groups, and its owner decides).
 */
export function pushgatewayCleanupOptions(
  fleet: Fleet,
): Pick<
  CollectorOptions,
  'pushgatewayUrl' | 'pushgatewayCleanupGraceSeconds' | 'pushgatewayCredentialsDir'
> {
  const { pushgateway } = fleet.inventory.defaults;
  if (!cleanupEnabled(fleet)) return {};
  return {
    pushgatewayUrl: fleetPushgatewayUrl(pushgateway, fleet.namespace),
    pushgatewayCleanupGraceSeconds: durationSeconds(pushgateway.cleanup.grace),
    ...(cleanupCredentialsSecret(fleet) !== undefined && {
      pushgatewayCredentialsDir: PUSHGATEWAY_CREDENTIALS_DIR,
    }),
  };
}

/** The collector's Pushgateway credential: only when the cleanup runs and authentication is on. */
function cleanupCredentialsSecret(fleet: Fleet): string | undefined {
  return cleanupEnabled(fleet)
    ? pushgatewayAuth(fleet.inventory.defaults.pushgateway)?.collectorSecret
    : undefined;
}

function cleanupEnabled(fleet: Fleet): boolean {
  const { pushgateway } = fleet.inventory.defaults;
  return pushgateway.cleanup.enabled ?? pushgateway.deploy;
}

/**
 * The silence watch's bearer tokens and CA bundles: one projected volume per Alertmanager that
 * needs either, at silenceWatchMount(index) (the paths the inventory JSON names). Readable by the
 * pod's fsGroup only; the token is re-read before every poll, so a rotated Secret takes effect
 * without a restart (the kubelet refreshes projected Secrets).
 */
function silenceWatchSecrets(fleet: Fleet): { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] } {
  const volumes: k8s.Volume[] = [];
  const mounts: k8s.VolumeMount[] = [];
  fleet.inventory.alerting.silenceWatch.alertmanagers.forEach((am, index) => {
    const mount = silenceWatchMount(index);
    const sources: k8s.VolumeProjection[] = [];
    if (am.bearerToken !== undefined)
      sources.push({
        secret: {
          name: am.bearerToken.name,
          items: [{ key: am.bearerToken.key, path: basename(mount.tokenFile) }],
        },
      });
    if (am.ca !== undefined)
      sources.push({
        secret: { name: am.ca.name, items: [{ key: am.ca.key, path: basename(mount.caFile) }] },
      });
    if (sources.length === 0) return;
    const name = `alertmanager-${index}`;
    volumes.push({ name, projected: { defaultMode: 0o440, sources } });
    mounts.push({ name, mountPath: mount.dir, readOnly: true });
  });
  return { volumes, mounts };
}

export interface DriftCollectorProps {
  readonly fleet: Fleet;
}

export class DriftCollector extends Construct {
  constructor(scope: Construct, id: string, props: DriftCollectorProps) {
    super(scope, id);
    const { fleet } = props;
    const { defaults, prometheus } = fleet.inventory;
    const labels = appLabels(COMPONENT);
    const selector = selectorLabels(COMPONENT);

    new k8s.KubeConfigMap(this, 'Inventory', {
      metadata: {
        name: CONFIGMAPS.inventory,
        labels,
        annotations: {
          [DESCRIPTION_ANNOTATION]:
            'Written by copa-fleet synth: the images and SLA hours the drift collector tracks.',
        },
      },
      data: { [INVENTORY_CONFIGMAP_KEY]: collectorInventoryJson(fleet) },
    });
    runtimeStateConfigMap(this, 'State', {
      name: CONFIGMAPS.collectorState,
      labels,
      description:
        'The unsharded SLA clock of copa-fleet before 0.2: read once and emptied by the drift collector, which keeps first-seen times in ' +
        `the ${CONFIGMAPS.collectorState}-NN shards it creates. Generated (without data) so that a GitOps prune never deletes it before the migration.`,
    });

    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: COLLECTOR_NAME, labels },
      automountToken: false,
    });
    const binding = { labels, serviceAccount: serviceAccount.name, namespace: fleet.namespace };
    new ClusterWideRole(this, 'ClusterRbac', {
      ...binding,
      name: collectorClusterRoleName(fleet.namespace),
      rules: collectorClusterRules(),
    });
    new NamespacedRole(this, 'Rbac', {
      ...binding,
      name: COLLECTOR_NAME,
      rules: collectorNamespaceRules(),
    });

    const secrets = silenceWatchSecrets(fleet);
    const metricsPort = k8s.IntOrString.fromString(METRICS_PORT_NAME);
    const credentialsSecret = cleanupCredentialsSecret(fleet);
    const mounts: k8s.VolumeMount[] = [...secrets.mounts];
    const volumes: k8s.Volume[] = [...secrets.volumes];
    if (credentialsSecret !== undefined) {
      mounts.push({
        name: CREDENTIALS_VOLUME,
        mountPath: PUSHGATEWAY_CREDENTIALS_DIR,
        readOnly: true,
      });
      volumes.push(basicAuthVolume(CREDENTIALS_VOLUME, credentialsSecret));
    }
    // The collector is an API client: its token is mounted into its (only) container.
    singletonDeployment(this, 'Deployment', {
      name: COLLECTOR_NAME,
      labels,
      selector,
      uid: RUNTIME_UID,
      serviceAccountName: serviceAccount.name,
      container: {
        name: 'collector',
        image: defaults.runtimeImage,
        imagePullPolicy: 'IfNotPresent',
        command: [RUNTIME_BIN.collector],
        args: collectorArgs({
          namespace: fleet.namespace,
          inventoryConfigMap: CONFIGMAPS.inventory,
          digestStore: CONFIGMAPS.patchedDigests,
          stateConfigMap: CONFIGMAPS.collectorState,
          port: COLLECTOR_PORT,
          ...pushgatewayCleanupOptions(fleet),
        }),
        ports: [{ name: METRICS_PORT_NAME, containerPort: COLLECTOR_PORT, protocol: 'TCP' }],
        livenessProbe: {
          httpGet: { path: HEALTH_PATHS.liveness, port: metricsPort },
          periodSeconds: 20,
          timeoutSeconds: 5,
          failureThreshold: 3,
        },
        // Ready once every informer has synced: Prometheus should not scrape half a picture.
        readinessProbe: {
          httpGet: { path: HEALTH_PATHS.readiness, port: metricsPort },
          periodSeconds: 10,
          timeoutSeconds: 5,
          failureThreshold: 3,
        },
        resources: containerResources(defaults.resources.collector),
        ...(mounts.length > 0 && { volumeMounts: mounts }),
      },
      volumes,
    });

    new ScrapedService(this, 'Metrics', {
      name: COLLECTOR_NAME,
      namespace: fleet.namespace,
      labels,
      selector,
      serviceMonitorLabels: prometheus.serviceMonitorLabels,
      portName: METRICS_PORT_NAME,
      port: COLLECTOR_PORT,
    });
    metricsNetworkPolicy(this, 'NetworkPolicy', {
      name: COLLECTOR_NAME,
      labels,
      selector,
      port: COLLECTOR_PORT,
      fleet,
    });
  }
}
