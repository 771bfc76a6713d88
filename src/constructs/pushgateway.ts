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
import { pushgatewayAuth } from '../model/pushgateway-auth.ts';

const COMPONENT = 'pushgateway';
export const PUSHGATEWAY_PORT_NAME = 'http';
/** Where the claim is mounted; the Pushgateway writes a temporary file next to the store and renames it. */
export const PUSHGATEWAY_DATA_DIR = '/data';
export const PUSHGATEWAY_PERSISTENCE_FILE = `${PUSHGATEWAY_DATA_DIR}/pushgateway.store`;
const DATA_VOLUME = 'data';
const WEB_CONFIG_VOLUME = 'web-config';
/** The web config Secret is mounted here whole, so TLS files in it resolve next to the config (exporter-toolkit reads relative paths from the config's directory). */
export const PUSHGATEWAY_WEB_CONFIG_DIR = '/etc/pushgateway/web';
/** The key of the user's web config Secret (docs/deploying.md#pushgateway-authentication). */
export const PUSHGATEWAY_WEB_CONFIG_KEY = 'web-config.yml';

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
    const auth = pushgatewayAuth(defaults.pushgateway);

    const { persistence } = defaults.pushgateway;
    const claim = new k8s.KubePersistentVolumeClaim(this, 'Data', {
      metadata: { name: PUSHGATEWAY_NAME, labels: { ...labels } },
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(persistence.storageClassName !== undefined && {
          storageClassName: persistence.storageClassName,
        }),
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
        args: [
          `--web.listen-address=:${PUSHGATEWAY_PORT}`,
          `--persistence.file=${PUSHGATEWAY_PERSISTENCE_FILE}`,
          `--persistence.interval=${persistence.interval}`,
          ...(auth !== undefined
            ? [`--web.config.file=${PUSHGATEWAY_WEB_CONFIG_DIR}/${PUSHGATEWAY_WEB_CONFIG_KEY}`]
            : []),
        ],
        volumeMounts: [
          { name: DATA_VOLUME, mountPath: PUSHGATEWAY_DATA_DIR },
          ...(auth !== undefined
            ? [{ name: WEB_CONFIG_VOLUME, mountPath: PUSHGATEWAY_WEB_CONFIG_DIR, readOnly: true }]
            : []),
        ],
        ports: [{ name: PUSHGATEWAY_PORT_NAME, containerPort: PUSHGATEWAY_PORT, protocol: 'TCP' }],
        ...probes(port, auth !== undefined),
        resources: containerResources(defaults.resources.pushgateway),
      },
      volumes: [
        { name: DATA_VOLUME, persistentVolumeClaim: { claimName: claim.name } },
        ...(auth !== undefined
          ? [
              {
                name: WEB_CONFIG_VOLUME,
                secret: { secretName: auth.webConfigSecret, defaultMode: 0o440 },
              },
            ]
          : []),
      ],
    });

    new ScrapedService(this, 'Metrics', {
      name: PUSHGATEWAY_NAME,
      namespace: fleet.namespace,
      labels,
      selector,
      serviceMonitorLabels: prometheus.serviceMonitorLabels,
      portName: PUSHGATEWAY_PORT_NAME,
      port: PUSHGATEWAY_PORT,
      ...(auth !== undefined && { basicAuthSecret: auth.prometheusSecret }),
    });

    // Pushes come only from the Copa job pods (their exporter sidecar); the drift collector deletes
    // the groups of removed images. Anything else could push a fake success for a failing image.
    metricsNetworkPolicy(this, 'NetworkPolicy', {
      name: PUSHGATEWAY_NAME,
      labels,
      selector,
      port: PUSHGATEWAY_PORT,
      writers: [
        { podLabels: selectorLabels('patch-job') },
        { podLabels: selectorLabels('drift-collector') },
      ],
      fleet,
    });
  }
}

/**
 * With `--web.config.file` the exporter-toolkit checks the credential on every path, `/-/healthy`
 * and `/-/ready` included (it has no exemption: prometheus/exporter-toolkit#111 is open, #106 and
 * #151 were never merged), and an httpGet probe's header would put a credential into dist/. So the
 * kubelet probes the TCP port then (an open listener, not an HTTP answer: a wedged handler goes
 * unnoticed by the kubelet, but not by Prometheus, whose scrape of this target then fails).
 */
function probes(
  port: k8s.IntOrString,
  authenticated: boolean,
): Pick<k8s.Container, 'livenessProbe' | 'readinessProbe'> {
  if (authenticated) {
    return {
      livenessProbe: { tcpSocket: { port }, periodSeconds: 20, timeoutSeconds: 5 },
      readinessProbe: { tcpSocket: { port }, periodSeconds: 10, timeoutSeconds: 5 },
    };
  }
  return {
    livenessProbe: { httpGet: { path: '/-/healthy', port }, periodSeconds: 20, timeoutSeconds: 5 },
    readinessProbe: { httpGet: { path: '/-/ready', port }, periodSeconds: 10, timeoutSeconds: 5 },
  };
}
