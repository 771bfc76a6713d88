/**
 * The alert catalogue the silence watch matches silences against (src/observability/silence-catalogue.ts):
 * every generated alerting rule with its fixed labels, and the labels its expression sets as
 * declared by the concern (`outputLabels`). The declaration is checked against what Prometheus
 * really outputs: every alert the promtool scenarios expect (and those scenarios pass only when
 * Prometheus' labels are exactly these) carries no label beyond the declared ones.
 */
import { describe, expect, it } from 'vitest';
import { silenceWatchSettings, watchedAlerts } from '../../src/observability/silence-catalogue.ts';
import { FAILURE_REASONS, L, SEVERITIES } from '../../src/shared/metrics.ts';
import { fleet, fleetOf, inventoryInput, NAMESPACE, observability } from './support/fixture.ts';
import { SCENARIOS } from './support/scenarios.ts';

describe('the silence watch alert catalogue', () => {
  const alerts = watchedAlerts(fleet);

  it('lists every generated alerting rule with the labels the rule sets', () => {
    const rules = observability.groups.flatMap((g) =>
      (g.rules ?? []).filter((r) => r.alert !== undefined),
    );
    expect(alerts.map((a) => [a.alertname, a.severity])).toEqual(
      rules.map((r) => [r.alert, r.labels?.severity]),
    );
    for (const [index, rule] of rules.entries())
      expect(alerts[index]!.labels).toEqual({ alertname: rule.alert, ...rule.labels });
    expect(new Set(alerts.map((a) => a.labels.namespace))).toEqual(new Set([NAMESPACE]));
  });

  it("declares every label the scenarios' alerts carry (checked by Prometheus in promtool)", () => {
    let checked = 0;
    for (const scenario of SCENARIOS) {
      for (const check of scenario.checks) {
        for (const expected of check.alerts) {
          const candidates = alerts.filter(
            (a) => a.alertname === expected.alertname && a.severity === expected.labels.severity,
          );
          expect(candidates.length, expected.alertname).toBeGreaterThan(0);
          const fits = candidates.some((a) =>
            Object.keys(expected.labels).every((label) => label in a.labels || label in a.dynamic),
          );
          expect(
            fits,
            `${scenario.name}: ${expected.alertname} ${JSON.stringify(expected.labels)}`,
          ).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('takes the values of image, team and cronjob from the inventory, and of enumerated labels from the vocabulary', () => {
    const sla = alerts.find((a) => a.alertname === 'CriticalCVESLABreach')!;
    expect(sla.dynamic).toEqual({
      [L.image]: 'image',
      [L.cveSeverity]: SEVERITIES,
      [L.team]: 'team',
    });
    const failed = alerts.find((a) => a.alertname === 'CopaPatchJobFailed')!;
    expect(failed.dynamic[L.failureReason]).toEqual(FAILURE_REASONS);
    const drift = alerts.find((a) => a.alertname === 'PodsRunningUnpatchedDigest')!;
    expect(drift.dynamic[L.exportedNamespace]).toBe('any');
  });

  it('is absent without Alertmanagers, and names the mounted Secret files of those that need them', () => {
    expect(
      silenceWatchSettings(
        fleetOf({ ...inventoryInput, alerting: { ...inventoryInput.alerting, silenceWatch: {} } }),
      ),
    ).toBeUndefined();
    const settings = silenceWatchSettings(
      fleetOf({
        ...inventoryInput,
        alerting: {
          ...inventoryInput.alerting,
          silenceWatch: {
            alertmanagers: [
              { url: 'http://am:9093' },
              {
                url: 'https://grafana.example.com/api/alertmanager/grafana',
                bearerToken: { name: 'grafana', key: 'token' },
                ca: { name: 'grafana-ca', key: 'ca.crt' },
              },
            ],
          },
        },
      }),
    )!;
    expect(settings.alertmanagers).toEqual([
      { url: 'http://am:9093' },
      {
        url: 'https://grafana.example.com/api/alertmanager/grafana',
        bearerTokenFile: '/etc/copa-fleet/alertmanagers/1/token',
        caFile: '/etc/copa-fleet/alertmanagers/1/ca.crt',
      },
    ]);
    expect(settings.intervalSeconds).toBe(60);
    expect(new RegExp(settings.ticketPattern).test('per CHG-1234')).toBe(true);
    expect(new RegExp(settings.ticketPattern).test('JIRA-77 rollout')).toBe(true);
    expect(new RegExp(settings.ticketPattern).test('maintenance window')).toBe(false);
    expect(settings.knownLabels).toEqual(
      expect.arrayContaining([
        'alertname',
        'namespace',
        'image',
        'team',
        'severity',
        'missing_reason',
      ]),
    );
  });
});
