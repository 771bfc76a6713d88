/** The committed example inventory: valid, and the realistic fleet the issue asks for. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/load.ts';
import { buildFleet } from '../../src/model/fleet.ts';
import { normalizeImageRef } from '../../src/shared/image-ref.ts';

const text = readFileSync(new URL('../../inventory.yaml', import.meta.url), 'utf8');
const inventory = parseInventory(text, 'inventory.yaml');
const refs = inventory.images.map((image) => image.ref);

describe('inventory.yaml (the example fleet)', () => {
  it('carries two commented example exceptions that are valid when uncommented, and none in force', () => {
    expect(inventory.exceptions).toEqual([]);
    const uncommented = text.replace(/^# exceptions:$/m, 'exceptions:').replace(/^# {3}/gm, '  ');
    const fleet = buildFleet(parseInventory(uncommented, 'inventory.yaml'));
    expect(fleet.exceptions.map((e) => [e.vulnerability, e.scopes[0]?.kind])).toEqual([
      ['CVE-2024-45337', 'repository'],
      ['CVE-2025-0001', 'fleet'],
    ]);
  });

  it('points editors at the JSON Schema on its first line', () => {
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./inventory.schema.json');
  });

  it('is a dozen images across registries: Docker Hub short names, a port, ghcr.io, a private registry', () => {
    expect(inventory.images.length).toBeGreaterThanOrEqual(12);
    const registries = new Set(refs.map((ref) => normalizeImageRef(ref).registry));
    expect(registries).toContain('docker.io');
    expect(registries).toContain('ghcr.io');
    expect(registries).toContain('registry.example.com');
    expect([...registries].some((r) => /:\d+$/.test(r))).toBe(true);
    expect(refs.filter((ref) => !ref.includes('/')).length).toBeGreaterThanOrEqual(3);
  });

  it('shows the optional features: explicit schedules, SLA overrides, a disabled entry, several teams', () => {
    expect(inventory.images.filter((i) => i.schedule !== undefined).length).toBeGreaterThanOrEqual(
      1,
    );
    expect(inventory.images.filter((i) => i.sla !== undefined).length).toBeGreaterThanOrEqual(1);
    expect(inventory.images.filter((i) => !i.enabled)).toHaveLength(1);
    expect(
      new Set(inventory.images.map((i) => i.team ?? inventory.defaults.team)).size,
    ).toBeGreaterThanOrEqual(3);
  });

  it('routes alerts by severity and team to PagerDuty and Slack receivers that reference Secrets', () => {
    const { receivers, routes } = inventory.alerting;
    expect(receivers.some((r) => r.pagerduty !== undefined)).toBe(true);
    expect(receivers.some((r) => r.slack !== undefined)).toBe(true);
    expect(routes.some((r) => r.severity !== undefined)).toBe(true);
    expect(routes.some((r) => r.team !== undefined)).toBe(true);
    expect(text).not.toMatch(/hooks\.slack\.com|https:\/\/events\.pagerduty/);
  });

  it('configures Prometheus and Grafana selectors and Dependency-Track', () => {
    expect(inventory.prometheus.ruleLabels).toEqual({ release: 'kube-prometheus-stack' });
    expect(inventory.grafana.dashboardLabels).toEqual({ grafana_dashboard: '1' });
    expect(inventory.dependencyTrack?.apiKey).toEqual({ name: 'dependency-track', key: 'api-key' });
  });

  it('builds a fleet of the enabled images', () => {
    const fleet = buildFleet(inventory);
    expect(fleet.images).toHaveLength(inventory.images.length - 1);
    expect(fleet.images.map((i) => i.image)).toContain('registry.example.com/identity/keycloak');
  });
});
