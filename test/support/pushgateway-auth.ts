/**
 * Pushgateway credentials for tests, made the way docs/deploying.md#pushgateway-authentication
 * tells users to: bcrypt hashes from `htpasswd -nbBC 10` (apache2-utils) in an exporter-toolkit
 * web config, and one directory per client with the files `username` and `password`, as the
 * kubelet mounts a kubernetes.io/basic-auth Secret (src/constructs/basic-auth-volume.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const HTPASSWD = '/usr/bin/htpasswd';

export type PushgatewayClient = 'exporter' | 'collector' | 'prometheus';

export interface Credential {
  readonly username: string;
  readonly password: string;
  /** A directory holding `username` and `password` (the mounted Secret). */
  readonly dir: string;
  /** The `authorization` header value. */
  readonly header: string;
}

export interface PushgatewayAuthFixture {
  /** Holds everything below; remove it when done. */
  readonly root: string;
  /** The web config file (`--web.config.file`). */
  readonly webConfigFile: string;
  readonly clients: Readonly<Record<PushgatewayClient, Credential>>;
  /** A directory with a wrong password for the exporter's user. */
  readonly wrongDir: string;
}

export function requireHtpasswd(): void {
  if (!existsSync(HTPASSWD))
    throw new Error(
      `${HTPASSWD} is missing: install the Debian package apache2-utils (see .ci/run)`,
    );
}

/** `htpasswd -nbBC 10 user password` prints `user:$2y$10$…`; the hash is the part after the first colon. */
export function bcryptHash(username: string, password: string): string {
  const line = execFileSync(HTPASSWD, ['-nbBC', '10', username, password], {
    encoding: 'utf8',
  }).trim();
  return line.slice(line.indexOf(':') + 1);
}

export const basicAuthHeader = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

async function credentialDir(
  root: string,
  name: string,
  username: string,
  password: string,
): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  // As `kubectl create secret generic --from-file` often stores it: with a trailing newline.
  await writeFile(join(dir, 'username'), `${username}\n`);
  await writeFile(join(dir, 'password'), password);
  return dir;
}

export async function makePushgatewayAuth(): Promise<PushgatewayAuthFixture> {
  requireHtpasswd();
  const root = await mkdtemp(join(tmpdir(), 'copa-fleet-pushgateway-auth-'));
  const users: Record<PushgatewayClient, { username: string; password: string }> = {
    exporter: { username: 'copa-exporter', password: 'exporter-secret-1' },
    collector: { username: 'copa-collector', password: 'collector-secret-2' },
    prometheus: { username: 'prometheus', password: 'prometheus-secret-3' },
  };
  const webConfigFile = join(root, 'web-config.yml');
  const basicAuthUsers = Object.fromEntries(
    Object.values(users).map(({ username, password }) => [
      username,
      bcryptHash(username, password),
    ]),
  );
  await writeFile(webConfigFile, stringify({ basic_auth_users: basicAuthUsers }));
  const clients = {} as Record<PushgatewayClient, Credential>;
  for (const [client, { username, password }] of Object.entries(users) as [
    PushgatewayClient,
    { username: string; password: string },
  ][]) {
    clients[client] = {
      username,
      password,
      dir: await credentialDir(root, client, username, password),
      header: basicAuthHeader(username, password),
    };
  }
  const wrongDir = await credentialDir(root, 'wrong', users.exporter.username, 'not-the-password');
  return { root, webConfigFile, clients, wrongDir };
}
