/**
 * recorded.ts inlines a recording rule's output, referenced as `q.record(name)` (a selector with
 * the fleet's `namespace` matcher), by the record's own expression: found in the parse tree, with
 * the rule labels set as Prometheus sets them, and refused where a substitution would be wrong.
 * promtool 2.42 (the rules' checker) confirms the inlined expressions are valid PromQL.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/load.ts';
import { concernsFor } from '../../src/observability/assemble.ts';
import { CVE_AGE_RECORD_SHARDS } from '../../src/observability/concerns/sla.ts';
import { reportSettings } from '../../src/report/fleet-settings.ts';
import { RecordedExpressions } from '../../src/report/recorded.ts';
import { ALERTS, RECORDS } from '../../src/shared/metrics.ts';
import { PROMTOOL } from './support/backfilled-prometheus.ts';

const settingsFor = (namespace: string) =>
  reportSettings(
    parseInventory(
      `defaults: {namespace: ${namespace}}\nimages: [{ref: "nginx:1.27"}]\n`,
      'test.yaml',
    ),
  );
const RECORD_NAMES = new Set<string>(Object.values(RECORDS));

/** Metric names of the vector selectors in `expr` (from the parse tree). */
function selectorNames(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) throw new Error(`invalid PromQL at ${node.from}: ${expr}`);
      const id = node.name === 'VectorSelector' ? node.node.getChild('Identifier') : null;
      if (id !== null) names.push(expr.slice(id.from, id.to));
    },
  });
  return names;
}

describe('RecordedExpressions', () => {
  const settings = settingsFor('copa-fleet');
  const recorded = new RecordedExpressions(settings);
  const rate = concernsFor(settings)
    .flatMap((c) => c.records)
    .find((r) => r.record === RECORDS.patchSuccessRate7d)!;

  it("replaces each q.record() reference by the record's expression, with the rule label set", () => {
    // The 7-day success rate reads two records of the same group.
    expect(selectorNames(rate.expr).filter((name) => RECORD_NAMES.has(name))).toEqual(
      expect.arrayContaining([RECORDS.patchSuccessIncrease7d, RECORDS.patchFailureIncrease7d]),
    );
    const inlined = recorded.record(RECORDS.patchSuccessRate7d);
    expect(selectorNames(inlined).filter((name) => RECORD_NAMES.has(name))).toEqual([]);
    const increase = recorded.record(RECORDS.patchSuccessIncrease7d);
    expect(inlined).toContain(`label_replace((${increase}), "namespace", "copa-fleet", "", "")`);
  });

  it("inlines another fleet's references with that fleet's selectors", () => {
    const other = new RecordedExpressions(settingsFor('staging'));
    const inlined = other.record(RECORDS.patchSuccessRate7d);
    expect(inlined).toContain('namespace="staging"');
    expect(inlined).not.toContain('copa-fleet"');
    expect(other.alert(ALERTS.jobFailed)).toContain('namespace="staging"');
  });

  it('leaves a record name inside a string or a longer name alone', () => {
    const name = RECORDS.digestDriftContainers;
    const expr = `label_replace(${name}_other, "x", "${name}", "", "") + ${name}{namespace="copa-fleet"}`;
    expect(recorded.inline(expr)).toBe(
      `label_replace(${name}_other, "x", "${name}", "", "") + label_replace((${recorded.record(name)}), "namespace", "copa-fleet", "", "")`,
    );
  });

  it.each([
    [`${RECORDS.digestDriftContainers}`, "expected exactly this fleet's record selector"],
    [
      `${RECORDS.digestDriftContainers}{namespace="other"}`,
      "expected exactly this fleet's record selector",
    ],
    [
      `${RECORDS.slaBreachesByImage}{namespace="copa-fleet", severity="Critical"}`,
      "expected exactly this fleet's record selector",
    ],
    [`${RECORDS.digestDriftContainers}{namespace=~"copa-fleet"}`, 'only equality matchers'],
    [
      `max_over_time(${RECORDS.digestDriftContainers}{namespace="copa-fleet"}[1h])`,
      'a range or modifier follows it',
    ],
    [
      `${RECORDS.digestDriftContainers}{namespace="copa-fleet"} offset 1h`,
      'a range or modifier follows it',
    ],
  ])('refuses what a substitution would get wrong: %s', (expr, message) => {
    expect(() => recorded.inline(expr)).toThrow(message);
  });

  it('inlines a sharded record as the union of its shards, and a shard reference as that shard alone', () => {
    const shards = CVE_AGE_RECORD_SHARDS.map((shard) => `cve_id=~"${shard.cveIdRegex}"`);
    const whole = recorded.record(RECORDS.cveAgeHours15m);
    for (const shard of shards) expect(whole.split(shard).length - 1).toBe(1);
    expect(whole).toContain(' or ');
    // Each shard's count reads its own shard only (its reference names the shard's static label).
    const counts = recorded.record(RECORDS.cveAgeRecords15m);
    for (const shard of shards) expect(counts.split(shard).length - 1).toBe(1);
    expect(() =>
      recorded.inline(`${RECORDS.cveAgeHours15m}{namespace="copa-fleet", cve_id_shard="x"}`),
    ).toThrow('or with labels a rule of');
    const seventh = recorded.inline(
      `${RECORDS.cveAgeHours15m}{namespace="copa-fleet", cve_id_shard="7"}`,
    );
    expect(seventh).toContain('cve_id=~".*7"');
    expect(seventh).not.toContain('cve_id=~".*0"');
  });

  it('promtool accepts every inlined record expression as a rule', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'copa-fleet-recorded-'));
    try {
      const rules = Object.values(RECORDS).map(
        (record) =>
          `      - record: inlined:${record.replace(/:/g, '_')}\n        expr: ${JSON.stringify(recorded.record(record))}\n`,
      );
      const file = join(dir, 'rules.yaml');
      await writeFile(file, `groups:\n  - name: inlined\n    rules:\n${rules.join('')}`);
      const { stdout } = await promisify(execFile)(PROMTOOL, ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
