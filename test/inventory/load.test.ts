import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  formatIssue,
  formatPath,
  InventoryError,
  loadInventory,
  parseInventory,
} from '../../src/inventory/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'copa-fleet-inventory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(run: () => unknown): InventoryError {
  try {
    run();
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('no InventoryError');
}

describe('parseInventory: valid input', () => {
  it('the minimal inventory of the issue gets every documented default', () => {
    const inventory = parseInventory(
      'images:\n  - ref: registry.example.com/myapp:1.4.2\n',
      'inventory.yaml',
    );
    expect(inventory.images).toEqual([{ ref: 'registry.example.com/myapp:1.4.2', enabled: true }]);
    expect(inventory.defaults).toMatchObject({
      namespace: 'copa-fleet',
      team: 'platform',
      schedule: { window: { start: '01:00', end: '05:00' }, timeZone: 'Etc/UTC' },
      sla: { critical: 24, high: 168 },
      copa: { version: '0.14.2', timeout: '20m' },
      registryCredentialsSecret: 'copa-registry-credentials',
      pushgateway: { deploy: true },
      job: {
        activeDeadlineSeconds: 3600,
        startingDeadlineSeconds: 1800,
        backoffLimit: 0,
        ttlSecondsAfterFinished: 172800,
      },
    });
    expect(inventory.defaults.resources.scan).toEqual({
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { cpu: '1', memory: '2Gi' },
    });
    expect(Object.keys(inventory.defaults.resources).sort()).toEqual([
      'buildkit',
      'collector',
      'exporter',
      'patch',
      'pushgateway',
      'scan',
    ]);
    expect(inventory.alerting).toMatchObject({
      receivers: [],
      routes: [],
      groupBy: ['alertname', 'image', 'team'],
      groupWait: '30s',
      repeatInterval: '4h',
    });
    expect(inventory.prometheus).toEqual({
      ruleLabels: { release: 'kube-prometheus-stack' },
      serviceMonitorLabels: { release: 'kube-prometheus-stack' },
      clusterLabel: 'cluster',
      missingRunGraceHours: 2,
      selectors: {},
    });
    expect(inventory.grafana).toEqual({ dashboardLabels: { grafana_dashboard: '1' } });
    expect(inventory.trivyOperator).toEqual({});
    expect(inventory.dependencyTrack).toBeUndefined();
  });

  it('an SLA override replaces only the severities it names (buildFleet merges it with defaults.sla)', () => {
    const inventory = parseInventory(
      'images:\n  - ref: nginx:1.27\n    sla: {critical: 12}\n',
      'inventory.yaml',
    );
    expect(inventory.images[0]?.sla).toEqual({ critical: 12 });
  });

  it('accepts YAML anchors and aliases, the $schema key, comments, and a byte-order mark', () => {
    const text = [
      '\uFEFF# comment',
      '$schema: ./inventory.schema.json',
      'images:',
      '  - ref: nginx:1.27',
      '    sla: &strict {critical: 8, high: 72}',
      '  - ref: redis:7',
      '    sla: *strict',
      '',
    ].join('\n');
    const inventory = parseInventory(text, 'inventory.yaml');
    expect(inventory.images.map((i) => i.sla)).toEqual([
      { critical: 8, high: 72 },
      { critical: 8, high: 72 },
    ]);
  });

  it.each([
    '0 2 * * *',
    '*/15 * * * *',
    '30 1 * * mon-fri',
    '0 0 1,15 * *',
    '0 3 ? JAN-MAR SUN',
    '5-55/10 0-6/2 1-31 * 0-6',
  ])('accepts the Kubernetes cron %j', (schedule) => {
    expect(
      parseInventory(`images:\n  - ref: nginx:1.27\n    schedule: "${schedule}"\n`, 'i.yaml')
        .images[0]?.schedule,
    ).toBe(schedule);
  });
});

describe('parseInventory: errors', () => {
  it.each([
    ['an empty file', ''],
    ['only whitespace', '\n\n   \n'],
    ['a bare document marker', '---\n'],
    ['a null document', '~\n'],
  ])('%s is the "empty" error at 1:1', (_, text) => {
    const error = errorOf(() => parseInventory(text, 'inventory.yaml'));
    expect(error.issues).toEqual([
      {
        file: 'inventory.yaml',
        line: 1,
        column: 1,
        path: '',
        message:
          'the inventory is empty: expected a map with at least an "images" list (see docs/inventory.md)',
      },
    ]);
  });

  it('a scalar document says what it got', () => {
    expect(errorOf(() => parseInventory('nginx:1.27\n', 'i.yaml')).message).toBe(
      'i.yaml:1:1: the top level must be a map (key: value) with at least an "images" list, got the string "nginx:1.27"',
    );
  });

  it('a missing `images` points at the top-level map and a typo next to it gets a suggestion', () => {
    const error = errorOf(() =>
      parseInventory('defaults:\n  team: web\nimage:\n  - ref: nginx\n', 'i.yaml'),
    );
    expect(error.message).toBe(
      [
        'i.yaml:1:1: images: is required (expected a list)',
        'i.yaml:3:1: image: unknown key; did you mean "images"?',
      ].join('\n'),
    );
  });

  it('several YAML syntax errors are all reported, each located, and nothing is validated', () => {
    const error = errorOf(() =>
      parseInventory('images:\n  - ref: "nginx\n\tteam: web\n', 'i.yaml'),
    );
    expect(error.issues.length).toBeGreaterThanOrEqual(1);
    for (const issue of error.issues) {
      expect(issue.path).toBe('');
      expect(issue.line).toBeGreaterThan(0);
      expect(issue.message).toMatch(/^YAML syntax error: /);
    }
  });

  it('an InventoryError is an Error whose message formats every issue', () => {
    const error = errorOf(() => parseInventory('images: {}\n', 'fleet.yaml'));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InventoryError');
    expect(error.message).toBe(error.issues.map(formatIssue).join('\n'));
  });
});

describe('loadInventory', () => {
  it('reads and validates a file', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'images:\n  - ref: ghcr.io/example-org/tool:1.0.0\n');
    expect((await loadInventory(file)).images[0]?.ref).toBe('ghcr.io/example-org/tool:1.0.0');
  });

  it('names the file in every issue', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'images:\n  - ref: nginx\n    enabled: 1\n');
    await expect(loadInventory(file)).rejects.toThrow(
      `${file}:3:14: images[0].enabled: expected true or false, got the number 1`,
    );
  });

  it.each([
    ['a missing file', () => join(dir, 'absent.yaml'), 'cannot read the inventory: no such file'],
    ['a directory', () => dir, 'cannot read the inventory: it is a directory'],
  ])('%s is an InventoryError without a position', async (_, path, message) => {
    const file = path();
    const error = await loadInventory(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InventoryError);
    expect((error as InventoryError).issues).toEqual([
      { file, line: 0, column: 0, path: '', message },
    ]);
    expect((error as InventoryError).message).toBe(`${file}: ${message}`);
  });
});

describe('formatPath and formatIssue', () => {
  it.each([
    [[], ''],
    [['images', 3, 'schedule'], 'images[3].schedule'],
    [['defaults', 'sla', 'critical'], 'defaults.sla.critical'],
    [
      ['prometheus', 'ruleLabels', 'app.kubernetes.io/name'],
      'prometheus.ruleLabels["app.kubernetes.io/name"]',
    ],
    [['$schema'], '$schema'],
  ])('%j -> %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });

  it('formats the example of the API', () => {
    expect(
      formatIssue({
        file: 'inventory.yaml',
        line: 12,
        column: 7,
        path: 'images[3].schedule',
        message: 'is not a valid cron expression (got "61 * * * *")',
      }),
    ).toBe(
      'inventory.yaml:12:7: images[3].schedule: is not a valid cron expression (got "61 * * * *")',
    );
  });
});
