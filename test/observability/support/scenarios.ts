/**
 * The scenarios of issue 3, each a small world (support/world.ts) and checks at several evaluation
 * times: exactly which alerts fire (every other copa-fleet alert is asserted silent), and the
 * values of recording rules. Times are seconds since promtool's t=0; daily runs end at 01:00.
 */
import { createHash } from 'node:crypto';
import type { FleetImage } from '../../../src/model/fleet.ts';
import { RECORDS } from '../../../src/shared/metrics.ts';
import * as expect from './expected-alerts.ts';
import type { ExpectedAlert } from './expected-alerts.ts';
import { reportTtlHours } from '../../../src/outputs/trivy-operator-values.ts';
import { fleet, imageOf, NAMESPACE, REFS, removedImage } from './fixture.ts';
import {
  type Container,
  hours,
  type ImageState,
  minutes,
  type Run,
  type World,
  type WorldException,
} from './world.ts';

export interface ExpectedSample {
  /** promtool notation: `metric{label="value"}`. */
  readonly labels: string;
  readonly value: number;
}

export interface RecordCheck {
  readonly expr: string;
  readonly samples: readonly ExpectedSample[];
}

export interface Check {
  readonly at: number;
  readonly alerts: readonly ExpectedAlert[];
  readonly records?: readonly RecordCheck[];
}

export interface Scenario {
  readonly name: string;
  readonly world: World;
  readonly checks: readonly Check[];
  /** Seconds between samples and rule evaluations (default STEP, 5 min); longer for scenarios spanning days. */
  readonly step?: number;
}

export function digestOf(label: string): string {
  return `sha256:${createHash('sha256').update(label).digest('hex')}`;
}

/** Daily run end times at 01:00 from yesterday until `end`. */
function dailyRuns(end: number): number[] {
  const times: number[] = [];
  for (let at = hours(-23); at <= end; at += hours(24)) times.push(at);
  return times;
}

/** An inventoried image that behaves: daily successful runs, fresh scans, pods on the patched digest. */
function healthy(image: FleetImage, end: number, overrides: Partial<ImageState> = {}): ImageState {
  const runs = dailyRuns(end);
  const digest = digestOf(`${image.image}:patched`);
  const slug = image.name.replace(/^copa-/, '');
  return {
    image: image.image,
    cronjob: image.name,
    team: image.team,
    intervalSeconds: image.scheduleIntervalSeconds,
    slaHours: image.slaHours,
    runs: runs.map((at): Run => ({ at, outcome: 'up_to_date' })),
    schedules: runs.map((at) => at - minutes(10)),
    containers: [0, 1].map((n): Container => ({
      namespace: 'apps',
      pod: `${slug}-${n}`,
      container: 'app',
      digest,
    })),
    patches: [{ at: hours(-47), digest }],
    scans: runs,
    ...overrides,
  };
}

const world = (images: ImageState[], extra: Partial<World> = {}): World => ({
  namespace: NAMESPACE,
  images,
  ...extra,
});
/** A record's sample: every record carries the fleet namespace (its rule label). */
const sample = (metric: string, labels: Record<string, string>, value: number): ExpectedSample => ({
  labels: `${metric}{${Object.entries({ ...labels, namespace: NAMESPACE })
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`,
  value,
});
const END = hours(32);

// ------------------------------------------------------------------ SLA

const slaImage = imageOf(REFS.sla);
const slaDigest = digestOf(`${slaImage.image}:patched`);
const sla: Scenario = {
  name: 'a critical CVE within, then past, its SLA (and a High CVE past its 12 h override)',
  world: world([
    healthy(slaImage, END, {
      cves: [
        { id: 'CVE-2024-1001', severity: 'Critical', firstSeen: hours(1), digest: slaDigest },
        { id: 'CVE-2024-1002', severity: 'High', firstSeen: hours(2), digest: slaDigest },
      ],
    }),
  ]),
  checks: [
    {
      at: minutes(90),
      alerts: [],
      records: [
        {
          expr: RECORDS.runningCriticalCveImages,
          samples: [sample(RECORDS.runningCriticalCveImages, {}, 1)],
        },
        { expr: RECORDS.slaBreachesByImage, samples: [] },
        {
          expr: RECORDS.slaBreaches,
          samples: [
            sample(RECORDS.slaBreaches, { severity: 'Critical' }, 0),
            sample(RECORDS.slaBreaches, { severity: 'High' }, 0),
          ],
        },
        { expr: RECORDS.slaBreach24h, samples: [sample(RECORDS.slaBreach24h, {}, 0)] },
      ],
    },
    { at: hours(14.5), alerts: [expect.slaBreach(slaImage, 'High', 1)] },
    {
      at: hours(24.5),
      alerts: [expect.slaBreach(slaImage, 'High', 1)],
      records: [{ expr: RECORDS.slaBreach24h, samples: [sample(RECORDS.slaBreach24h, {}, 0)] }],
    },
    {
      at: hours(25.5),
      alerts: [expect.slaBreach(slaImage, 'Critical', 1), expect.slaBreach(slaImage, 'High', 1)],
      records: [
        {
          expr: RECORDS.slaBreachesByImage,
          samples: [
            sample(RECORDS.slaBreachesByImage, { image: slaImage.image, severity: 'Critical' }, 1),
            sample(RECORDS.slaBreachesByImage, { image: slaImage.image, severity: 'High' }, 1),
          ],
        },
        {
          expr: RECORDS.slaBreaches,
          samples: [
            sample(RECORDS.slaBreaches, { severity: 'Critical' }, 1),
            sample(RECORDS.slaBreaches, { severity: 'High' }, 1),
          ],
        },
        { expr: RECORDS.slaBreach24h, samples: [sample(RECORDS.slaBreach24h, {}, 1)] },
      ],
    },
  ],
};

// ------------------------------------------------------------------ Copa runs

const successImage = imageOf(REFS.success);
const successRuns = (n: number) => [
  sample(RECORDS.patchSuccessIncrease7d, { image: successImage.image }, n),
];
const successRate = (image: FleetImage, value: number) => [
  sample(RECORDS.patchSuccessRate7d, { image: image.image }, value),
];
const success: Scenario = {
  name: 'Copa runs succeed: no alert, the success count and rate update',
  world: world([
    healthy(successImage, END, {
      runs: [
        { at: hours(-23), outcome: 'up_to_date' },
        { at: hours(1), outcome: 'patched' },
        { at: hours(25), outcome: 'patched' },
      ],
    }),
  ]),
  checks: [
    {
      at: minutes(30),
      alerts: [],
      records: [
        { expr: RECORDS.patchSuccessIncrease7d, samples: successRuns(1) },
        { expr: RECORDS.patchSuccessRate7d, samples: successRate(successImage, 1) },
      ],
    },
    {
      at: hours(2),
      alerts: [],
      records: [{ expr: RECORDS.patchSuccessIncrease7d, samples: successRuns(2) }],
    },
    {
      at: hours(26),
      alerts: [],
      records: [
        { expr: RECORDS.patchSuccessIncrease7d, samples: successRuns(3) },
        { expr: RECORDS.patchSuccessRate7d, samples: successRate(successImage, 1) },
        { expr: RECORDS.patchFailureIncrease7d, samples: [] },
      ],
    },
  ],
};

const failureImage = imageOf(REFS.failure);
const failure: Scenario = {
  name: 'a Copa run fails to push: CopaPatchJobFailed with the reason, the rate drops, the next success clears it',
  world: world([
    healthy(failureImage, END, {
      runs: [
        { at: hours(-23), outcome: 'up_to_date' },
        { at: hours(1), outcome: 'push_failed' },
        { at: hours(25), outcome: 'up_to_date' },
      ],
    }),
  ]),
  checks: [
    {
      at: minutes(30),
      alerts: [],
      records: [{ expr: RECORDS.patchSuccessRate7d, samples: successRate(failureImage, 1) }],
    },
    {
      at: minutes(90),
      alerts: [expect.jobFailed(failureImage, 'push_failed')],
      records: [
        {
          expr: RECORDS.patchFailureIncrease7d,
          samples: [
            sample(
              RECORDS.patchFailureIncrease7d,
              { image: failureImage.image, failure_reason: 'push_failed' },
              1,
            ),
          ],
        },
        { expr: RECORDS.patchSuccessRate7d, samples: successRate(failureImage, 0.5) },
      ],
    },
    // 27 h since the last success (yesterday 01:00): the image is now also overdue.
    {
      at: hours(4),
      alerts: [
        expect.jobFailed(failureImage, 'push_failed'),
        expect.jobMissingStale(failureImage, 'no_recent_success', hours(27)),
      ],
    },
    {
      at: hours(25.5),
      alerts: [],
      records: [{ expr: RECORDS.patchSuccessRate7d, samples: successRate(failureImage, 2 / 3) }],
    },
  ],
};

const jobFailureImage = imageOf(REFS.jobFailure);
const jobFailure: Scenario = {
  name: 'a Job fails where the exporter cannot report (image pull): the collector reports it',
  world: world([
    healthy(jobFailureImage, END, {
      runs: [
        { at: hours(-23), outcome: 'up_to_date' },
        { at: hours(25), outcome: 'up_to_date' },
      ],
      schedules: [hours(-23) - minutes(10), hours(1) - minutes(10), hours(25) - minutes(10)],
      jobFailures: [{ reason: 'image_pull_failed', from: hours(1), until: hours(25) }],
    }),
  ]),
  checks: [
    { at: minutes(30), alerts: [] },
    { at: minutes(90), alerts: [expect.jobFailed(jobFailureImage, 'image_pull_failed')] },
    {
      at: hours(4),
      alerts: [
        expect.jobFailed(jobFailureImage, 'image_pull_failed'),
        expect.jobMissingStale(jobFailureImage, 'no_recent_success', hours(27)),
        expect.pushgatewayStale(jobFailureImage, hours(27)),
      ],
    },
    { at: hours(25.5), alerts: [] },
  ],
};

// ------------------------------------------------------------------ drift

const driftImage = imageOf(REFS.drift);
const oldDigest = digestOf(`${driftImage.image}:old`);
const newDigest = digestOf(`${driftImage.image}:new`);
const driftWorld = (honorLabels: boolean): World =>
  world(
    [
      healthy(driftImage, END, {
        runs: [
          { at: hours(-23), outcome: 'up_to_date' },
          { at: hours(1), outcome: 'up_to_date' },
          { at: hours(10), outcome: 'patched' },
          { at: hours(25), outcome: 'up_to_date' },
        ],
        patches: [
          { at: hours(-47), digest: oldDigest },
          { at: hours(10), digest: newDigest },
        ],
        cves: [
          { id: 'CVE-2024-2001', severity: 'Critical', firstSeen: hours(9), digest: oldDigest },
        ],
        containers: [
          {
            namespace: 'shop',
            pod: 'cart-1',
            container: 'cart',
            digest: oldDigest,
            until: hours(11),
          },
          {
            namespace: 'shop',
            pod: 'cart-1',
            container: 'cart',
            digest: newDigest,
            from: hours(11),
          },
          {
            namespace: 'shop',
            pod: 'cart-2',
            container: 'cart',
            digest: oldDigest,
            until: hours(12),
          },
          {
            namespace: 'shop',
            pod: 'cart-2',
            container: 'cart',
            digest: newDigest,
            from: hours(12),
          },
          {
            namespace: 'shop',
            pod: 'cart-3',
            container: 'cart',
            digest: newDigest,
            from: hours(10) + minutes(10),
          },
          { namespace: 'shop-canary', pod: 'canary-1', container: 'cart', digest: oldDigest },
        ],
      }),
    ],
    { collector: { honorLabels } },
  );
const driftRecords = (drifted: number, compliance: number): RecordCheck[] => [
  {
    expr: RECORDS.digestDriftContainers,
    samples: [sample(RECORDS.digestDriftContainers, {}, drifted)],
  },
  {
    expr: RECORDS.patchComplianceRatio,
    samples: [sample(RECORDS.patchComplianceRatio, {}, compliance)],
  },
];
const driftChecks: Check[] = [
  // Before the patch: no drift, but all three containers run a Critical CVE: none compliant.
  { at: hours(9.5), alerts: [], records: driftRecords(0, 0) },
  // 25 min after the patch: three containers drift (each also Critical, counted once); cart-3 is new.
  { at: hours(10) + minutes(25), alerts: [], records: driftRecords(3, 0.25) },
  {
    at: hours(10) + minutes(35),
    alerts: [
      expect.unpatchedDigest(driftImage, 'shop', 2),
      expect.unpatchedDigest(driftImage, 'shop-canary', 1),
    ],
  },
  {
    at: hours(11) + minutes(5),
    alerts: [
      expect.unpatchedDigest(driftImage, 'shop', 1),
      expect.unpatchedDigest(driftImage, 'shop-canary', 1),
    ],
  },
  {
    at: hours(12) + minutes(5),
    alerts: [expect.unpatchedDigest(driftImage, 'shop-canary', 1)],
    records: driftRecords(1, 0.75),
  },
];
const drift: Scenario = {
  name: 'Pods still on the old digest 30 minutes after the patch',
  world: driftWorld(true),
  checks: driftChecks,
};
const driftWithoutHonorLabels: Scenario = {
  name: 'the same drift, scraped without honorLabels (workload labels arrive as exported_*)',
  world: driftWorld(false),
  checks: driftChecks,
};

// ------------------------------------------------------------------ coverage

const scanImage = imageOf(REFS.scanStale);
const scanStale: Scenario = {
  name: 'the newest scan gets older than 30 h (the 28 h report TTL plus the 2 h rescan margin)',
  world: world([healthy(scanImage, END, { scans: [hours(-1)] })]),
  checks: [
    // 28 h: the age a report reaches under the generated TTL; not stale.
    { at: hours(27), alerts: [] },
    { at: hours(29) + minutes(10), alerts: [] },
    { at: hours(29.5), alerts: [expect.scanStale(scanImage, hours(30.5))] },
  ],
};

const successCompliance = (known: number, unknown: number): RecordCheck[] => [
  {
    expr: RECORDS.patchComplianceRatio,
    samples: [sample(RECORDS.patchComplianceRatio, {}, known)],
  },
  {
    expr: RECORDS.patchComplianceUnknownRatio,
    samples: [sample(RECORDS.patchComplianceUnknownRatio, {}, unknown)],
  },
];
const neverScanned: Scenario = {
  name: 'a running image that was never scanned: RunningImageNotScanned after 1 h, its containers not counted compliant',
  world: world([healthy(scanImage, END, { scans: [hours(3)] }), healthy(successImage, END)]),
  checks: [
    // Two of four containers run digests without any report: half the fleet is of unknown compliance.
    { at: minutes(30), alerts: [], records: successCompliance(0.5, 0.5) },
    {
      at: hours(1) + minutes(5),
      alerts: [expect.imageNotScanned(scanImage, 2)],
      records: successCompliance(0.5, 0.5),
    },
    // Scanned at 03:00 (no Critical CVE): known compliant.
    { at: hours(3) + minutes(5), alerts: [], records: successCompliance(1, 0) },
  ],
};

const namespaceNotScanned: Scenario = {
  name: 'a namespace with running pods and no reports',
  world: world([healthy(successImage, END)], {
    unscannedNamespaces: [{ namespace: 'legacy-apps', pods: 3, from: hours(2) }],
  }),
  checks: [
    { at: hours(2.5), alerts: [] },
    { at: hours(3) + minutes(5), alerts: [expect.namespaceNotScanned('legacy-apps', 3)] },
  ],
};

// ------------------------------------------------------------------ missing runs

const neverImage = imageOf(REFS.neverReported);
const flakyImage = imageOf(REFS.neverSucceeded);
const weeklyImage = imageOf(REFS.weekly);
/** Onboarded at t=0: its CronJob is created then, nothing has run yet. */
const bare = (image: FleetImage, overrides: Partial<ImageState> = {}): ImageState => ({
  image: image.image,
  cronjob: image.name,
  team: image.team,
  intervalSeconds: image.scheduleIntervalSeconds,
  slaHours: image.slaHours,
  created: 0,
  ...overrides,
});
const neverReportedImages = (end: number): ImageState[] => [
  // Runs in an unscanned namespace, and its CronJob never ran.
  bare(neverImage, {
    containers: [
      {
        namespace: 'legacy-apps',
        pod: 'never-0',
        container: 'app',
        digest: digestOf(`${neverImage.image}:1.0`),
      },
    ],
  }),
  // Runs every day and crashes every time.
  bare(flakyImage, {
    runs: dailyRuns(end)
      .filter((at) => at > 0)
      .map((at): Run => ({ at, outcome: 'crashed' })),
    schedules: dailyRuns(end)
      .filter((at) => at > 0)
      .map((at) => at - minutes(10)),
  }),
  // Weekly: the same silence is not yet overdue.
  bare(weeklyImage),
];
const neverReported: Scenario = {
  name: 'inventoried images that never reported, or never succeeded: both 26 h after their CronJob was created (a short collector outage changes nothing)',
  world: world(neverReportedImages(END), {
    collector: { down: { from: hours(12), until: hours(12) + minutes(5) } },
  }),
  checks: [
    // The never-run image also runs a digest nobody scanned.
    {
      at: hours(25) + minutes(55),
      alerts: [expect.jobFailed(flakyImage, 'crashed'), expect.imageNotScanned(neverImage, 1)],
    },
    {
      at: hours(26) + minutes(5),
      alerts: [
        expect.jobMissingNever(neverImage, 'never_reported', hours(26) + minutes(5)),
        expect.jobMissingNever(flakyImage, 'never_succeeded', hours(26) + minutes(5)),
        expect.jobFailed(flakyImage, 'crashed'),
        expect.imageNotScanned(neverImage, 1),
      ],
    },
  ],
};

/**
 * Issue 9's case: the CronJob's first schedule comes late (23 h after onboarding) and every run
 * crashes. The evidence switches from "never reported" to "never succeeded" at 23 h; the alert
 * still fires at 26 h after the CronJob was created, not 26 h after the first schedule.
 */
const lateFirstSchedule: Scenario = {
  name: 'a new image whose first schedule comes 23 h late and whose runs crash: CopaPatchJobMissing at 26 h all the same',
  world: world([
    bare(flakyImage, {
      runs: [{ at: hours(23), outcome: 'crashed' }],
      schedules: [hours(23) - minutes(10)],
    }),
  ]),
  checks: [
    { at: hours(22), alerts: [] },
    { at: hours(25) + minutes(55), alerts: [expect.jobFailed(flakyImage, 'crashed')] },
    {
      at: hours(26) + minutes(5),
      alerts: [
        expect.jobMissingNever(flakyImage, 'never_succeeded', hours(26) + minutes(5)),
        expect.jobFailed(flakyImage, 'crashed'),
      ],
    },
  ],
};

const cronjobMissing: Scenario = {
  name: 'an inventoried image whose CronJob does not exist: CopaPatchJobMissing (cronjob_missing) after 1 h',
  world: world([bare(weeklyImage, { created: 'none' })]),
  checks: [
    { at: minutes(55), alerts: [] },
    { at: hours(1) + minutes(5), alerts: [expect.jobMissingCronJob(weeklyImage)] },
  ],
};

/**
 * An in-memory Pushgateway restarts: every success on record is gone until the next nightly run.
 * The healthy image raises nothing (no never_succeeded for the whole fleet); the image whose runs
 * always crash (onboarded 100 h ago) is reported before the restart, and again interval + grace
 * after it.
 */
const inMemoryRestartNeverSucceeded: Scenario = {
  name: 'an in-memory Pushgateway restarts and forgets every group: never_succeeded waits interval + grace from its start',
  world: world(
    [
      healthy(successImage, END),
      bare(flakyImage, {
        created: hours(-100),
        runs: dailyRuns(END).map((at): Run => ({ at, outcome: 'crashed' })),
        schedules: dailyRuns(END).map((at) => at - minutes(10)),
      }),
    ],
    { pushgateway: { restart: { at: hours(3), downFor: minutes(5), persistent: false } } },
  ),
  checks: [
    {
      at: hours(2),
      alerts: [
        expect.jobFailed(flakyImage, 'crashed'),
        expect.jobMissingNever(flakyImage, 'never_succeeded', hours(102)),
      ],
    },
    { at: hours(3) + minutes(5), alerts: [] },
    { at: hours(24.5), alerts: [] },
    { at: hours(26), alerts: [expect.jobFailed(flakyImage, 'crashed')] },
    {
      at: hours(29) + minutes(5),
      alerts: [
        expect.jobFailed(flakyImage, 'crashed'),
        expect.jobMissingNever(flakyImage, 'never_succeeded', hours(26) + minutes(5)),
      ],
    },
  ],
};

// ------------------------------------------------------------------ Pushgateway

const redisImage = imageOf(REFS.pushgatewayStale);
const pushgatewayStale: Scenario = {
  name: 'the exporter stops pushing: the group gets older than 25 h',
  world: world([
    healthy(redisImage, END, {
      runs: [{ at: hours(-23), outcome: 'up_to_date' }],
      schedules: [hours(-23) - minutes(10), hours(1) - minutes(10)],
    }),
  ]),
  checks: [
    { at: hours(2), alerts: [] },
    {
      at: hours(2) + minutes(35),
      alerts: [expect.pushgatewayStale(redisImage, hours(25) + minutes(35))],
    },
    {
      at: hours(3.5),
      alerts: [
        expect.pushgatewayStale(redisImage, hours(26.5)),
        expect.jobMissingStale(redisImage, 'no_recent_success', hours(26.5)),
      ],
    },
  ],
};

// ------------------------------------------------------------------ Pushgateway restart

const restartImage = imageOf(REFS.success);
const pushgatewayRestart = (persistent: boolean): World =>
  world([healthy(restartImage, END)], {
    pushgateway: { restart: { at: hours(2), downFor: minutes(10), persistent } },
  });
const persistentRestart: Scenario = {
  name: 'the Pushgateway restarts on its persistence file: its groups come back, no alert',
  world: pushgatewayRestart(true),
  checks: [
    { at: hours(2) + minutes(5), alerts: [] },
    {
      at: hours(3),
      alerts: [],
      records: [
        {
          expr: RECORDS.patchSuccessIncrease7d,
          samples: [sample(RECORDS.patchSuccessIncrease7d, { image: restartImage.image }, 2)],
        },
      ],
    },
    { at: hours(24), alerts: [] },
    {
      at: hours(26),
      alerts: [],
      records: [
        {
          expr: RECORDS.patchSuccessIncrease7d,
          samples: [sample(RECORDS.patchSuccessIncrease7d, { image: restartImage.image }, 3)],
        },
      ],
    },
  ],
};
const inMemoryRestart: Scenario = {
  name: 'control: an in-memory Pushgateway restarts and forgets the group',
  world: pushgatewayRestart(false),
  checks: [
    { at: hours(2) + minutes(5), alerts: [] },
    // The successes counted before the restart are gone: none until the next run, then 1 instead of 3.
    { at: hours(3), alerts: [], records: [{ expr: RECORDS.patchSuccessIncrease7d, samples: [] }] },
    {
      at: hours(26),
      alerts: [],
      records: [
        {
          expr: RECORDS.patchSuccessIncrease7d,
          samples: [sample(RECORDS.patchSuccessIncrease7d, { image: restartImage.image }, 1)],
        },
      ],
    },
  ],
};

// ------------------------------------------------------------------ removed image

const removedDigest = digestOf(`${removedImage.image}:old`);
const removedState = (end: number): ImageState =>
  healthy(removedImage, end, {
    inventory: { until: hours(1) },
    runs: [
      { at: hours(-30), outcome: 'up_to_date' },
      { at: hours(-6), outcome: 'push_failed' },
    ],
    schedules: [hours(-30), hours(-6)],
    containers: [{ namespace: 'legacy', pod: 'old-0', container: 'app', digest: removedDigest }],
    patches: [{ at: hours(-50), digest: removedDigest }],
    cves: [
      { id: 'CVE-2023-9999', severity: 'Critical', firstSeen: hours(-50), digest: removedDigest },
    ],
  });
const removed: Scenario = {
  name: 'an image removed from the inventory: its Pushgateway group stays, and counts for nothing',
  world: world([removedState(END), healthy(successImage, END)]),
  checks: [
    // While inventoried, it alerts like any other image.
    {
      at: minutes(30),
      alerts: [
        expect.jobFailed(removedImage, 'push_failed'),
        expect.jobMissingStale(removedImage, 'no_recent_success', hours(30.5)),
        expect.slaBreach(removedImage, 'Critical', 1),
      ],
    },
    {
      at: hours(2),
      alerts: [],
      records: [
        // The healthy image keeps its rate; the removed one has none, and no failures count.
        { expr: RECORDS.patchSuccessRate7d, samples: successRate(successImage, 1) },
        { expr: RECORDS.patchFailureIncrease7d, samples: [] },
        {
          expr: RECORDS.runningCriticalCveImages,
          samples: [sample(RECORDS.runningCriticalCveImages, {}, 0)],
        },
      ],
    },
    { at: hours(30), alerts: [] },
  ],
};

// ------------------------------------------------------------------ collector

/** The records that count what the collector sees. */
const collectorCounts = (samples: (record: string) => ExpectedSample[]): RecordCheck[] =>
  [
    RECORDS.digestDriftContainers,
    RECORDS.runningCriticalCveImages,
    RECORDS.slaBreach24h,
    RECORDS.patchComplianceUnknownRatio,
  ].map((record) => ({
    expr: record,
    samples: samples(record),
  }));
const collectorDown: Scenario = {
  name: 'the drift collector goes down, then its target disappears',
  world: world([healthy(successImage, END)], {
    collector: { down: { from: hours(2) }, goneFrom: hours(6) },
  }),
  checks: [
    // Up: the counts are 0 because the collector looked and found nothing.
    { at: hours(1), alerts: [], records: collectorCounts((record) => [sample(record, {}, 0)]) },
    { at: hours(2) + minutes(5), alerts: [] },
    // Down: the counts are absent ("no data"), never a reassuring 0.
    {
      at: hours(2) + minutes(15),
      alerts: [expect.collectorDown()],
      records: collectorCounts(() => []),
    },
    { at: hours(6.5), alerts: [expect.collectorDown()], records: collectorCounts(() => []) },
  ],
};

// ------------------------------------------------------------------ Dependency-Track

const billingImage = imageOf(REFS.dependencyTrack);
const dependencyTrack: Scenario = {
  name: 'a Dependency-Track BOM upload fails, the next one succeeds',
  world: world([
    healthy(billingImage, END, {
      runs: [
        { at: hours(-23), outcome: 'patched', bom: 'uploaded' },
        { at: hours(1), outcome: 'patched', bom: 'failed' },
        { at: hours(25), outcome: 'patched', bom: 'uploaded' },
      ],
    }),
  ]),
  checks: [
    { at: minutes(30), alerts: [] },
    { at: minutes(90), alerts: [expect.dependencyTrackFailing(billingImage, 1)] },
    { at: hours(24.5), alerts: [expect.dependencyTrackFailing(billingImage, 1)] },
    { at: hours(25.5), alerts: [] },
  ],
};

// ------------------------------------------------------------------ risk acceptance

const days = (value: number): number => value * 86_400;
const ACCEPTED_CVE = 'CVE-2024-2001';
/** Covers the Critical CVE of the image, past its SLA from the start, until 00:00 UTC of day 3. */
const acceptedException: WorldException = {
  key: `${ACCEPTED_CVE}@${slaImage.image}`,
  vulnerability: ACCEPTED_CVE,
  images: [slaImage.image],
  reason: 'no_fix_available',
  owner: 'secops',
  ticket: 'SEC-7',
  approved: -hours(48),
  expires: days(3),
};
/** Fleet-wide, for a vulnerability nothing runs: unused. */
const unusedException: WorldException = {
  key: 'GHSA-2222-3333-4444@*',
  vulnerability: 'GHSA-2222-3333-4444',
  images: ['*'],
  reason: 'not_affected',
  owner: 'platform',
  ticket: 'SEC-8',
  approved: -hours(24),
  expires: days(30),
};
/** Expires at 00:00 of day 1 in the shorter scenario. */
const lapsing: WorldException = { ...acceptedException, expires: days(1) };
const exceptions: Scenario = {
  name: 'an accepted Critical CVE past its SLA: quiet while accepted, breaching with its original age once the exception lapses',
  world: world(
    [
      healthy(slaImage, END, {
        cves: [
          { id: ACCEPTED_CVE, severity: 'Critical', firstSeen: -hours(30), digest: slaDigest },
        ],
      }),
    ],
    { exceptions: [lapsing] },
  ),
  checks: [
    {
      at: hours(2),
      alerts: [expect.exceptionExpiringSoon(lapsing, '0.9')],
      records: [
        { expr: RECORDS.slaBreachesByImage, samples: [] },
        {
          expr: RECORDS.slaBreachesAccepted,
          samples: [
            sample(RECORDS.slaBreachesAccepted, { severity: 'Critical' }, 1),
            sample(RECORDS.slaBreachesAccepted, { severity: 'High' }, 0),
          ],
        },
        {
          expr: RECORDS.patchComplianceRatio,
          samples: [sample(RECORDS.patchComplianceRatio, {}, 0)],
        },
        {
          expr: RECORDS.patchComplianceRatioAccepted,
          samples: [sample(RECORDS.patchComplianceRatioAccepted, {}, 1)],
        },
      ],
    },
    { at: hours(23), alerts: [expect.exceptionExpiringSoon(lapsing, '0.0')] },
    {
      // The exception lapsed at 00:00 of day 1: the breach pages at once, with the CVE's first-seen time of t = -30 h.
      at: hours(25),
      alerts: [expect.exceptionExpired(lapsing), expect.slaBreach(slaImage, 'Critical', 1)],
      records: [
        {
          expr: RECORDS.slaBreachesByImage,
          samples: [
            sample(RECORDS.slaBreachesByImage, { image: slaImage.image, severity: 'Critical' }, 1),
          ],
        },
        {
          expr: RECORDS.slaBreachesAccepted,
          samples: [
            sample(RECORDS.slaBreachesAccepted, { severity: 'Critical' }, 0),
            sample(RECORDS.slaBreachesAccepted, { severity: 'High' }, 0),
          ],
        },
        {
          expr: RECORDS.patchComplianceRatioAccepted,
          samples: [sample(RECORDS.patchComplianceRatioAccepted, {}, 0)],
        },
      ],
    },
  ],
};

const UNUSED_END = days(7) + hours(1);
const unusedExceptions: Scenario = {
  name: 'an exception covering nothing running for 7 days; another about to lapse',
  // A week at 5-minute evaluations costs promtool about half a minute: hourly evaluations suffice here.
  step: 3600,
  world: world(
    [
      healthy(slaImage, UNUSED_END, {
        cves: [
          { id: ACCEPTED_CVE, severity: 'Critical', firstSeen: -hours(30), digest: slaDigest },
        ],
      }),
    ],
    { exceptions: [acceptedException, unusedException] },
  ),
  checks: [
    { at: hours(2), alerts: [expect.exceptionExpiringSoon(acceptedException, '2.9')] },
    {
      at: days(3) + hours(1),
      alerts: [
        expect.exceptionExpired(acceptedException),
        expect.slaBreach(slaImage, 'Critical', 1),
      ],
    },
    // Unused since t = 0: pending for 7 days, then firing.
    {
      at: days(6) + hours(12),
      alerts: [
        expect.exceptionExpired(acceptedException),
        expect.slaBreach(slaImage, 'Critical', 1),
      ],
    },
    {
      at: days(7) + hours(1),
      alerts: [
        expect.exceptionExpired(acceptedException),
        expect.slaBreach(slaImage, 'Critical', 1),
        expect.exceptionUnused(unusedException),
      ],
    },
  ],
};

// ------------------------------------------------------------------ a healthy fleet

const HEALTHY_END = hours(48);
/** trivy-operator deletes a report after its TTL and rescans: the new report lands a few minutes later. */
const RESCAN_DELAY = minutes(10);
function renewedOnTtl(end: number): number[] {
  const times: number[] = [];
  for (let at = hours(-20); at <= end; at += hours(reportTtlHours(fleet)) + RESCAN_DELAY)
    times.push(at);
  return times;
}
const healthyFleet: Scenario = {
  name: 'a healthy fleet over 48 h: nightly runs up to date, reports renewed on the generated TTL, a collector restart: no alert',
  world: world(
    fleet.images.map((image) =>
      image.scheduleIntervalSeconds > hours(24)
        ? healthy(image, HEALTHY_END, {
            runs: [{ at: hours(-50), outcome: 'up_to_date' }],
            schedules: [hours(-50) - minutes(10)],
            scans: renewedOnTtl(HEALTHY_END),
          })
        : healthy(image, HEALTHY_END, { scans: renewedOnTtl(HEALTHY_END) }),
    ),
    { collector: { down: { from: hours(30), until: hours(30) + minutes(5) } } },
  ),
  checks: [
    ...Array.from({ length: 24 }, (_, n): Check => ({
      at: hours(2 * n + 1) + minutes(30),
      alerts: [],
    })),
    { at: hours(48), alerts: [], records: successCompliance(1, 0) },
  ],
};

export const SCENARIOS: readonly Scenario[] = [
  sla,
  success,
  failure,
  jobFailure,
  drift,
  driftWithoutHonorLabels,
  scanStale,
  // Before neverScanned: fleet-isolation.test.ts mixes the scan-stale and unscanned-namespace worlds (pair 3).
  namespaceNotScanned,
  neverScanned,
  neverReported,
  lateFirstSchedule,
  cronjobMissing,
  pushgatewayStale,
  persistentRestart,
  inMemoryRestart,
  inMemoryRestartNeverSucceeded,
  removed,
  collectorDown,
  // A pair for fleet-isolation.test.ts (it pairs 0-1, 2-3, ...): both run at the longer step.
  exceptions,
  unusedExceptions,
  dependencyTrack,
  healthyFleet,
];

/** Every scenario's images at once (the collector healthy): the world the dashboard is checked against. */
export function dashboardWorld(): World {
  return world(
    [
      // A CVE without a fix on the SLA image, for the unfixable panel.
      ...sla.world.images.map((image) => ({
        ...image,
        cves: [
          ...(image.cves ?? []),
          {
            id: 'CVE-2024-1003',
            severity: 'High' as const,
            firstSeen: hours(3),
            digest: slaDigest,
            unfixable: true,
          },
        ],
      })),
      ...success.world.images,
      ...failure.world.images,
      ...jobFailure.world.images,
      ...drift.world.images,
      ...scanStale.world.images,
      ...neverReportedImages(END),
      ...pushgatewayStale.world.images,
      removedState(END),
      ...dependencyTrack.world.images,
    ],
    {
      unscannedNamespaces: [{ namespace: 'legacy-apps', pods: 3, from: hours(2) }],
      // The SLA scenario's Critical CVE accepted (its High CVE still breaches), and an unused exception.
      exceptions: [
        {
          ...acceptedException,
          key: `CVE-2024-1001@${slaImage.image}`,
          vulnerability: 'CVE-2024-1001',
        },
        unusedException,
      ],
      silences: [
        {
          alertmanager: 'http://alertmanager.monitoring.svc:9093',
          id: 'a1b2',
          state: 'active',
          createdBy: 'alice',
          ticket: false,
          mutedAlerts: 'CriticalCVESLABreach',
          mutedSeverity: 'critical',
          startsAt: hours(1),
          endsAt: hours(100),
        },
      ],
    },
  );
}
export const DASHBOARD_EVAL_TIME = hours(26);
export const WORLD_END = END;
