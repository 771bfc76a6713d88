/**
 * The Pushgateway the exporters push each run's metrics to (when `defaults.pushgateway.deploy`).
 * One replica and Recreate: the Pushgateway is a cache, two replicas would each hold half the
 * groups, and the ReadWriteOnce claim below can only be mounted by one pod at a time.
 * Persistent: the Pushgateway keeps its groups only in memory unless `--persistence.file` is set
 * (written every `--persistence.interval` and on a graceful shutdown, read at start), so the file
 * lives on a PersistentVolumeClaim and a restart keeps every counter, last-success time and heartbeat.
 * The ServiceMonitor sets honorLabels so the pushed `job`/`cronjob`/`image` labels survive the scrape.
 */
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { Fleet } from '../model/fleet.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { PUSHGATEWAY_NAME, PUSHGATEWAY_PORT } from './names.ts';
import { containerResources } from './resources.ts';
import { PUSHGATEWAY_UID } from './security.ts';
import { singletonDeployment } from './singleton-deployment.ts';
import { ScrapedService } from './scraped-service.ts';
import { metricsNetworkPolicy } from './metrics-network-policy.ts';

const COMPONENT = 'pushgateway';
export const PUSHGATEWAY_PORT_NAME = 'http';
/** Where the claim is mounted; the Pushgateway writes a temporary file next to the store and renames it. */
export const PUSHGATEWAY_DATA_DIR = '/data';
export const PUSHGATEWAY_PERSISTENCE_FILE = `${PUSHGATEWAY_DATA_DIR}/pushgateway.store`;
const DATA_VOLUME = 'data';

export interface PushgatewayProps {
  readonly fleet: Fleet;
}

export class Pushgateway extends Construct {
  constructor(scope: Construct, id: string, props: PushgatewayProps) {
    super(scope, id);
    const { fleet } = props;
    const { defaults, prometheus } = fleet.inventory;
    const labels = appLabels(COMPONENT);
    const selector = selectorLabels(COMPONENT);
    const port = k8s.IntOrString.fromString(PUSHGATEWAY_PORT_NAME);

    const { persistence } = defaults.pushgateway;
    const claim = new k8s.KubePersistentVolumeClaim(this, 'Data', {
      metadata: { name: PUSHGATEWAY_NAME, labels: { ...labels } },
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(persistence.storageClassName !== undefined && { storageClassName: persistence.storageClassName }),
        resources: { requests: { storage: k8s.Quantity.fromString(persistence.size) } },
      },
    });

    // The Pushgateway never calls the Kubernetes API: no ServiceAccount token at all.
    singletonDeployment(this, 'Deployment', {
      name: PUSHGATEWAY_NAME,
      labels,
      selector,
      uid: PUSHGATEWAY_UID,
      container: {
        name: 'pushgateway',
        image: defaults.pushgateway.image,
        imagePullPolicy: 'IfNotPresent',
        args: [`--web.listen-address=:${PUSHGATEWAY_PORT}`, `--persistence.file=${PUSHGATEWAY_PERSISTENCE_FILE}`, `--persistence.interval=${persistence.interval}`],
        volumeMounts: [{ name: DATA_VOLUME, mountPath: PUSHGATEWAY_DATA_DIR }],
        ports: [{ name: PUSHGATEWAY_PORT_NAME, containerPort: PUSHGATEWAY_PORT, protocol: 'TCP' }],
        livenessProbe: { httpGet: { path: '/-/healthy', port }, periodSeconds: 20, timeoutSeconds: 5 },
        readinessProbe: { httpGet: { path: '/-/ready', port }, periodSeconds: 10, timeoutSeconds: 5 },
        resources: containerResources(defaults.resources.pushgateway),
      },
      volumes: [{ name: DATA_VOLUME, persistentVolumeClaim: { claimName: claim.name } }],
    });

    new ScrapedService(this, 'Metrics', {
      name: PUSHGATEWAY_NAME,
      namespace: fleet.namespace,
      labels,
      selector,
      serviceMonitorLabels: prometheus.serviceMonitorLabels,
      portName: PUSHGATEWAY_PORT_NAME,
      port: PUSHGATEWAY_PORT,
    });

    // Pushes come only from the Copa job pods (their exporter sidecar); the drift collector deletes
    // the groups of removed images. Anything else could push a fake success for a failing image.
    metricsNetworkPolicy(this, 'NetworkPolicy', {
      name: PUSHGATEWAY_NAME,
      labels,
      selector,
      port: PUSHGATEWAY_PORT,
      writers: [{ podLabels: selectorLabels('patch-job') }, { podLabels: selectorLabels('drift-collector') }],
      fleet,
    });
  }
}
