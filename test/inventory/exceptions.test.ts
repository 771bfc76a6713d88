/**
 * Exceptions in the inventory: every scope form resolves to normalised scopes, OpenVEX files are
 * imported with the file entry's owner, ticket and expiry, problems in them are located at the
 * `exceptionFiles` entry, and the result does not depend on the inventory's order.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { formatIssue, InventoryError, parseInventory } from '../../src/inventory/load.ts';
import { buildFleet } from '../../src/model/fleet.ts';
import { collectorInventory } from '../../src/constructs/collector-inventory.ts';
import { isExceptionInForce, scopeCovers } from '../../src/shared/exceptions.ts';
import { runCli } from '../cli/helpers.ts';
import { parseInventory as parseCollectorInventory } from '../../runtime/collector/inventory.ts';

const dir = mkdtempSync(join(tmpdir(), 'copa-fleet-exceptions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const IMAGES = `images:
  - ref: nginx:1.27.3
  - ref: ghcr.io/acme/api:2.0
    patchedTag: 2.0-copa
    slaScope: all
`;

const exception = (id: string, images: string, extra = '') => `  - id: ${id}
    images: ${images}
    reason: accepted_risk
    statement: reviewed
    owner: web-team
    ticket: SEC-1
    approved: "2026-11-01"
    expires: "2026-12-15"
${extra}`;

describe('exceptions in the inventory', () => {
  it('resolves a repository, a tag (with its patched tag) and the whole fleet, normalised and sorted', () => {
    const text = `${IMAGES}exceptions:\n${exception('CVE-2024-0003', '["*"]')}${exception('CVE-2024-0001', '[ghcr.io/acme/api:2.0]')}${exception('CVE-2024-0002', '[nginx]')}`;
    const fleet = buildFleet(parseInventory(text, 'inventory.yaml'));
    expect(fleet.exceptions.map((e) => [e.key, e.scopes, e.source])).toEqual([
      [
        'CVE-2024-0001@ghcr.io/acme/api:2.0',
        [{ kind: 'tag', image: 'ghcr.io/acme/api', tags: ['2.0', '2.0-copa'] }],
        'inventory',
      ],
      [
        'CVE-2024-0002@docker.io/library/nginx',
        [{ kind: 'repository', image: 'docker.io/library/nginx' }],
        'inventory',
      ],
      ['CVE-2024-0003@*', [{ kind: 'fleet' }], 'inventory'],
    ]);
    const [tag, repository, fleetWide] = fleet.exceptions.map((e) => e.scopes[0]!);
    expect(scopeCovers(tag!, 'ghcr.io/acme/api', '2.0-copa')).toBe(true);
    expect(scopeCovers(tag!, 'ghcr.io/acme/api', '1.9')).toBe(false);
    expect(scopeCovers(repository!, 'docker.io/library/nginx', undefined)).toBe(true);
    expect(scopeCovers(repository!, 'ghcr.io/acme/api', '2.0')).toBe(false);
    expect(scopeCovers(fleetWide!, 'anything', undefined)).toBe(true);
  });

  it("hands the exceptions and each image's SLA scope to the collector, the same under reordering", () => {
    const a = `${IMAGES}exceptions:\n${exception('CVE-2024-0001', '[nginx]')}${exception('CVE-2024-0002', '["*"]')}`;
    const b = `images:\n  - ref: ghcr.io/acme/api:2.0\n    patchedTag: 2.0-copa\n    slaScope: all\n  - ref: nginx:1.27.3\nexceptions:\n${exception('CVE-2024-0002', '["*"]')}${exception('CVE-2024-0001', '[nginx]')}`;
    const inventoryA = collectorInventory(buildFleet(parseInventory(a, 'a.yaml')));
    expect(collectorInventory(buildFleet(parseInventory(b, 'b.yaml')))).toEqual(inventoryA);
    expect(inventoryA.images.map((image) => [image.image, image.slaScope])).toEqual(
      expect.arrayContaining([
        ['docker.io/library/nginx', 'fixable'],
        ['ghcr.io/acme/api', 'all'],
      ]),
    );
    expect(inventoryA.exceptions.map((e) => e.vulnerability)).toEqual([
      'CVE-2024-0001',
      'CVE-2024-0002',
    ]);
  });

  it('is in force from 00:00 UTC of the approval date until 00:00 UTC of the expiry date', () => {
    const dates = { approved: '2026-11-01', expires: '2026-12-15' };
    expect(isExceptionInForce(dates, new Date('2026-10-31T23:59:59Z'))).toBe(false);
    expect(isExceptionInForce(dates, new Date('2026-11-01T00:00:00Z'))).toBe(true);
    expect(isExceptionInForce(dates, new Date('2026-12-14T23:59:59Z'))).toBe(true);
    expect(isExceptionInForce(dates, new Date('2026-12-15T00:00:00Z'))).toBe(false);
  });
});

describe('exceptionFiles: OpenVEX import', () => {
  const vex = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    statements: [
      {
        vulnerability: { name: 'CVE-2023-44487' },
        products: [
          {
            '@id':
              'pkg:oci/nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000?repository_url=docker.io/library/nginx',
          },
        ],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
        impact_statement: 'HTTP/2 is disabled',
      },
      // v0.0.x spelling: the vulnerability and the products as plain strings; a tag scope.
      {
        vulnerability: 'GHSA-vp9c-fpxx-744v',
        products: ['ghcr.io/acme/api:2.0'],
        status: 'not_affected',
      },
      // Not an exception: fixed and affected statements are evidence, not acceptances.
      {
        vulnerability: { name: 'CVE-2023-1111' },
        products: [{ '@id': 'docker.io/library/nginx' }],
        status: 'fixed',
      },
      // Names none of our images: a vendor file covers many products.
      {
        vulnerability: { name: 'CVE-2023-2222' },
        products: [{ '@id': 'pkg:oci/other?repository_url=quay.io/vendor/other' }],
        status: 'not_affected',
      },
    ],
  };
  const fileEntry = (path: string) =>
    `exceptionFiles:\n  - path: ${path}\n    owner: security\n    ticket: SEC-9\n    approved: "2026-11-01"\n    expires: "2027-01-15"\n`;

  it("imports the not_affected statements that name inventoried images, with the entry's owner, ticket and expiry", () => {
    write('vendor.vex.json', JSON.stringify(vex));
    const fleet = buildFleet(
      parseInventory(`${IMAGES}${fileEntry('vendor.vex.json')}`, join(dir, 'inventory.yaml')),
    );
    expect(fleet.exceptions).toEqual([
      {
        key: 'CVE-2023-44487@docker.io/library/nginx',
        vulnerability: 'CVE-2023-44487',
        scopes: [{ kind: 'repository', image: 'docker.io/library/nginx' }],
        reason: 'not_affected',
        statement: 'vulnerable_code_not_in_execute_path: HTTP/2 is disabled',
        owner: 'security',
        ticket: 'SEC-9',
        approved: '2026-11-01',
        expires: '2027-01-15',
        source: 'vendor.vex.json#statements[0]',
      },
      expect.objectContaining({
        key: 'GHSA-vp9c-fpxx-744v@ghcr.io/acme/api:2.0',
        scopes: [{ kind: 'tag', image: 'ghcr.io/acme/api', tags: ['2.0', '2.0-copa'] }],
        statement: 'OpenVEX status not_affected',
        source: 'vendor.vex.json#statements[1]',
      }),
    ]);
  });

  it('keeps the exception keys unique when an inline entry and a statement accept the same vulnerability for the same image', () => {
    write('same.vex.json', JSON.stringify({ statements: [vex.statements[0]] }));
    const text = `${IMAGES}exceptions:\n${exception('CVE-2023-44487', '[nginx]')}${fileEntry('same.vex.json')}`;
    const fleet = buildFleet(parseInventory(text, join(dir, 'inventory.yaml')));
    expect(fleet.exceptions.map((e) => [e.key, e.source])).toEqual([
      ['CVE-2023-44487@docker.io/library/nginx', 'inventory'],
      [
        'CVE-2023-44487@docker.io/library/nginx#same.vex.json#statements[0]',
        'same.vex.json#statements[0]',
      ],
    ]);
    // The collector takes both (it refuses an inventory whose exception keys repeat).
    const parsed = parseCollectorInventory(collectorInventory(fleet));
    expect(parsed.ok && parsed.inventory.exceptions.size).toBe(2);
  });

  it.each([
    ['missing.vex.json', undefined, 'cannot read missing.vex.json: no such file'],
    [
      'broken.vex.json',
      '{"statements": [',
      'broken.vex.json is not JSON: Unexpected end of JSON input',
    ],
    [
      'not-vex.json',
      '{"document": 1}',
      'not-vex.json is not an OpenVEX document: it has no "statements" list',
    ],
    [
      'bad-id.vex.json',
      JSON.stringify({
        statements: [
          { vulnerability: { name: 'log4shell' }, products: ['nginx'], status: 'not_affected' },
        ],
      }),
      'bad-id.vex.json: statements[0]: vulnerability "log4shell" is not a CVE or GHSA id',
    ],
    [
      'unrelated.vex.json',
      JSON.stringify({ statements: [vex.statements[3]] }),
      'unrelated.vex.json imports nothing: no "not_affected" statement names an image of the inventory',
    ],
  ])('%s: a located error at the exceptionFiles entry', (name, content, message) => {
    if (content !== undefined) write(name, content);
    const file = join(dir, 'inventory.yaml');
    const text = `${IMAGES}${fileEntry(name)}`;
    expect(() => parseInventory(text, file)).toThrow(InventoryError);
    try {
      parseInventory(text, file);
    } catch (error) {
      expect((error as InventoryError).issues.map(formatIssue)).toEqual([
        `${file}:7:11: exceptionFiles[0].path: ${message}`,
      ]);
    }
  });
});

describe('copa-fleet validate and exceptions', () => {
  it('warns on stderr about exceptions that have expired or expire within 14 days, and stays valid', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-05T12:00:00Z'));
    const text = `${IMAGES}exceptions:\n${exception('CVE-2024-0001', '[nginx]')}${exception('CVE-2024-0002', '[nginx]').replace('2026-12-15', '2026-12-01')}${exception('CVE-2024-0003', '[nginx]').replace('2026-12-15', '2027-01-20')}`;
    const file = write('warn.yaml', text);
    const result = await runCli('validate', '--inventory', file);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  exceptions: 3 (2 in force today)\n');
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      `${file}: warning: exception CVE-2024-0001 for docker.io/library/nginx (owner web-team, ticket SEC-1, inventory) expires on 2026-12-15, in 10 days`,
      `${file}: warning: exception CVE-2024-0002 for docker.io/library/nginx (owner web-team, ticket SEC-1, inventory) expired on 2026-12-01: its SLA breaches count again; renew it after review or remove it`,
    ]);
  });
});
