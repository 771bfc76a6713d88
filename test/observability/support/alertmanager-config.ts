/**
 * Complete alertmanager.yml files around the generated routing, for amtool and a real Alertmanager:
 * - `withPlainFragment`: a root route (receiver "null") whose only child is the generated plain
 *   fragment, as a user merges it;
 * - `asOperatorWould`: the AlertmanagerConfig translated the way prometheus-operator does
 *   (pkg/alertmanager/amcfg.go, OnNamespace matcher strategy): receivers renamed
 *   `<namespace>/<name>/<receiver>`, the top route given `namespace="<namespace>"` and
 *   `continue: true`, every inhibit rule given the namespace matcher on both sides.
 */
import type { IAlertmanagerConfigSpec } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfigSpec';
import type { IMatcher } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Matcher';
import type { IReceiver } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Receiver';
import type { IRoute } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Route';
import { stringify } from 'yaml';
import type {
  PlainAlertmanagerFragment,
  PlainReceiver,
  PlainRoute,
} from '../../../src/observability/alertmanager.ts';

export const NULL_RECEIVER = 'null';

const ROOT = {
  receiver: NULL_RECEIVER,
  group_by: ['alertname'],
  group_wait: '30s',
  group_interval: '5m',
  repeat_interval: '4h',
};

export function withPlainFragment(fragment: PlainAlertmanagerFragment): string {
  return stringify(
    {
      route: { ...ROOT, routes: [fragment.route] },
      receivers: [{ name: NULL_RECEIVER }, ...fragment.receivers],
      inhibit_rules: fragment.inhibit_rules,
    },
    { lineWidth: 0 },
  );
}

function matcher(m: IMatcher): string {
  return `${m.name}${m.matchType ?? '='}${JSON.stringify(m.value ?? '')}`;
}

function convertRoute(route: IRoute, rename: (receiver: string) => string): PlainRoute {
  const children = (route.routes ?? []) as IRoute[];
  return {
    receiver: rename(route.receiver ?? ''),
    ...(route.matchers !== undefined && { matchers: route.matchers.map(matcher) }),
    ...(route.groupBy !== undefined && { group_by: route.groupBy }),
    ...(route.groupWait !== undefined && { group_wait: route.groupWait }),
    ...(route.groupInterval !== undefined && { group_interval: route.groupInterval }),
    ...(route.repeatInterval !== undefined && { repeat_interval: route.repeatInterval }),
    ...(route.continue !== undefined && { continue: route.continue }),
    ...(children.length > 0 && { routes: children.map((child) => convertRoute(child, rename)) }),
  };
}

function convertReceiver(receiver: IReceiver, name: string, secretsDir: string): PlainReceiver {
  const file = (ref: { name: string; key: string }) => `${secretsDir}/${ref.name}/${ref.key}`;
  return {
    name,
    ...(receiver.pagerdutyConfigs !== undefined && {
      pagerduty_configs: receiver.pagerdutyConfigs.map((c) => ({
        routing_key_file: file(c.routingKey as { name: string; key: string }),
        send_resolved: c.sendResolved ?? true,
        severity: c.severity ?? 'error',
      })),
    }),
    ...(receiver.slackConfigs !== undefined && {
      slack_configs: receiver.slackConfigs.map((c) => ({
        api_url_file: file(c.apiURL as { name: string; key: string }),
        ...(c.channel !== undefined && { channel: c.channel }),
        send_resolved: c.sendResolved ?? false,
        title: c.title ?? '',
        text: c.text ?? '',
      })),
    }),
  };
}

export function asOperatorWould(
  spec: IAlertmanagerConfigSpec,
  namespace: string,
  name: string,
  secretsDir: string,
): string {
  const rename = (receiver: string) => `${namespace}/${name}/${receiver}`;
  const nsMatcher = `namespace=${JSON.stringify(namespace)}`;
  const top = convertRoute(spec.route ?? {}, rename);
  return stringify(
    {
      route: {
        ...ROOT,
        routes: [{ ...top, matchers: [nsMatcher, ...(top.matchers ?? [])], continue: true }],
      },
      receivers: [
        { name: NULL_RECEIVER },
        ...(spec.receivers ?? []).map((r) => convertReceiver(r, rename(r.name), secretsDir)),
      ],
      inhibit_rules: (spec.inhibitRules ?? []).map((rule) => ({
        source_matchers: [nsMatcher, ...(rule.sourceMatch ?? []).map(matcher)],
        target_matchers: [nsMatcher, ...(rule.targetMatch ?? []).map(matcher)],
        equal: rule.equal ?? [],
      })),
    },
    { lineWidth: 0 },
  );
}
