/**
 * Every generated file reads the same in YAML 1.1 (kubectl's go-yaml, PyYAML) as synth meant it:
 * parsed with `yaml` in `version: '1.1'` mode (and with PyYAML and kubectl itself, real 1.1
 * readers, when installed), each `*.k8s.yaml` yields exactly the objects of its chart and every
 * other file exactly its YAML 1.2 reading. For the committed dist/ of the example inventory, and for a
 * property-based corpus of inventories whose names, teams, namespaces, labels, tags, channels,
 * folder and groupBy are the words YAML 1.1 reads as booleans, null, numbers, timestamps or tags.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadInventory } from '../../src/inventory/load.ts';
import { type InventoryInput, inventorySchema } from '../../src/inventory/schema.ts';
import { buildFleet, type Fleet } from '../../src/model/fleet.ts';
import { misreadBy11 } from '../../src/outputs/yaml.ts';
import { manifestObjects, renderFleet } from '../../src/synth/render.ts';
import { readTree } from '../support/file-tree.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function documents(content: string, version: '1.1' | '1.2'): unknown[] {
  return parseAllDocuments(content, { version }).map((document) => {
    if (document.errors.length > 0)
      throw new Error(document.errors.map((e) => e.message).join('; '));
    const value: unknown = document.toJS();
    return value;
  });
}

/** Per file, what synth meant: the chart's objects for a manifest, the JSON or YAML 1.2 reading otherwise. */
function meant(fleet: Fleet, files: Record<string, string>): Record<string, unknown[]> {
  const result: Record<string, unknown[]> = {};
  for (const [path, content] of Object.entries(files))
    result[path] = path.endsWith('.json') ? [JSON.parse(content)] : documents(content, '1.2');
  for (const { path, objects } of manifestObjects(fleet)) result[path] = objects;
  return result;
}

/** Every file as YAML 1.1 reads it (a `.json` file too: JSON is YAML). */
function readAs11(files: Record<string, string>): Record<string, unknown[]> {
  return Object.fromEntries(
    Object.entries(files).map(([path, content]) => [path, documents(content, '1.1')]),
  );
}

/** Same JSON shape: `toJS` keeps no class instances for these files, and a misread value shows up as a differing type. */
const plain = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      v instanceof Date ? `Date(${v.toISOString()})` : v,
    ),
  );

const YAML_1_1_WORDS = [
  'y',
  'Y',
  'n',
  'N',
  'yes',
  'Yes',
  'YES',
  'no',
  'No',
  'NO',
  'on',
  'On',
  'ON',
  'off',
  'Off',
  'OFF',
  'yEs',
  'oN',
  'true',
  'True',
  'false',
  'FALSE',
  'null',
  'Null',
  'NULL',
  '~',
  '=',
  '<<',
  '0o17',
  '0x1F',
  '0x1f',
  '0b101',
  '017',
  '1_000',
  '685_230.15',
  '1:20',
  '190:20:30.15',
  '.inf',
  '-.Inf',
  '.NaN',
  '1e3',
  'e0',
  '2001-12-14',
] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const LABEL_KEY = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const CHANNEL = /^#?[a-z0-9._-]+$/;
const wordsMatching = (pattern: RegExp) => YAML_1_1_WORDS.filter((word) => pattern.test(word));
const dnsWords = [
  ...new Set(
    YAML_1_1_WORDS.map((word) => word.toLowerCase()).filter((word) => DNS_LABEL.test(word)),
  ),
];
const dnsWord = fc.constantFrom(...dnsWords);
const tagWord = fc.constantFrom(...wordsMatching(TAG));
const labelWord = fc.constantFrom(...wordsMatching(LABEL_KEY));
const anyWord = fc.constantFrom(...YAML_1_1_WORDS);
const labelMap = fc.dictionary(labelWord, labelWord, { minKeys: 1, maxKeys: 3 });

/** Inventories valid by the real schema, every free-text field drawn from the words. */
const inventories: fc.Arbitrary<InventoryInput> = fc
  .record({
    namespace: dnsWord,
    team: dnsWord,
    images: fc.uniqueArray(
      fc.record({
        org: dnsWord,
        repo: dnsWord,
        tag: tagWord,
        team: fc.option(dnsWord, { nil: undefined }),
        patchedTag: fc.option(tagWord, { nil: undefined }),
      }),
      {
        minLength: 1,
        maxLength: 3,
        selector: (image) => `${image.org}/${image.repo}`,
      },
    ),
    receivers: fc.uniqueArray(dnsWord, { minLength: 1, maxLength: 2 }),
    channel: fc.constantFrom(...wordsMatching(CHANNEL)),
    routeTeam: dnsWord,
    groupBy: fc.uniqueArray(anyWord, { minLength: 1, maxLength: 3 }),
    ruleLabels: labelMap,
    serviceMonitorLabels: labelMap,
    dashboardLabels: labelMap,
    trivyLabels: labelMap,
    folder: anyWord,
  })
  .map((v) => ({
    defaults: { namespace: v.namespace, team: v.team },
    images: v.images.map((image) => ({
      ref: `registry.example.com/${image.org}/${image.repo}:${image.tag}`,
      ...(image.team !== undefined && { team: image.team }),
      ...(image.patchedTag !== undefined && { patchedTag: image.patchedTag }),
    })),
    alerting: {
      receivers: v.receivers.map((name) => ({
        name,
        slack: { webhookUrl: { name: 'slack', key: 'url' }, channel: v.channel },
      })),
      routes: [{ receiver: v.receivers[0] as string, team: v.routeTeam }],
      groupBy: v.groupBy,
    },
    prometheus: { ruleLabels: v.ruleLabels, serviceMonitorLabels: v.serviceMonitorLabels },
    grafana: { dashboardLabels: v.dashboardLabels, folder: v.folder },
    trivyOperator: { serviceMonitorLabels: v.trivyLabels },
  }));

/** PyYAML's reading of each file as JSON, or undefined when python3 with PyYAML is not installed. */
function readWithPyYaml(files: Record<string, string>): Record<string, unknown[]> | undefined {
  const script = [
    'import json, sys, yaml',
    'files = json.load(sys.stdin)',
    'print(json.dumps({path: list(yaml.safe_load_all(text)) for path, text in files.items()}, default=lambda v: "%s(%s)" % (type(v).__name__, v)))',
  ].join('\n');
  try {
    execFileSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return JSON.parse(
    execFileSync('python3', ['-c', script], {
      input: JSON.stringify(files),
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    }),
  ) as Record<string, unknown[]>;
}

const KUBECTL_PROBE_LABEL = 'copa-fleet.dev/yaml-check';

/**
 * kubectl's own reading of each manifest (sigs.k8s.io/yaml over go-yaml v2), offline: `kubectl
 * label --local -o json` decodes the file and prints every object with one label added, which is
 * removed again here. Undefined when kubectl is not installed.
 */
function readWithKubectl(files: Record<string, string>): Record<string, unknown[]> | undefined {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const result: Record<string, unknown[]> = {};
  for (const [path, content] of Object.entries(files)) {
    if (!path.endsWith('.k8s.yaml')) continue;
    const out = execFileSync(
      'kubectl',
      ['label', '--local', '-f', '-', '-o', 'json', `${KUBECTL_PROBE_LABEL}=1`],
      { input: content, encoding: 'utf8', maxBuffer: 1 << 28 },
    );
    result[path] = out.split(/(?<=^\})\n(?=\{)/m).map((text) => {
      const object = JSON.parse(text) as { metadata: { labels: Record<string, string> } };
      delete object.metadata.labels[KUBECTL_PROBE_LABEL];
      return object;
    });
  }
  return result;
}

const manifestsOnly = (files: Record<string, unknown[]>): Record<string, unknown[]> =>
  Object.fromEntries(Object.entries(files).filter(([path]) => path.endsWith('.k8s.yaml')));

describe('YAML 1.1 readers read every generated file as synth meant it', () => {
  it('the committed dist/ of the example inventory, with yaml in 1.1 mode', async () => {
    const fleet = buildFleet(await loadInventory(join(ROOT, 'inventory.yaml')));
    const files = await readTree(join(ROOT, 'dist'));
    expect(Object.keys(files).length).toBeGreaterThan(5);
    expect(plain(readAs11(files))).toEqual(plain(meant(fleet, files)));
    // The case that PyYAML could not read at all before: AlertmanagerConfig matchers.
    expect(files['observability.k8s.yaml']).toContain('matchType: "="');
  });

  const pyYaml = readWithPyYaml({ probe: 'a: 1' });
  it.skipIf(pyYaml === undefined)(
    'the committed dist/ of the example inventory, with PyYAML (skipped without python3-yaml)',
    async () => {
      const fleet = buildFleet(await loadInventory(join(ROOT, 'inventory.yaml')));
      const files = await readTree(join(ROOT, 'dist'));
      expect(readWithPyYaml(files)).toEqual(plain(meant(fleet, files)));
    },
  );

  const kubectl = readWithKubectl({});
  it.skipIf(kubectl === undefined)(
    'the committed dist/ of the example inventory, with kubectl (skipped without kubectl)',
    async () => {
      const fleet = buildFleet(await loadInventory(join(ROOT, 'inventory.yaml')));
      const files = await readTree(join(ROOT, 'dist'));
      expect(readWithKubectl(files)).toEqual(plain(manifestsOnly(meant(fleet, files))));
    },
  );

  it.skipIf(kubectl === undefined)(
    'inventories of YAML 1.1 words, with kubectl (skipped without kubectl)',
    () => {
      for (const input of fc.sample(inventories, { numRuns: 2, seed: 7 })) {
        const fleet = buildFleet(inventorySchema.parse(input));
        const files = Object.fromEntries(
          renderFleet(fleet).map((file) => [file.path, file.content]),
        );
        expect(readWithKubectl(files)).toEqual(plain(manifestsOnly(meant(fleet, files))));
      }
    },
  );

  it('a corpus of inventories made of YAML 1.1 words, with yaml in 1.1 mode', () => {
    let sample: Record<string, string> | undefined;
    fc.assert(
      fc.property(inventories, (input) => {
        const fleet = buildFleet(inventorySchema.parse(input));
        const files = Object.fromEntries(
          renderFleet(fleet).map((file) => [file.path, file.content]),
        );
        expect(plain(readAs11(files))).toEqual(plain(meant(fleet, files)));
        sample ??= files;
      }),
      { numRuns: 12 },
    );
    // The corpus does reach the outputs with the words (the namespace lands in every namespaced object).
    expect(sample?.['copa-jobs.k8s.yaml']).toMatch(/\n {2}namespace: "[-a-z0-9]+"\n/);
  });

  it.skipIf(pyYaml === undefined)(
    'an inventory of YAML 1.1 words, with PyYAML (skipped without python3-yaml)',
    () => {
      const [input] = fc.sample(inventories, { numRuns: 1, seed: 11 });
      const fleet = buildFleet(inventorySchema.parse(input));
      const files = Object.fromEntries(renderFleet(fleet).map((file) => [file.path, file.content]));
      expect(readWithPyYaml(files)).toEqual(plain(meant(fleet, files)));
    },
  );

  it('the namespace "no" and the team "yes" of the report come out quoted', () => {
    const fleet = buildFleet(
      inventorySchema.parse({
        defaults: { namespace: 'no', team: 'yes' },
        images: [{ ref: 'nginx:on' }],
      }),
    );
    const files = Object.fromEntries(renderFleet(fleet).map((file) => [file.path, file.content]));
    expect(files['copa-jobs.k8s.yaml']).toContain('namespace: "no"');
    expect(files['copa-jobs.k8s.yaml']).toContain('copa-fleet.dev/team: "yes"');
    expect(plain(readAs11(files))).toEqual(plain(meant(fleet, files)));
  });
});

describe('misreadBy11', () => {
  it('flags what YAML 1.1 reads as another type, and leaves ordinary strings alone', () => {
    for (const word of YAML_1_1_WORDS)
      expect(misreadBy11(word) || documents(word, '1.2')[0] !== word, word).toBe(true);
    for (const word of [
      'nginx',
      'copa-fleet',
      'yess',
      'nope',
      'one',
      '1.27.3-patched',
      'v1.8.2',
      'a=b',
      'x<<y',
      'two\nlines',
    ])
      expect(misreadBy11(word), word).toBe(false);
  });
});
