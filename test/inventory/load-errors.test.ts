/**
 * The corpus of bad inventories (fixtures/bad/*.yaml): each one must give exactly the listed
 * errors, each naming the field path, line and column, and saying what was expected.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatIssue,
  InventoryError,
  type InventoryIssue,
  parseInventory,
} from '../../src/inventory/load.ts';

const BAD_DIR = new URL('./fixtures/bad/', import.meta.url);

/** `[line:column, field path ('' for the document), a fragment of the message]` */
type Expected = readonly [string, string, string];

const CORPUS: Readonly<Record<string, readonly Expected[]>> = {
  'yaml-syntax.yaml': [
    [
      '4:3',
      '',
      'YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  ],
  'duplicate-key.yaml': [
    ['4:5', 'images[0].team', 'duplicate key "team": each key may appear only once in a map'],
  ],
  'comments-only.yaml': [
    ['1:1', '', 'the inventory is empty: expected a map with at least an "images" list'],
  ],
  'top-level-list.yaml': [
    [
      '1:1',
      '',
      'the top level must be a map (key: value) with at least an "images" list, got a list',
    ],
  ],
  'multiple-documents.yaml': [['3:1', '', 'the inventory must be a single YAML document']],
  'unresolved-alias.yaml': [['3:10', '', 'alias *strict refers to no anchor defined before it']],
  'list-for-map.yaml': [
    ['2:3', 'defaults', 'expected a map (key: value), got a list'],
    ['6:7', 'images[0].sla', 'expected a map (key: value), got a list'],
  ],
  'map-for-list.yaml': [['2:3', 'images', 'expected a list, got a map']],
  'silence-watch.yaml': [
    [
      '6:14',
      'alerting.silenceWatch.alertmanagers[0].url',
      'must not contain a user name or password',
    ],
    ['7:14', 'alerting.silenceWatch.alertmanagers[1].url', 'must be a URL such as'],
    [
      '8:22',
      'alerting.silenceWatch.alertmanagers[1].bearerToken.key',
      'is required (expected a string)',
    ],
    ['9:22', 'alerting.silenceWatch.intervalSeconds', 'must be at least 1 (got 0)'],
    ['10:15', 'alerting.silenceWatch.maxHours', 'greater than 0'],
    [
      '11:20',
      'alerting.silenceWatch.ticketPattern',
      'must be a regular expression (JavaScript syntax)',
    ],
  ],
  'empty-images.yaml': [['1:9', 'images', 'list at least one image']],
  'clusters.yaml': [
    ['6:11', 'clusters[1].name', 'duplicates clusters[0].name "eu-1"'],
    [
      '7:12',
      'clusters[1].roles',
      'has the role "patch", like clusters[0]: exactly one cluster runs the patch pipeline',
    ],
    ['8:11', 'clusters[2].name', 'must not be "global"'],
    ['9:24', 'clusters[2].roles[1]', 'lists "workloads" twice'],
  ],
  'clusters-no-patch.yaml': [['4:3', 'clusters', 'no cluster has the role "patch"']],
  'cluster-overrides.yaml': [
    [
      '7:55',
      'prometheus.selectors.collector.namespace',
      'is "copa-fleet", but clusters[2] (ap-1) runs the collector in namespace "copa-fleet-ap": the selector would never match its series',
    ],
    ['13:16', 'clusters[1].namespace', 'must be a DNS label'],
    ['18:7', 'clusters[2].grafana', 'a cluster carries no dashboard'],
  ],
  'global-without-clusters.yaml': [['4:3', 'global', 'is only used with `clusters`']],
  'unknown-keys.yaml': [
    ['3:5', 'images[0].scheudle', 'unknown key; did you mean "schedule"?'],
    [
      '4:5',
      'images[0].owner',
      'unknown key; expected one of: enabled, patchedTag, ref, schedule, sla, slaScope, team',
    ],
    ['6:3', 'defaults.namepsace', 'unknown key; did you mean "namespace"?'],
    ['7:1', 'grafna', 'unknown key; did you mean "grafana"?'],
  ],
  'invalid-cron.yaml': [
    [
      '3:15',
      'images[0].schedule',
      'is not a valid cron expression: minute 61 is out of range 0-59 (got "61 * * * *")',
    ],
    [
      '5:15',
      'images[1].schedule',
      'must be a standard 5-field cron expression (minute hour day-of-month month day-of-week), found 4 fields',
    ],
    ['7:15', 'images[2].schedule', 'day of week "5L" is not a number or a name'],
    ['9:15', 'images[3].schedule', 'macros such as @daily are not supported'],
    ['11:15', 'images[4].schedule', 'never runs: no selected month has the selected day of month'],
    ['13:15', 'images[5].schedule', 'day of week 7 is out of range 0-6'],
  ],
  'invalid-ref.yaml': [
    [
      '2:10',
      'images[0].ref',
      'is not a valid image reference: repository name must be lower-case ("Nginx") (got "Nginx:1.27")',
    ],
    ['3:10', 'images[1].ref', 'leading or trailing whitespace'],
    ['4:10', 'images[2].ref', 'invalid registry port in "registry.example.com:99999"'],
    ['5:10', 'images[3].ref', 'invalid tag "-latest"'],
    ['6:10', 'images[4].ref', 'empty reference'],
  ],
  'digest-ref.yaml': [
    [
      '2:10',
      'images[0].ref',
      'must be a tag reference (Copa patches a tag and pushes a new tag); remove the @digest',
    ],
  ],
  'sla.yaml': [
    ['3:15', 'defaults.sla.critical', 'SLA hours must be greater than 0 (got 0)'],
    ['4:11', 'defaults.sla.high', 'SLA hours must be greater than 0 (got -24)'],
    ['8:17', 'images[0].sla.critical', 'expected a number, got the string "12h"'],
    ['9:12', 'images[0].sla.low', 'SLA hours must be at most 8760 (one year) (got 9000)'],
  ],
  'duplicate-refs.yaml': [
    [
      '3:10',
      'images[1].ref',
      'duplicates images[0].ref: both normalise to "docker.io/library/nginx:1.25"',
    ],
    [
      '4:10',
      'images[2].ref',
      'duplicates images[0].ref: both normalise to "docker.io/library/nginx:1.25" (got "index.docker.io/library/nginx:1.25")',
    ],
    [
      '6:10',
      'images[4].ref',
      'duplicates images[3].ref: both normalise to "registry.example.com/app:latest"',
    ],
  ],
  'prometheus-selectors.yaml': [
    [
      '6:7',
      'prometheus.selectors.collector["9job"]',
      'key "9job" is invalid: it must be a Prometheus label name',
    ],
    [
      '7:7',
      'prometheus.selectors.collector.__meta_x',
      'must not start with "__" (reserved for Prometheus-internal labels)',
    ],
    [
      '9:12',
      'prometheus.selectors.exporter.job',
      'must not be empty: an empty value matches series without the label (got "")',
    ],
  ],
  'unknown-receiver.yaml': [
    [
      '4:20',
      'alerting.defaultReceiver',
      '"slack" is not defined in alerting.receivers (defined: pagerduty-oncall)',
    ],
    [
      '10:17',
      'alerting.routes[0].receiver',
      '"pagerduty-oncal" is not defined in alerting.receivers (defined: pagerduty-oncall)',
    ],
  ],
  'receivers.yaml': [
    ['5:7', 'alerting.receivers[0]', 'a receiver needs exactly one of `pagerduty` or `slack`'],
    ['10:7', 'alerting.receivers[1]', 'a receiver needs exactly one of `pagerduty` or `slack`'],
    ['11:13', 'alerting.receivers[2].name', 'duplicates alerting.receivers[0].name "both"'],
    [
      '14:18',
      'alerting.receivers[2].slack.channel',
      'must be a Slack channel name such as "#platform-alerts" (got "General Chat")',
    ],
    [
      '17:21',
      'alerting.receivers[3].slack.webhookUrl',
      'expected a map (key: value), got the string "https://hooks.slack.com/services/T000/B000/XXXX"',
    ],
  ],
  'wrong-types.yaml': [
    ['3:14', 'images[0].enabled', 'expected true or false, got the string "yes"'],
    [
      '4:17',
      'images[0].patchedTag',
      'expected a string, got the number 1.1 (write it in quotes to keep it a string: "1.10")',
    ],
    ['5:11', 'images[0].team', 'expected a string, got the number 42'],
    ['6:5', 'images[1]', 'expected a map (key: value), got the string "redis:7"'],
    ['7:10', 'images[2].ref', 'expected a string, got a list'],
    ['10:19', 'defaults.job.backoffLimit', 'expected an integer, got the number 1.5'],
    ['11:28', 'defaults.job.activeDeadlineSeconds', 'expected a number, got the string "3600"'],
  ],
  'missing-ref.yaml': [
    // A missing key points at the map that lacks it.
    ['2:5', 'images[0].ref', 'is required (expected a string)'],
    // An empty value points at its key.
    ['4:5', 'images[1].ref', 'expected a string, got an empty value'],
  ],
  'defaults-values.yaml': [
    ['2:14', 'defaults.namespace', 'must be a DNS label: lower-case letters, digits and "-"'],
    ['4:21', 'defaults.schedule.window.start', 'must be HH:MM (24 h) (got "1:00")'],
    ['4:34', 'defaults.schedule.window.end', 'must be HH:MM (24 h) (got "25:00")'],
    ['5:15', 'defaults.schedule.timeZone', 'must be spelled "Europe/Berlin"'],
    ['7:14', 'defaults.copa.version', 'must be a version such as "0.14.2" (got "latest")'],
    [
      '8:14',
      'defaults.copa.timeout',
      'must be a duration such as "30s", "20m" or "4h" (got "20 minutes")',
    ],
    ['10:5', 'defaults.pushgateway.url', 'is required when defaults.pushgateway.deploy is false'],
    [
      '11:28',
      'defaults.pushgateway.auth.exporterSecret',
      'must be a DNS label: lower-case letters, digits and "-"',
    ],
    ['13:5', 'defaults.buildkit.tlsSecret', 'is required with defaults.buildkit.address'],
    ['16:7', 'defaults.resources.scan.limits', 'is required (expected a map (key: value))'],
    [
      '16:37',
      'defaults.resources.scan.requests.memory',
      'must be a Kubernetes quantity such as "250m", "512Mi" or "1" (got "512MB")',
    ],
    [
      '21:5',
      'prometheus.ruleLabels["release name"]',
      'key "release name" is invalid: it must be a Kubernetes label key',
    ],
    [
      '23:14',
      'prometheus.serviceMonitorLabels.release',
      'must be a Kubernetes label value (got "kube prometheus")',
    ],
    ['25:3', 'dependencyTrack.apiKey', 'is required (expected a map (key: value))'],
    [
      '25:8',
      'dependencyTrack.url',
      'must be a URL such as "https://example.com/path" (got "dtrack.example.com")',
    ],
  ],
  'team-per-repository.yaml': [
    [
      '5:11',
      'images[1].team',
      'is team "edge", but images[0] of the same repository docker.io/library/nginx is team "web"',
    ],
    [
      '6:5',
      'images[2].team',
      'is team "platform", but images[0] of the same repository docker.io/library/nginx is team "web"',
    ],
  ],
  'url-credentials.yaml': [
    ['5:10', 'defaults.pushgateway.url', 'must not contain a user name or password'],
  ],
  // TrivyScanStale must not fire before trivy-operator renews a report (model/scan-freshness.ts).
  'scan-freshness.yaml': [
    [
      '4:20',
      'prometheus.scanMaxAgeHours',
      'must be at least trivyOperator.reportTtlHours + 2 (30): trivy-operator renews a report only when its 28 h TTL expires',
    ],
  ],
  'scan-max-age-margin.yaml': [
    ['4:20', 'prometheus.scanMaxAgeHours', 'must be more than 2 (the rescan margin)'],
  ],
  'cronjob-name-collision.yaml': [
    [
      '4:10',
      'images[1].ref',
      'gets the same CronJob name "copa-app-1-000030" as images[0].ref (a hash collision)',
    ],
  ],
  'exceptions.yaml': [
    ['5:5', 'exceptions[0].expires', 'is required (expected a string)'],
    [
      '19:14',
      'exceptions[1].expires',
      'is 151 days after approved (2026-01-01); at most defaults.maxExceptionDays (90) days are allowed',
    ],
    ['22:13', 'exceptions[2].reason', 'not_affected'],
    [
      '28:9',
      'exceptions[3].id',
      'must be a CVE id such as "CVE-2024-3094" or a GitHub advisory id',
    ],
    [
      '37:14',
      'exceptions[4].images[0]',
      '"docker.io/library/redis" is not an image repository of the inventory',
    ],
    [
      '37:21',
      'exceptions[4].images[1]',
      '"ghcr.io/acme/api:3.0" is not an image tag (or patched tag) of the inventory',
    ],
    [
      '45:14',
      'exceptions[5].images[0]',
      'duplicates exceptions[0]: CVE-2024-1234 is already accepted for docker.io/library/nginx',
    ],
    ['59:14', 'exceptions[6].expires', 'must be after approved (2026-11-01)'],
    ['65:14', 'exceptionFiles[0].expires', 'is 212 days after approved (2026-11-01)'],
  ],
  // Type errors do not hide the cross-field checks (duplicates, receivers): everything in one run.
  'all-at-once.yaml': [
    ['2:19', 'defaults.sla.critical', 'SLA hours must be greater than 0 (got -1)'],
    ['5:15', 'images[0].schedule', 'hour 25 is out of range 0-23'],
    ['6:10', 'images[1].ref', 'duplicates images[0].ref'],
    ['7:14', 'images[1].enabled', 'expected true or false, got the string "false"'],
    ['8:10', 'images[2].ref', 'must be a tag reference'],
    ['9:5', 'images[2].tema', 'unknown key; did you mean "team"?'],
    [
      '12:17',
      'alerting.routes[0].receiver',
      '"nobody" is not defined in alerting.receivers (defined: none)',
    ],
  ],
};

function issuesOf(file: string): readonly InventoryIssue[] {
  const text = readFileSync(new URL(file, BAD_DIR), 'utf8');
  try {
    parseInventory(text, `inventory/${file}`);
  } catch (error) {
    if (error instanceof InventoryError) return error.issues;
    throw error;
  }
  throw new Error(`${file} was accepted`);
}

describe('the corpus of bad inventories', () => {
  it('lists every fixture', () => {
    expect(
      readdirSync(BAD_DIR)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual(Object.keys(CORPUS).sort());
  });

  it.each(Object.entries(CORPUS))('%s', (file, expected) => {
    const issues = issuesOf(file);
    const actual = issues.map(
      (issue) => [`${issue.line}:${issue.column}`, issue.path, issue.message] as const,
    );
    expect(actual).toHaveLength(expected.length);
    expected.forEach(([position, path, message], index) => {
      expect(actual[index]?.[0], `position of ${path || 'document error'}`).toBe(position);
      expect(actual[index]?.[1]).toBe(path);
      expect(actual[index]?.[2]).toContain(message);
    });
    for (const issue of issues) {
      expect(issue.file).toBe(`inventory/${file}`);
      const where = `inventory/${file}:${issue.line}:${issue.column}: `;
      expect(formatIssue(issue)).toBe(
        `${where}${issue.path === '' ? '' : `${issue.path}: `}${issue.message}`,
      );
    }
  });

  it("never shows zod's own wording or a stack trace", () => {
    for (const file of Object.keys(CORPUS)) {
      for (const issue of issuesOf(file)) {
        expect(issue.message).not.toMatch(
          /Invalid input|received|Too (small|big)|Invalid option|Unrecognized key|Invalid key in record|\n\s+at /,
        );
      }
    }
  });

  it('the error message lists every issue, one per line, in file order', () => {
    const text = readFileSync(new URL('all-at-once.yaml', BAD_DIR), 'utf8');
    expect(() => parseInventory(text, 'x.yaml')).toThrow(InventoryError);
    try {
      parseInventory(text, 'x.yaml');
    } catch (error) {
      const lines = (error as InventoryError).message.split('\n');
      expect(lines).toHaveLength(7);
      expect(lines[0]).toBe(
        'x.yaml:2:19: defaults.sla.critical: SLA hours must be greater than 0 (got -1)',
      );
      expect(lines.map((l) => Number(l.split(':')[1]))).toEqual([2, 5, 6, 7, 8, 9, 12]);
    }
  });
});
