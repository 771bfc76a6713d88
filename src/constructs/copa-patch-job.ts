/**
 * Everything one image needs to be patched on a schedule: its CronJob (pod: copa-job-pod.ts) and a
 * ServiceAccount with exactly the API access of its exporter. One ServiceAccount per image (rather
 * than one shared by all jobs): the API audit log names the image behind every write, and removing
 * an image from the inventory removes its identity and grants with it.
 */
import { Construct } from 'constructs';
import type { FleetImage } from '../model/fleet.ts';
import type { PatchRunSpec } from '../model/patch-run.ts';
import { CRONJOB_LABEL, DIGEST_RECORD_LABEL, digestRecordName } from '../shared/contract.ts';
import { copaJobPodSpec } from './copa-job-pod.ts';
import { appLabels, TEAM_LABEL } from './labels.ts';
import {
  PlainKubeConfigMap,
  PlainKubeCronJob,
  PlainKubeServiceAccount,
} from './plain-api-object.ts';
import { DESCRIPTION_ANNOTATION } from './runtime-state-config-map.ts';
import { NamespacedRole, type Rule } from './rbac.ts';

/** Finished Jobs kept for `kubectl describe` (the TTL removes them after ttlSecondsAfterFinished). */
export const SUCCESSFUL_JOBS_HISTORY = 3;
export const FAILED_JOBS_HISTORY = 3;

/** Annotations for humans reading the cluster: what this CronJob patches. */
export const ANNOTATIONS = {
  sourceRef: 'copa-fleet.dev/source-ref',
  patchedRef: 'copa-fleet.dev/patched-ref',
} as const;

/**
 * The exporter's API access, least privilege:
 * - `get` pods: it reads its own pod's container states. Job pod names are random (`<job>-<hash>`),
 *   so RBAC cannot name the pod in advance: `get` on pods of this namespace is the minimum
 *   (no list, no watch, no other namespace).
 * - `get`/`patch` its own digest record, by name, and no other: one compromised job cannot
 *   rewrite another image's latest patched digest (and so hide that image's drift).
 */
export function exporterRules(image: FleetImage): Rule[] {
  return [
    { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    {
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: [digestRecordName(image.name)],
      verbs: ['get', 'patch'],
    },
  ];
}

/** Labels of the CronJob, its Job template and its pods. */
export function patchJobLabels(image: FleetImage): Record<string, string> {
  return {
    ...appLabels('patch-job', image.name),
    [CRONJOB_LABEL]: image.name,
    [TEAM_LABEL]: image.team,
  };
}

/** One image's patch run (src/model/patch-run.ts: built by `patchRunSpec()`). */
export type CopaPatchJobProps = PatchRunSpec;

export class CopaPatchJob extends Construct {
  constructor(scope: Construct, id: string, props: CopaPatchJobProps) {
    super(scope, id);
    const { image, job } = props;
    const labels = patchJobLabels(image);

    // An L1 object (not cdk8s-plus' ServiceAccount): same manifest, rendered fast (plain-api-object.ts).
    const serviceAccount = new PlainKubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: image.name, labels },
      // The pod mounts a token into the exporter container only (copa-job-pod.ts).
      automountServiceAccountToken: false,
    });
    new NamespacedRole(this, 'Rbac', {
      name: image.name,
      labels,
      rules: exporterRules(image),
      serviceAccount: serviceAccount.name,
      namespace: props.namespace,
    });

    // Generated without data (runtime-state-config-map.ts explains why): the exporter owns its key.
    new PlainKubeConfigMap(this, 'DigestRecord', {
      metadata: {
        name: digestRecordName(image.name),
        labels: {
          ...appLabels('patched-digest-store', image.name),
          [CRONJOB_LABEL]: image.name,
          [DIGEST_RECORD_LABEL.key]: DIGEST_RECORD_LABEL.value,
        },
        annotations: {
          [DESCRIPTION_ANNOTATION]: `Written by the exporter of CronJob ${image.name} only: the latest patched digest of ${image.patchedRef}. Generated without data on purpose.`,
        },
      },
    });

    new PlainKubeCronJob(this, 'CronJob', {
      metadata: {
        name: image.name,
        labels,
        annotations: {
          [ANNOTATIONS.sourceRef]: image.sourceRef,
          [ANNOTATIONS.patchedRef]: image.patchedRef,
        },
      },
      spec: {
        schedule: image.schedule,
        timeZone: job.timeZone,
        // Never two runs of one image at once: they would race on the same patched tag.
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: job.startingDeadlineSeconds,
        successfulJobsHistoryLimit: SUCCESSFUL_JOBS_HISTORY,
        failedJobsHistoryLimit: FAILED_JOBS_HISTORY,
        jobTemplate: {
          metadata: { labels },
          spec: {
            activeDeadlineSeconds: job.activeDeadlineSeconds,
            backoffLimit: job.backoffLimit,
            ttlSecondsAfterFinished: job.ttlSecondsAfterFinished,
            template: { metadata: { labels }, spec: copaJobPodSpec(props) },
          },
        },
      },
    });
  }
}
