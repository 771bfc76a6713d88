/**
 * Generated benchmark fixtures (scripts, not committed blobs): inventories of any size with the
 * registry mix of a real fleet.
 */
import { stringify } from 'yaml';

const REGISTRIES = [
  '',
  'docker.io/bitnami/',
  'ghcr.io/acme/',
  'registry.example.com/platform/',
  'registry.internal.example.com:5000/team-a/',
  'quay.io/org/',
];
const TEAMS = ['payments', 'search', 'identity', 'platform', 'data'];

/** An inventory YAML text with `count` distinct images. */
export function inventoryYaml(count: number): string {
  const images = Array.from({ length: count }, (_, i) => {
    const registry = REGISTRIES[i % REGISTRIES.length] ?? '';
    const entry: Record<string, unknown> = {
      ref: `${registry}service-${i}:1.${i % 17}.${i % 5}`,
      team: TEAMS[i % TEAMS.length],
    };
    if (i % 10 === 0) entry.sla = { critical: 12 };
    if (i % 25 === 0) entry.schedule = `${i % 60} 3 * * *`;
    return entry;
  });
  return stringify({
    images,
    alerting: {
      receivers: [
        { name: 'pager', pagerduty: { routingKey: { name: 'pagerduty', key: 'routing-key' } } },
        { name: 'slack', slack: { webhookUrl: { name: 'slack', key: 'webhook-url' } } },
      ],
      routes: [
        { receiver: 'pager', severity: 'critical' },
        { receiver: 'slack', severity: 'warning' },
      ],
    },
  });
}
