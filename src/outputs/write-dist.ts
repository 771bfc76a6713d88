/**
 * Writes the output directory as a whole: every file goes to a fresh sibling temp directory
 * first, which then replaces the old directory by renames on the same filesystem. A failure at
 * any point leaves the previous directory as it was and removes the temp directory. (POSIX has no
 * atomic exchange of two directories, so there is an instant between the two renames where the
 * path does not exist; a crash exactly there leaves the previous output in `.<name>.old-*`.)
 *
 * Files are written one at a time as the iterable yields them, and a streamed file chunk by chunk
 * as it renders, so the whole output never has to be in memory; a render error part-way is a
 * failure like any other.
 *
 * The output directory is owned by synth: files in it that synth did not write are removed.
 */
import { chmod, lstat, mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { FileToWrite } from './output-file.ts';

const DIRECTORY_MODE = 0o755;
/** Streamed chunks are gathered into writes of about this many characters (few system calls, little memory). */
const WRITE_BATCH = 1 << 16;

/** The output path cannot be used (exists and is not a directory). */
export class OutputDirError extends Error {
  override readonly name = 'OutputDirError';
}

export async function writeOutputDir(
  outDir: string,
  files: Iterable<FileToWrite> | AsyncIterable<FileToWrite>,
): Promise<void> {
  const target = resolve(outDir);
  const parent = dirname(target);
  const name = basename(target);
  if (target === parent || isWithin(process.cwd(), target)) {
    throw new OutputDirError(
      `refusing to use ${outDir} as the output directory: synth replaces it as a whole, and it contains the current directory`,
    );
  }
  const existing = await kindOf(target);
  if (existing === 'other') throw new OutputDirError(`${outDir} exists and is not a directory`);

  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${name}.tmp-`));
  try {
    // mkdtemp creates 0700; the output is an ordinary directory.
    await chmod(staging, DIRECTORY_MODE);
    for await (const file of files) {
      const path = join(staging, ...file.path.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeNewFile(path, file);
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }

  if (existing === 'missing') {
    await renameOrCleanUp(staging, target);
    return;
  }
  const previous = await mkdtemp(join(parent, `.${name}.old-`));
  try {
    // rename() cannot replace a non-empty directory: move the old one aside into an empty placeholder.
    await rename(target, join(previous, name));
  } catch (error) {
    await rm(previous, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  try {
    await rename(staging, target);
  } catch (error) {
    await rename(join(previous, name), target);
    await rm(previous, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  await rm(previous, { recursive: true, force: true });
}

/** Creates `path` (it must not exist) with the file's content. */
async function writeNewFile(path: string, file: FileToWrite): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    if ('content' in file) {
      await handle.writeFile(file.content);
      return;
    }
    let pending = '';
    for (const chunk of file.chunks) {
      pending += chunk;
      if (pending.length >= WRITE_BATCH) {
        // writeFile on a handle writes at the current position and retries partial writes.
        await handle.writeFile(pending);
        pending = '';
      }
    }
    if (pending !== '') await handle.writeFile(pending);
  } finally {
    await handle.close();
  }
}

async function renameOrCleanUp(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    await rm(from, { recursive: true, force: true });
    throw error;
  }
}

async function kindOf(path: string): Promise<'missing' | 'directory' | 'other'> {
  try {
    return (await lstat(path)).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

/** True when `path` is `dir` or inside it. */
export function isWithin(path: string, dir: string): boolean {
  const child = resolve(path);
  const parent = resolve(dir);
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : `${parent}${sep}`);
}
