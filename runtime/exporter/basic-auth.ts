/**
 * The Pushgateway credential, read from a mounted kubernetes.io/basic-auth Secret (files
 * `username` and `password`, src/shared/contract.ts PUSHGATEWAY_CREDENTIALS_DIR) into an
 * `Authorization: Basic` header. Read on every use, not once: the kubelet updates a mounted Secret
 * in place, so a rotated password is picked up by a long-running collector without a restart.
 * Shared by the exporter (pushes) and the collector (cleanup).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASIC_AUTH_KEYS } from '../../src/shared/contract.ts';

/** Request headers carrying the credential in `dir`; none without a directory (authentication off). */
export async function basicAuthHeaders(dir: string | undefined): Promise<Record<string, string>> {
  if (dir === undefined) return {};
  const read = async (key: string): Promise<string> => {
    const file = join(dir, key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(
        `cannot read the Pushgateway credential ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        { cause: error },
      );
    }
    // `kubectl create secret --from-file` keeps an editor's trailing newline; htpasswd hashed the password without it.
    const value = text.replace(/\r?\n$/, '');
    if (value === '') throw new Error(`the Pushgateway credential ${file} is empty`);
    return value;
  };
  const username = await read(BASIC_AUTH_KEYS.username);
  const password = await read(BASIC_AUTH_KEYS.password);
  // RFC 7617: user-id and password joined by one colon; a colon in the user-id would be ambiguous.
  if (username.includes(':'))
    throw new Error(
      `the Pushgateway user name in ${join(dir, BASIC_AUTH_KEYS.username)} must not contain ":"`,
    );
  return {
    authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
  };
}
