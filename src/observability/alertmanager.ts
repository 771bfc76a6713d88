/**
 * Alert routing from the inventory's `alerting` section, in two equivalent forms:
 * - an AlertmanagerConfig (prometheus-operator): receivers reference Secret name + key; the operator
 *   adds the `namespace="<fleet namespace>"` matcher to its route and inhibit rules itself;
 * - a plain alertmanager.yml fragment (a sub-route, its receivers and inhibit rules) for
 *   Alertmanagers without the operator: it carries the namespace matcher explicitly, names receivers
 *   as the operator would (`<namespace>/<config name>/<receiver>`), and reads secrets from files
 *   (`routing_key_file`, `api_url_file`) under a directory where the Secrets are mounted.
 * Both route only copa-fleet's alerts (an `alertname` matcher), so other alerts of the namespace
 * keep their usual routes. No secret value is ever written.
 */
import type { IAlertmanagerConfigSpec } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfigSpec';
import type { IMatcher } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Matcher';
import type { IReceiver } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Receiver';
import type { IRoute } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Route';
import type { Inventory } from '../inventory/schema.ts';
import { ALERTS, type AlertSeverity, L, MULTI_CLUSTER_ALERTS } from '../shared/metrics.ts';

/** Name of the AlertmanagerConfig (and the middle part of the plain receiver names). */
export const ALERTMANAGER_CONFIG_NAME = 'copa-fleet';
/** Where the operator's Alertmanager mounts `spec.secrets` (`<dir>/<secret>/<key>`); also the plain default. */
export const DEFAULT_SECRETS_DIR = '/etc/alertmanager/secrets';

/** Labels an inhibition compares: same alert name, same image (and CronJob, when the alert has one). */
const INHIBIT_EQUAL = [L.alertname, L.image, L.cronjob];
/** A critical alert suppresses the warning of the same alert and image. */
const INHIBIT: { source: AlertSeverity; target: AlertSeverity } = {
  source: 'critical',
  target: 'warning',
};

/** Every alert the fleet's rules can raise: the multi-cluster ones only with `clusters`. */
function alertnameRegex(multiCluster: boolean): string {
  return Object.values(ALERTS)
    .filter((name) => multiCluster || !MULTI_CLUSTER_ALERTS.includes(name))
    .sort()
    .join('|');
}

const SLACK_TITLE =
  '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.image }}';
const SLACK_TEXT =
  '{{ range .Alerts }}{{ .Annotations.description }} <{{ .Annotations.runbook_url }}|runbook>\n{{ end }}';
/** PagerDuty severities are critical|error|warning|info: ours map one to one. */
const PAGERDUTY_SEVERITY = '{{ or .CommonLabels.severity "error" }}';

type Alerting = Inventory['alerting'];
type ReceiverEntry = Alerting['receivers'][number];

function defaultReceiver(alerting: Alerting): string {
  const name = alerting.defaultReceiver ?? alerting.receivers[0]?.name;
  if (name === undefined) throw new Error('alerting: no receivers');
  return name;
}

function routeMatchers(route: Alerting['routes'][number]): Array<{ name: string; value: string }> {
  return [
    ...(route.severity !== undefined ? [{ name: L.severity, value: route.severity }] : []),
    ...(route.team !== undefined ? [{ name: L.team, value: route.team }] : []),
  ];
}

// ------------------------------------------------------------------ AlertmanagerConfig

function amcMatcher(name: string, value: string, matchType: '=' | '=~' = '='): IMatcher {
  return { name, value, matchType };
}

function amcReceiver(receiver: ReceiverEntry): IReceiver {
  if (receiver.pagerduty !== undefined) {
    const { name, key } = receiver.pagerduty.routingKey;
    return {
      name: receiver.name,
      pagerdutyConfigs: [
        { routingKey: { name, key }, sendResolved: true, severity: PAGERDUTY_SEVERITY },
      ],
    };
  }
  if (receiver.slack !== undefined) {
    const { name, key } = receiver.slack.webhookUrl;
    return {
      name: receiver.name,
      slackConfigs: [
        {
          apiURL: { name, key },
          ...(receiver.slack.channel !== undefined && { channel: receiver.slack.channel }),
          sendResolved: true,
          title: SLACK_TITLE,
          text: SLACK_TEXT,
        },
      ],
    };
  }
  throw new Error(`alerting.receivers: ${receiver.name} has neither pagerduty nor slack`);
}

/** The AlertmanagerConfig spec, or undefined when the inventory defines no receivers. */
export function alertmanagerConfigSpec(
  alerting: Alerting,
  multiCluster = false,
): IAlertmanagerConfigSpec | undefined {
  if (alerting.receivers.length === 0) return undefined;
  const route: IRoute = {
    receiver: defaultReceiver(alerting),
    groupBy: [...alerting.groupBy],
    groupWait: alerting.groupWait,
    groupInterval: alerting.groupInterval,
    repeatInterval: alerting.repeatInterval,
    matchers: [amcMatcher(L.alertname, alertnameRegex(multiCluster), '=~')],
    routes: alerting.routes.map((child) => ({
      receiver: child.receiver,
      matchers: routeMatchers(child).map((m) => amcMatcher(m.name, m.value)),
      continue: child.continue,
    })),
  };
  return {
    route,
    receivers: alerting.receivers.map(amcReceiver),
    inhibitRules: [
      {
        sourceMatch: [amcMatcher(L.severity, INHIBIT.source)],
        targetMatch: [amcMatcher(L.severity, INHIBIT.target)],
        equal: [...INHIBIT_EQUAL],
      },
    ],
  };
}

// ------------------------------------------------------------------ plain alertmanager.yml fragment

export interface PlainRoute {
  receiver: string;
  matchers?: string[];
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  continue?: boolean;
  routes?: PlainRoute[];
}

export interface PlainReceiver {
  name: string;
  pagerduty_configs?: Array<{ routing_key_file: string; send_resolved: boolean; severity: string }>;
  slack_configs?: Array<{
    api_url_file: string;
    channel?: string;
    send_resolved: boolean;
    title: string;
    text: string;
  }>;
}

export interface PlainInhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal: string[];
}

/** To merge into alertmanager.yml: `route` under the root route's `routes`, the lists appended. */
export interface PlainAlertmanagerFragment {
  route: PlainRoute;
  receivers: PlainReceiver[];
  inhibit_rules: PlainInhibitRule[];
}

function plainMatcher(name: string, value: string, op: '=' | '=~' = '='): string {
  return `${name}${op}${JSON.stringify(value)}`;
}

/** The name the operator gives a receiver of our AlertmanagerConfig. */
export function operatorReceiverName(namespace: string, receiver: string): string {
  return `${namespace}/${ALERTMANAGER_CONFIG_NAME}/${receiver}`;
}

function plainReceiver(
  namespace: string,
  secretsDir: string,
  receiver: ReceiverEntry,
): PlainReceiver {
  const name = operatorReceiverName(namespace, receiver.name);
  if (receiver.pagerduty !== undefined) {
    const ref = receiver.pagerduty.routingKey;
    return {
      name,
      pagerduty_configs: [
        {
          routing_key_file: `${secretsDir}/${ref.name}/${ref.key}`,
          send_resolved: true,
          severity: PAGERDUTY_SEVERITY,
        },
      ],
    };
  }
  if (receiver.slack !== undefined) {
    const ref = receiver.slack.webhookUrl;
    return {
      name,
      slack_configs: [
        {
          api_url_file: `${secretsDir}/${ref.name}/${ref.key}`,
          ...(receiver.slack.channel !== undefined && { channel: receiver.slack.channel }),
          send_resolved: true,
          title: SLACK_TITLE,
          text: SLACK_TEXT,
        },
      ],
    };
  }
  throw new Error(`alerting.receivers: ${receiver.name} has neither pagerduty nor slack`);
}

/**
 * The plain fragment, or undefined without receivers. `secretsDir` is where each referenced Secret
 * is mounted as a directory of files (`<secretsDir>/<secret name>/<key>`).
 */
export function plainAlertmanagerFragment(
  alerting: Alerting,
  namespace: string,
  secretsDir = DEFAULT_SECRETS_DIR,
  multiCluster = false,
): PlainAlertmanagerFragment | undefined {
  if (alerting.receivers.length === 0) return undefined;
  const nsMatcher = plainMatcher(L.namespace, namespace);
  return {
    route: {
      receiver: operatorReceiverName(namespace, defaultReceiver(alerting)),
      matchers: [nsMatcher, plainMatcher(L.alertname, alertnameRegex(multiCluster), '=~')],
      group_by: [...alerting.groupBy],
      group_wait: alerting.groupWait,
      group_interval: alerting.groupInterval,
      repeat_interval: alerting.repeatInterval,
      routes: alerting.routes.map((child) => ({
        receiver: operatorReceiverName(namespace, child.receiver),
        matchers: routeMatchers(child).map((m) => plainMatcher(m.name, m.value)),
        continue: child.continue,
      })),
    },
    receivers: alerting.receivers.map((receiver) => plainReceiver(namespace, secretsDir, receiver)),
    inhibit_rules: [
      {
        source_matchers: [nsMatcher, plainMatcher(L.severity, INHIBIT.source)],
        target_matchers: [nsMatcher, plainMatcher(L.severity, INHIBIT.target)],
        equal: [...INHIBIT_EQUAL],
      },
    ],
  };
}
