/**
 * Alertmanager's matcher semantics as the silence watch applies them (runtime/collector/silences/matchers.ts):
 * equality, anchored regexes, negative matchers, the empty value of a missing label, external labels,
 * and the conservative answer where a value is unknown or a regex is not JavaScript.
 */
import { describe, expect, it } from 'vitest';
import type { WatchedAlert } from '../../../src/shared/contract.ts';
import {
  labelSpace,
  matches,
  mutes,
  type LabelContext,
  type Matcher,
} from '../../../runtime/collector/silences/matchers.ts';

const sla: WatchedAlert = {
  alertname: 'CriticalCVESLABreach',
  severity: 'critical',
  labels: { alertname: 'CriticalCVESLABreach', severity: 'critical', namespace: 'copa-fleet' },
  dynamic: { image: 'image', cve_severity: ['Critical'], team: 'team' },
};
const drift: WatchedAlert = {
  alertname: 'PodsRunningUnpatchedDigest',
  severity: 'warning',
  labels: { alertname: 'PodsRunningUnpatchedDigest', severity: 'warning', namespace: 'copa-fleet' },
  dynamic: { image: 'image', exported_namespace: 'any', team: 'team' },
};
const context = (externalLabels: Record<string, string> = {}): LabelContext => ({
  knownLabels: new Set([
    'alertname',
    'severity',
    'namespace',
    'image',
    'team',
    'cve_severity',
    'exported_namespace',
    'failure_reason',
  ]),
  externalLabels,
  images: ['registry.example.com/shop/app', 'docker.io/library/nginx'],
  teams: ['payments', 'web'],
  cronjobs: ['app-1-0'],
});
const eq = (name: string, value: string): Matcher => ({
  name,
  value,
  isRegex: false,
  isEqual: true,
});
const ne = (name: string, value: string): Matcher => ({
  name,
  value,
  isRegex: false,
  isEqual: false,
});
const re = (name: string, value: string): Matcher => ({
  name,
  value,
  isRegex: true,
  isEqual: true,
});
const nre = (name: string, value: string): Matcher => ({
  name,
  value,
  isRegex: true,
  isEqual: false,
});
const mutesSla = (matchers: Matcher[], ctx = context()) =>
  mutes(labelSpace(sla, ctx), matchers, ctx);
const mutesDrift = (matchers: Matcher[], ctx = context()) =>
  mutes(labelSpace(drift, ctx), matchers, ctx);

describe('silence matchers', () => {
  it('match alert names by equality and by anchored regex, not by substring', () => {
    expect(mutesSla([eq('alertname', 'CriticalCVESLABreach')])).toBe(true);
    expect(mutesSla([re('alertname', 'Critical.*')])).toBe(true);
    expect(mutesSla([re('alertname', '.*SLA.*')])).toBe(true);
    expect(mutesSla([re('alertname', 'SLA')])).toBe(false); // anchored: ^(?:SLA)$
    expect(mutesSla([re('alertname', 'Critical')])).toBe(false);
    expect(mutesSla([eq('alertname', 'CriticalCVESLABreac')])).toBe(false);
    expect(mutesSla([re('alertname', 'Foo|CriticalCVESLABreach')])).toBe(true);
  });

  it('apply negative matchers', () => {
    expect(mutesSla([ne('alertname', 'Watchdog'), eq('namespace', 'copa-fleet')])).toBe(true);
    expect(mutesSla([ne('namespace', 'copa-fleet')])).toBe(false);
    expect(mutesSla([nre('alertname', 'Critical.*')])).toBe(false);
    expect(mutesSla([nre('namespace', 'kube-.*')])).toBe(true);
  });

  it('give a label the alert does not carry the empty value', () => {
    expect(
      mutesSla([eq('alertname', 'CriticalCVESLABreach'), eq('failure_reason', 'push_failed')]),
    ).toBe(false);
    expect(
      mutesSla([eq('alertname', 'CriticalCVESLABreach'), ne('failure_reason', 'push_failed')]),
    ).toBe(true);
    expect(mutesSla([eq('alertname', 'CriticalCVESLABreach'), re('failure_reason', '.*')])).toBe(
      true,
    );
    expect(mutesSla([eq('alertname', 'CriticalCVESLABreach'), re('failure_reason', '.+')])).toBe(
      false,
    );
  });

  it('take the values of rule labels from the inventory', () => {
    expect(mutesSla([eq('image', 'docker.io/library/nginx')])).toBe(true);
    expect(mutesSla([eq('image', 'docker.io/library/redis')])).toBe(false);
    expect(mutesSla([re('team', 'pay.*')])).toBe(true);
    expect(mutesSla([eq('team', 'data')])).toBe(false);
    expect(mutesSla([eq('cve_severity', 'High')])).toBe(false);
    // Several matchers on one label must hold for one value.
    expect(mutesSla([re('team', 'pay.*'), ne('team', 'payments')])).toBe(false);
  });

  it('let an unknown value be anything an equality matcher names, and external labels be what the inventory says', () => {
    expect(mutesDrift([eq('exported_namespace', 'shop')])).toBe(true);
    expect(mutesDrift([eq('exported_namespace', 'shop'), ne('exported_namespace', 'shop')])).toBe(
      false,
    );
    expect(mutesSla([eq('cluster', 'prod-eu')])).toBe(true); // an external label we were not told about
    expect(mutesSla([eq('cluster', 'prod-eu')], context({ cluster: 'prod-us' }))).toBe(false);
    expect(mutesSla([eq('cluster', 'prod-us')], context({ cluster: 'prod-us' }))).toBe(true);
  });

  it('count a regex JavaScript cannot compile as matching (never miss a silence)', () => {
    expect(matches(re('alertname', '(?P<x>a)'), 'a')).toBeUndefined();
    expect(mutesSla([re('alertname', '(?P<x>Critical).*')])).toBe(true);
  });

  it('mute nothing when any matcher fails', () => {
    expect(mutesSla([eq('alertname', 'CriticalCVESLABreach'), eq('severity', 'warning')])).toBe(
      false,
    );
    expect(
      mutesSla([
        eq('alertname', 'CriticalCVESLABreach'),
        eq('severity', 'critical'),
        eq('namespace', 'copa-fleet'),
      ]),
    ).toBe(true);
  });
});
