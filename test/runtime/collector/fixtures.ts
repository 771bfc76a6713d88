/**
 * Builders of Kubernetes objects as the collector sees them (Pods, VulnerabilityReports as
 * trivy-operator writes them, Jobs, CronJobs, the inventory and patched-digest ConfigMaps).
 * Used by the collector tests and by the benchmarks in bench/.
 */
import { createHash } from 'node:crypto';
import {
  CONFIGMAPS,
  CRONJOB_LABEL,
  DIGEST_RECORD_LABEL,
  digestRecordName,
  INVENTORY_CONFIGMAP_KEY,
  JOB_CONTAINERS,
  PIPELINE_LABEL,
  type CollectorInventory,
  type CollectorInventoryImage,
  type PatchedDigestRecord,
} from '../../../src/shared/contract.ts';
import type { KubeObject } from '../../support/fake-kube-api.ts';

export const FLEET_NAMESPACE = 'copa-fleet';

/** A deterministic sha256 digest from a seed. */
export function digestOf(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

export interface ContainerSpec {
  readonly name: string;
  /** Spec image, e.g. `registry.example.com/app:1.0`. */
  readonly image: string;
  /** status.imageID, e.g. `registry.example.com/app@sha256:...` (containerd form). */
  readonly imageID: string;
  readonly state?: 'running' | 'waiting' | 'terminated';
  readonly waitingReason?: string;
}

export interface PodSpec {
  readonly namespace: string;
  readonly name: string;
  readonly containers: readonly ContainerSpec[];
  readonly initContainers?: readonly ContainerSpec[];
  readonly labels?: Record<string, string>;
  readonly phase?: string;
  /** Adds the bulk a real pod carries (managedFields, spec details): for realistic benchmarks. */
  readonly realistic?: boolean;
}

function containerStatus(c: ContainerSpec): Record<string, unknown> {
  const state = c.state ?? 'running';
  return {
    name: c.name,
    image: c.image,
    imageID: c.imageID,
    ready: state === 'running',
    restartCount: 0,
    started: state === 'running',
    containerID:
      state === 'waiting'
        ? undefined
        : `containerd://${createHash('sha1')
            .update(c.name + c.imageID)
            .digest('hex')}`,
    state:
      state === 'running'
        ? { running: { startedAt: '2024-05-01T10:00:00Z' } }
        : state === 'terminated'
          ? {
              terminated: {
                exitCode: 0,
                reason: 'Completed',
                startedAt: '2024-05-01T10:00:00Z',
                finishedAt: '2024-05-01T10:05:00Z',
              },
            }
          : { waiting: { reason: c.waitingReason ?? 'ContainerCreating', message: 'waiting' } },
  };
}

export function pod(spec: PodSpec): KubeObject {
  const running = spec.containers.some((c) => (c.state ?? 'running') === 'running');
  const object: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { app: spec.name.replace(/-[a-z0-9]+$/, ''), ...spec.labels },
    },
    spec: {
      containers: spec.containers.map((c) => ({ name: c.name, image: c.image })),
      ...(spec.initContainers !== undefined && {
        initContainers: spec.initContainers.map((c) => ({ name: c.name, image: c.image })),
      }),
      nodeName: 'node-1',
    },
    status: {
      phase: spec.phase ?? (running ? 'Running' : 'Pending'),
      containerStatuses: spec.containers.map(containerStatus),
      ...(spec.initContainers !== undefined && {
        initContainerStatuses: spec.initContainers.map(containerStatus),
      }),
    },
  };
  if (spec.realistic === true) addPodBulk(object, spec);
  return object;
}

/** The fields that make a real Pod 4-8 kB of JSON. */
function addPodBulk(object: KubeObject, spec: PodSpec): void {
  const podSpec = object.spec as Record<string, unknown>;
  podSpec.containers = spec.containers.map((c) => ({
    name: c.name,
    image: c.image,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
    env: Array.from({ length: 6 }, (_, i) => ({
      name: `SETTING_${i}`,
      value: `value-${i}-${spec.name}`,
    })),
    resources: {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    },
    volumeMounts: [
      {
        name: 'kube-api-access',
        mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
        readOnly: true,
      },
    ],
    livenessProbe: {
      httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: '/readyz', port: 8080, scheme: 'HTTP' },
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    },
    securityContext: {
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  }));
  podSpec.volumes = [
    {
      name: 'kube-api-access',
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        ],
      },
    },
  ];
  podSpec.tolerations = [
    {
      key: 'node.kubernetes.io/not-ready',
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: 300,
    },
    {
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: 300,
    },
  ];
  object.metadata.ownerReferences = [
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: `${spec.name}-rs`,
      uid: createHash('md5').update(spec.name).digest('hex'),
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  object.metadata.managedFields = [
    {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2024-05-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} }, 'f:ownerReferences': {} },
        'f:spec': { 'f:containers': {} },
      },
    },
    {
      manager: 'kubelet',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2024-05-01T10:00:05Z',
      fieldsType: 'FieldsV1',
      subresource: 'status',
      fieldsV1: {
        'f:status': {
          'f:conditions': {},
          'f:containerStatuses': {},
          'f:hostIP': {},
          'f:phase': {},
          'f:podIP': {},
          'f:startTime': {},
        },
      },
    },
  ];
  const status = object.status as Record<string, unknown>;
  status.conditions = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
    type,
    status: 'True',
    lastTransitionTime: '2024-05-01T10:00:05Z',
  }));
  status.hostIP = '10.0.0.1';
  status.podIP = '10.1.2.3';
  status.podIPs = [{ ip: '10.1.2.3' }];
  status.qosClass = 'Burstable';
  status.startTime = '2024-05-01T10:00:00Z';
}

export interface Vulnerability {
  readonly id: string;
  /** Trivy's spelling: CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN. */
  readonly severity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';
  readonly resource?: string;
  /** The entry's fixedVersion ('' = no fix); by default every third entry has none. */
  readonly fixedVersion?: string;
}

export interface ReportSpec {
  readonly namespace: string;
  readonly name: string;
  /** As trivy-operator writes it: `index.docker.io` for Docker Hub. */
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest: string;
  readonly updateTimestamp: string;
  readonly vulnerabilities: readonly Vulnerability[];
  readonly workload?: { kind: string; name: string; container: string };
}

/** A VulnerabilityReport as trivy-operator writes it (fields as in its CRD, realistic sizes). */
export function vulnerabilityReport(spec: ReportSpec): KubeObject {
  const workload = spec.workload ?? { kind: 'ReplicaSet', name: spec.name, container: 'app' };
  const counts = {
    criticalCount: 0,
    highCount: 0,
    mediumCount: 0,
    lowCount: 0,
    unknownCount: 0,
    noneCount: 0,
  };
  for (const v of spec.vulnerabilities)
    counts[`${v.severity.toLowerCase()}Count` as keyof typeof counts]++;
  return {
    apiVersion: 'aquasecurity.github.io/v1alpha1',
    kind: 'VulnerabilityReport',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: {
        'resource-spec-hash': createHash('md5').update(spec.name).digest('hex').slice(0, 10),
        'trivy-operator.container.name': workload.container,
        'trivy-operator.resource.kind': workload.kind,
        'trivy-operator.resource.name': workload.name,
        'trivy-operator.resource.namespace': spec.namespace,
      },
      annotations: { 'trivy-operator.aquasecurity.github.io/report-ttl': '24h0m0s' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: workload.kind,
          name: workload.name,
          uid: createHash('md5').update(workload.name).digest('hex'),
          controller: true,
          blockOwnerDeletion: false,
        },
      ],
    },
    report: {
      updateTimestamp: spec.updateTimestamp,
      scanner: { name: 'Trivy', vendor: 'Aqua Security', version: '0.58.1' },
      registry: { server: spec.registry },
      artifact: { repository: spec.repository, digest: spec.digest, tag: spec.tag ?? 'latest' },
      os: { family: 'debian', name: '12.5' },
      summary: counts,
      vulnerabilities: spec.vulnerabilities.map((v, i) => ({
        vulnerabilityID: v.id,
        resource: v.resource ?? `libpkg${i % 40}`,
        installedVersion: `1.${i % 9}.${i % 7}-1`,
        fixedVersion: v.fixedVersion ?? (i % 3 === 0 ? '' : `1.${i % 9}.${(i % 7) + 1}-1+deb12u1`),
        publishedDate: '2024-03-12T15:15:46Z',
        lastModifiedDate: '2024-04-02T09:21:11Z',
        severity: v.severity,
        title: `${v.resource ?? `libpkg${i % 40}`}: improper input validation leads to memory corruption in a parser routine`,
        primaryLink: `https://avd.aquasec.com/nvd/${v.id.toLowerCase()}`,
        links: [],
        score: 7.5,
        target: `${spec.repository}:${spec.tag ?? 'latest'} (debian 12.5)`,
        class: 'os-pkgs',
        packageType: 'debian',
      })),
    },
  };
}

export interface JobSpec {
  readonly name: string;
  readonly cronjob: string;
  readonly creationTimestamp?: string;
  readonly failed?: { reason: string };
  readonly succeeded?: boolean;
}

export function job(spec: JobSpec): KubeObject {
  const conditions = [];
  if (spec.failed !== undefined)
    conditions.push({
      type: 'Failed',
      status: 'True',
      reason: spec.failed.reason,
      message: 'Job failed',
      lastTransitionTime: new Date().toISOString(),
    });
  if (spec.succeeded === true)
    conditions.push({
      type: 'Complete',
      status: 'True',
      lastTransitionTime: new Date().toISOString(),
    });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: spec.name,
      namespace: FLEET_NAMESPACE,
      ...(spec.creationTimestamp !== undefined && { creationTimestamp: spec.creationTimestamp }),
      labels: { [PIPELINE_LABEL.key]: PIPELINE_LABEL.value, [CRONJOB_LABEL]: spec.cronjob },
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: spec.cronjob, uid: 'u', controller: true },
      ],
    },
    spec: { backoffLimit: 0, activeDeadlineSeconds: 3600 },
    status: {
      conditions,
      ...(spec.failed !== undefined && { failed: 1 }),
      ...(spec.succeeded === true && { succeeded: 1 }),
    },
  };
}

/** A pod of a Copa job, with the exporter sidecar in the given state. */
export function jobPod(spec: {
  name: string;
  job: string;
  cronjob: string;
  exporter: 'running' | 'waiting';
  waitingReason?: string;
}): KubeObject {
  return pod({
    namespace: FLEET_NAMESPACE,
    name: spec.name,
    labels: {
      [CRONJOB_LABEL]: spec.cronjob,
      'batch.kubernetes.io/job-name': spec.job,
      'job-name': spec.job,
      [PIPELINE_LABEL.key]: PIPELINE_LABEL.value,
    },
    phase: spec.exporter === 'running' ? 'Running' : 'Pending',
    containers: [
      {
        name: JOB_CONTAINERS.verify,
        image: 'docker.io/aquasec/trivy:0.70.0',
        imageID: '',
        state: 'waiting',
        waitingReason: 'PodInitializing',
      },
    ],
    initContainers: [
      {
        name: JOB_CONTAINERS.exporter,
        image: 'ghcr.io/copa-fleet/runtime:0.1.0',
        imageID:
          spec.exporter === 'running' ? `ghcr.io/copa-fleet/runtime@${digestOf('runtime')}` : '',
        state: spec.exporter,
        ...(spec.waitingReason !== undefined && { waitingReason: spec.waitingReason }),
      },
    ],
  });
}

export function cronJob(spec: {
  name: string;
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
  creationTimestamp?: string;
  startingDeadlineSeconds?: number;
  suspend?: boolean;
}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: spec.name,
      namespace: FLEET_NAMESPACE,
      ...(spec.creationTimestamp !== undefined && { creationTimestamp: spec.creationTimestamp }),
      labels: { [PIPELINE_LABEL.key]: PIPELINE_LABEL.value },
    },
    spec: {
      schedule: '0 2 * * *',
      suspend: spec.suspend ?? false,
      ...(spec.startingDeadlineSeconds !== undefined && {
        startingDeadlineSeconds: spec.startingDeadlineSeconds,
      }),
      jobTemplate: { spec: {} },
    },
    status: {
      ...(spec.lastScheduleTime !== undefined && { lastScheduleTime: spec.lastScheduleTime }),
      ...(spec.lastSuccessfulTime !== undefined && { lastSuccessfulTime: spec.lastSuccessfulTime }),
    },
  };
}

export function inventoryImage(
  image: string,
  cronjob: string,
  overrides: Partial<CollectorInventoryImage> = {},
): CollectorInventoryImage {
  return {
    image,
    cronjob,
    team: 'platform',
    tag: '1.0',
    patchedTag: '1.0-patched',
    scheduleIntervalSeconds: 86_400,
    slaHours: { Critical: 24, High: 168 },
    slaScope: 'all',
    ...overrides,
  };
}

export function inventoryConfigMap(
  images: readonly CollectorInventoryImage[],
  severitiesInScope: readonly string[] = ['Critical', 'High'],
  exceptions: CollectorInventory['exceptions'] = [],
  /** Further keys of the inventory JSON (`multiCluster`, `silenceWatch`), as synth writes them. */
  extra: Pick<CollectorInventory, 'multiCluster' | 'silenceWatch'> = {},
): KubeObject {
  const inventory: CollectorInventory = {
    namespace: FLEET_NAMESPACE,
    ...extra,
    severitiesInScope,
    images,
    exceptions,
  };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: CONFIGMAPS.inventory,
      namespace: FLEET_NAMESPACE,
      labels: { [PIPELINE_LABEL.key]: PIPELINE_LABEL.value },
    },
    data: { [INVENTORY_CONFIGMAP_KEY]: JSON.stringify(inventory) },
  };
}

export function patchedDigestsConfigMap(records: Record<string, PatchedDigestRecord>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CONFIGMAPS.patchedDigests, namespace: FLEET_NAMESPACE },
    data: Object.fromEntries(
      Object.entries(records).map(([key, record]) => [key, JSON.stringify(record)]),
    ),
  };
}

/** A CronJob's own patched-digest record (ConfigMap `<cronjob>-digest`), as its exporter writes it. */
export function digestRecordConfigMap(
  cronjob: string,
  data: Record<string, PatchedDigestRecord | string>,
  name = digestRecordName(cronjob),
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: FLEET_NAMESPACE,
      labels: { [DIGEST_RECORD_LABEL.key]: DIGEST_RECORD_LABEL.value, [CRONJOB_LABEL]: cronjob },
    },
    data: Object.fromEntries(
      Object.entries(data).map(([key, record]) => [
        key,
        typeof record === 'string' ? record : JSON.stringify(record),
      ]),
    ),
  };
}

export function patchedRecord(
  image: string,
  digest: string,
  patchedAt = '2024-05-02T02:10:00Z',
): PatchedDigestRecord {
  return { image, tag: '1.0', patchedTag: '1.0-patched', digest, patchedAt };
}

/** `count` vulnerabilities with a realistic severity mix (about 5% Critical, 20% High). */
export function vulnerabilityMix(seed: number, count: number): Vulnerability[] {
  const severities = [
    'CRITICAL',
    'HIGH',
    'HIGH',
    'HIGH',
    'HIGH',
    'MEDIUM',
    'MEDIUM',
    'MEDIUM',
    'MEDIUM',
    'MEDIUM',
    'MEDIUM',
    'MEDIUM',
    'LOW',
    'LOW',
    'LOW',
    'LOW',
    'LOW',
    'LOW',
    'LOW',
    'UNKNOWN',
  ] as const;
  // The id's last digit does not follow the severity (with i * 104729 both were functions of
  // seed + i mod 10, and the tracked CVEs ended in five digits only): real CVE ids end in every
  // digit about equally, which the CVE age record's shards by last digit rely on (sla.ts).
  return Array.from({ length: count }, (_, i) => ({
    id: `CVE-${2020 + ((seed + i) % 5)}-${10000 + ((seed * 7919 + i * 104723) % 40000)}`,
    severity: severities[(seed + i) % severities.length]!,
  }));
}
