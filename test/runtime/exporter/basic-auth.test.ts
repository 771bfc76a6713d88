/** Reading a mounted basic-auth Secret into an Authorization header (runtime/exporter/basic-auth.ts), and the flags that carry its path. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuthHeaders } from '../../../runtime/exporter/basic-auth.ts';
import { collectorArgs, parseCollectorArgs } from '../../../src/shared/contract.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'copa-fleet-basic-auth-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function secretDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  return dir;
}

const decoded = (headers: Record<string, string>) =>
  Buffer.from((headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');

describe('basicAuthHeaders', () => {
  it('sends nothing when authentication is off', async () => {
    expect(await basicAuthHeaders(undefined)).toEqual({});
  });

  it('joins user and password with one colon; a trailing newline of the file is not part of the value', async () => {
    const dir = await secretDir('ok', { username: 'copa-exporter\n', password: 'p:a ss\n' });
    const headers = await basicAuthHeaders(dir);
    expect(headers.authorization).toMatch(/^Basic /);
    expect(decoded(headers)).toBe('copa-exporter:p:a ss');
  });

  it('names the file that is missing, empty, or a user name with a colon', async () => {
    await expect(basicAuthHeaders(await secretDir('nouser', { password: 'x' }))).rejects.toThrow(
      /nouser\/username: ENOENT/,
    );
    await expect(
      basicAuthHeaders(await secretDir('empty', { username: 'u', password: '\n' })),
    ).rejects.toThrow(/empty\/password is empty/);
    await expect(
      basicAuthHeaders(await secretDir('colon', { username: 'a:b', password: 'x' })),
    ).rejects.toThrow(/must not contain ":"/);
  });

  it('reads the files on every call: a rotated Secret is used without a restart', async () => {
    const dir = await secretDir('rotate', { username: 'u', password: 'old' });
    expect(decoded(await basicAuthHeaders(dir))).toBe('u:old');
    await writeFile(join(dir, 'password'), 'new');
    expect(decoded(await basicAuthHeaders(dir))).toBe('u:new');
  });
});

describe("the collector's --pushgateway-credentials-dir", () => {
  it('round-trips, and is refused without a Pushgateway URL', () => {
    const options = {
      namespace: 'ns',
      inventoryConfigMap: 'i',
      digestStore: 'd',
      stateConfigMap: 's',
      port: 9464,
      pushgatewayUrl: 'http://pg:9091',
      pushgatewayCleanupGraceSeconds: 60,
      pushgatewayCredentialsDir: '/creds',
    };
    expect(parseCollectorArgs(collectorArgs(options))).toEqual(options);
    expect(() =>
      parseCollectorArgs(['--namespace', 'ns', '--pushgateway-credentials-dir', '/creds']),
    ).toThrow('--pushgateway-credentials-dir needs --pushgateway-url');
  });
});
