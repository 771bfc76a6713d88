/** Reading a directory tree back in tests: every file under `dir`, relative path -> content. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export async function readTree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = await readFile(path, 'utf8');
  }
  return files;
}
