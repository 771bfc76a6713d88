import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runBin, runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'copa-fleet-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function inventory(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('copa-fleet validate', () => {
  it('prints a short summary of a valid inventory, exit 0, and writes nothing', async () => {
    const file = inventory(
      'ok.yaml',
      'images:\n  - ref: nginx:1.27\n  - ref: ghcr.io/acme/tool:2.0\n    team: tools\n  - ref: redis:7\n    enabled: false\n',
    );
    const before = readdirSync(dir);
    const result = await runCli('validate', '--inventory', file);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        `${file}: valid`,
        '  images:    2 enabled, 1 disabled (2 registries, 2 teams)',
        '  schedules: 2 spread over 01:00-05:00 Etc/UTC, 0 explicit',
        '  namespace: copa-fleet',
        '  alerting:  0 receivers, 0 routes',
        '',
      ].join('\n'),
    });
    expect(readdirSync(dir)).toEqual(before);
  });

  it('validates the example inventory.yaml by default (-i works too)', async () => {
    const cwd = process.cwd();
    process.chdir(REPO_ROOT);
    try {
      const result = await runCli('validate');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /^inventory\.yaml: valid\n {2}images: {4}12 enabled, 1 disabled/,
      );
      expect((await runCli('validate', '-i', 'inventory.yaml')).stdout).toBe(result.stdout);
    } finally {
      process.chdir(cwd);
    }
  });

  it('reports every error with file, line, column and path on stderr, exit 1', async () => {
    const file = inventory(
      'bad.yaml',
      'images:\n  - ref: nginx:1.25\n    schedule: "61 * * * *"\n  - ref: docker.io/library/nginx:1.25\n    scheudle: "0 2 * * *"\n',
    );
    const result = await runCli('validate', '--inventory', file);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        `${file}:3:15: images[0].schedule: is not a valid cron expression: minute 61 is out of range 0-59 (got "61 * * * *")`,
        `${file}:4:10: images[1].ref: duplicates images[0].ref: both normalise to "docker.io/library/nginx:1.25"`,
        `${file}:5:5: images[1].scheudle: unknown key; did you mean "schedule"?`,
        `${file}: 3 errors`,
        '',
      ].join('\n'),
    );
  });

  it('a missing file is exit 1 with one clear line', async () => {
    const result = await runCli('validate', '--inventory', join(dir, 'absent.yaml'));
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `${join(dir, 'absent.yaml')}: cannot read the inventory: no such file\n${join(dir, 'absent.yaml')}: 1 error\n`,
    });
  });

  it.each([
    [['extra.yaml'], /unexpected argument "extra.yaml" \(use --inventory FILE\)/],
    [['--inventory'], /Option '-i, --inventory <value>' argument missing/],
    [['--inventory', ''], /--inventory needs a file name/],
    [['--out', 'dist'], /Unknown option '--out'/],
  ])('usage error %j: exit 2 with the usage', async (args, message) => {
    const result = await runCli('validate', ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: copa-fleet validate [--inventory FILE]');
  });

  it('--help documents the options and exit codes', async () => {
    const result = await runCli('validate', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '-i, --inventory FILE  Inventory to check (default: inventory.yaml)',
    );
    expect(result.stdout).toContain('Exit status: 0 valid, 1 invalid inventory, 2 usage error.');
  });

  it('as a subprocess: located errors on stderr, exit 1, no stack trace', async () => {
    const file = inventory('sub.yaml', 'images:\n  - ref: Nginx\n');
    const result = await runBin(['validate', '--inventory', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `${file}:2:10: images[0].ref: is not a valid image reference: repository name must be lower-case ("Nginx")\n${file}: 1 error\n`,
    );
  });
});
