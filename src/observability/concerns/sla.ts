/**
 * SLA tracking: a CVE breaches its SLA when it has been on a running image longer than the SLA
 * hours the inventory sets for that image and severity. The collector holds both (the SLA clock and
 * the inventory) and exports the count per image and severity (`image_cve_sla_breaches`), so the
 * rules aggregate a few series per image instead of every tracked CVE (rule cost,
 * docs/benchmarks.md), and a per-image override changes the result without regenerating the rules.
 * The dashboard's CVE-level table joins the ages with `fleet_inventory_sla_hours` at query time.
 */
import {
  ALERTS,
  type AlertSeverity,
  L,
  METRICS,
  RECORDS,
  SEVERITY_BY_KEY,
  type Severity,
} from '../../shared/metrics.ts';
import {
  barGaugePanel,
  noneIfCollected,
  statPanel,
  steps,
  tablePanel,
  timeseriesPanel,
} from '../panels.ts';
import { copyLabel, duration } from '../promql.ts';
import type { FleetQueries } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import { globalGroup } from '../rules.ts';
import type { AlertDefinition, Concern, RecordingRule } from '../types.ts';

const { image, cveId, severity, cveSeverity, team, thresholdHours } = L;

/**
 * The fixed 24 h view of the seed's `fleet:sla_breach_24h:count`, kept for its users: Critical
 * CVEs older than 24 h whatever the SLA. The SLA-aware counts are RECORDS.slaBreaches*.
 */
const LEGACY_BREACH_HOURS = 24;

/**
 * The coarse SLA clock (RECORDS.cveAgeHours15m): every 15 minutes, per CVE, the highest age of the
 * last 15 minutes. `max_over_time` over exactly the evaluation interval sees every raw sample once
 * (none falls between two evaluations, whatever the scrape interval), and the age is the persisted
 * clock, monotonic while a CVE is carried: the recorded value of the evaluation after a CVE's last
 * sample is its age at that sample. A 30-day report then reads 96 samples per CVE and day instead of
 * 2880 at a 30 s scrape (docs/benchmarks.md section 5).
 */
export const CVE_AGE_RECORD_INTERVAL_SECONDS = 15 * 60;

/**
 * The record's shards, by the last character of `cve_id`: each reads 15 minutes of raw samples of
 * its CVEs only, so that no evaluation reads every CVE's (a 200-image fleet holds some 4,000 CVE
 * series, 120,000 samples per evaluation at a 30 s scrape: well over a rule group's 50 ms budget,
 * docs/benchmarks.md section 4). CVE ids end in a digit, about uniformly; other ids (GHSA-...) in a
 * letter: ten digits and "not a digit" partition every id. Each shard is a group of its own and
 * labels its series (`cve_id_shard`): rules with one record name and the same labels are
 * duplicates to `promtool check rules`.
 */
export const CVE_AGE_RECORD_SHARDS: readonly {
  readonly name: string;
  readonly cveIdRegex: string;
}[] = [
  ...Array.from({ length: 10 }, (_, digit) => ({ name: String(digit), cveIdRegex: `.*${digit}` })),
  { name: 'other', cveIdRegex: '.*[^0-9]' },
];

/** The shard of CVE_AGE_RECORD_SHARDS whose `cve_id` regex (anchored, as PromQL's) matches `id`. */
export function cveIdShard(id: string): string {
  const shard = CVE_AGE_RECORD_SHARDS.find((s) => new RegExp(`^(?:${s.cveIdRegex})$`).test(id));
  if (shard === undefined) throw new Error(`no CVE age record shard matches ${JSON.stringify(id)}`);
  return shard.name;
}

/** Alert severity of a breach, by CVE severity: a Critical breach pages, a High one warns. */
const ALERT_SEVERITY_BY_CVE: Record<Severity, AlertSeverity> = {
  Critical: 'critical',
  High: 'warning',
  Medium: 'info',
  Low: 'info',
  Unknown: 'info',
};

/**
 * CVEs (image x cve_id x severity) older than the image's SLA hours for that severity, valued at
 * their oldest age over the running digests: the dashboard's view of what `image_cve_sla_breaches`
 * counts. The threshold comparison comes before the max over digests (same result: the oldest
 * digest passes whenever any does), so the many-group aggregation only sees breaching series.
 */
function breachingCves(q: FleetQueries): string {
  return (
    `max ${q.by(image, cveId, severity)} (` +
    `${q.series(METRICS.imageCveAgeHours)}` +
    ` > ${q.on(image, severity)} group_left () ` +
    `max ${q.by(image, severity)} (${q.series(METRICS.inventorySlaHours)}))`
  );
}

function breachAlert(q: FleetQueries, cve: Severity): AlertDefinition {
  return {
    alert: ALERTS.slaBreach,
    outputLabels: [L.image, L.cveSeverity, L.team],
    // The record is evaluated earlier in the same group, at the same timestamp.
    expr: q.withImageTeam(
      copyLabel(q.record(RECORDS.slaBreachesByImage, { [severity]: cve }), cveSeverity, severity),
    ),
    severity: ALERT_SEVERITY_BY_CVE[cve],
    summary: `{{ $labels.${cveSeverity} }} CVEs past their SLA on {{ $labels.${image} }}`,
    description:
      `{{ $value }} {{ $labels.${cveSeverity} }} CVE(s) have been on running containers of {{ $labels.${image} }} ` +
      `for longer than the image's {{ $labels.${cveSeverity} }} SLA (team {{ $labels.${team} }}).`,
  };
}

export function slaConcern(settings: ObservabilitySettings) {
  const sla = settings.defaultCriticalSlaHours;
  const { q } = settings;
  const cveAge = q.series(METRICS.imageCveAgeHours);
  return {
    name: 'sla',
    records: [
      // `max` deduplicates the collector's replicas or scrape targets (they count the same CVEs).
      {
        record: RECORDS.slaBreachesByImage,
        expr: `max ${q.by(image, severity)} (${q.series(METRICS.imageCveSlaBreaches)})`,
      },
      {
        record: RECORDS.slaBreaches,
        // Zero for every tracked severity without breaches, so the panel shows 0 rather than nothing.
        expr: `sum ${q.by(severity)} (${q.record(RECORDS.slaBreachesByImage)}) or 0 * count ${q.by(severity)} (${q.series(METRICS.inventorySlaHours)})`,
      },
      // One group per shard, at the record's interval (rules.ts: `copa-fleet.sla.every-15m-cves-<shard>`).
      ...CVE_AGE_RECORD_SHARDS.flatMap((shard): RecordingRule[] => {
        const interval = duration(CVE_AGE_RECORD_INTERVAL_SECONDS);
        const inShard = {
          group: `cves-${shard.name}`,
          labels: { [L.cveIdShard]: shard.name },
        } as const;
        return [
          {
            record: RECORDS.cveAgeHours15m,
            expr: `max ${q.by(image, cveId, severity)} (${q.overTime('max_over_time', METRICS.imageCveAgeHours, interval, {}, undefined, { [cveId]: shard.cveIdRegex })})`,
            interval,
            ...inShard,
          },
          {
            // The cheap proof of when the record exists (the report's split): evaluated after the
            // shard's record in its group, at the same time (groups of one interval run at
            // different offsets, so a count elsewhere could miss the record in its lookback).
            record: RECORDS.cveAgeRecords15m,
            expr: q.agg('count', q.record(RECORDS.cveAgeHours15m, { [L.cveIdShard]: shard.name })),
            interval,
            ...inShard,
          },
        ];
      }),
      {
        record: RECORDS.slaBreach24h,
        expr:
          `${q.agg('count', `count ${q.by(image, cveId)} (${q.series(METRICS.imageCveAgeHours, { [severity]: SEVERITY_BY_KEY.critical })} > ${LEGACY_BREACH_HOURS})`)}` +
          ` or ${q.collectorZero}`,
        // Reads every cluster's Critical CVE ages in the global rules: a group of its own there.
        ...globalGroup(q.clusters, 'age'),
      },
    ],
    alerts: settings.slaSeverities.map((cve) => breachAlert(q, cve)),
    panels: {
      breaches: tablePanel({
        title: 'SLA breaches',
        description: `CVEs on running images older than the image's SLA for their severity. Age colours: orange from ${sla} h, red beyond ${2 * sla} h (the default Critical SLA and twice it).`,
        queries: [{ expr: q.withImageTeam(breachingCves(q)) }],
        width: 16,
        height: 10,
        rename: { Value: 'Age (h)', [cveId]: 'CVE' },
        colorColumn: 'Age (h)',
        sortDesc: 'Age (h)',
        thresholds: steps([sla, 'orange'], [2 * sla, 'red']),
        unit: 'h',
        noValue: noneIfCollected('No breaches'),
      }),
      criticalOlderThan24h: statPanel({
        title: `Critical CVEs older than ${LEGACY_BREACH_HOURS} h`,
        description: `Distinct Critical CVEs (image x CVE) on running images for more than ${LEGACY_BREACH_HOURS} h, whatever the SLA.`,
        queries: [{ expr: q.record(RECORDS.slaBreach24h) }],
        width: 8,
        height: 10,
        thresholds: steps([1, 'red']),
      }),
      breachesCounted: barGaugePanel({
        title: 'SLA breaches counted by the collector',
        description: `image_patch_sla_breach_total by image and SLA hours: one count per CVE that passed its SLA (since the collector started).`,
        queries: [
          {
            expr: `sum ${q.by(image, thresholdHours)} (${q.series(METRICS.slaBreachTotal)})`,
            legend: `{{${image}}} ({{${thresholdHours}}} h)`,
          },
        ],
        width: 8,
        height: 8,
        thresholds: steps([1, 'orange']),
      }),
      breachesBySeverity: timeseriesPanel({
        title: 'SLA breaches by severity',
        description: 'CVEs past their SLA over time, by CVE severity.',
        queries: [{ expr: q.record(RECORDS.slaBreaches), legend: `{{${severity}}}` }],
        width: 8,
        height: 8,
      }),
      oldestCve: barGaugePanel({
        title: 'Oldest tracked CVE per running image',
        description: `Age in hours of the oldest tracked CVE on each image's running digests. Orange from ${sla} h, red beyond ${2 * sla} h.`,
        queries: [{ expr: `max ${q.by(image)} (${cveAge})`, legend: `{{${image}}}` }],
        width: 8,
        height: 8,
        unit: 'h',
        thresholds: steps([sla, 'orange'], [2 * sla, 'red']),
      }),
    },
  } satisfies Concern;
}
