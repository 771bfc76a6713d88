/**
 * `copa-fleet drift`: the offline audit. From a Pod dump and the patched-digest map it lists every
 * running container whose digest is not the latest patched digest of its image, with the same
 * functions the drift collector uses (src/shared/drift.ts), so the two can never disagree.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatPath } from '../../inventory/load.ts';
import { inventoryErrorMap } from '../../inventory/issue-messages.ts';
import { type DriftRow, findDrift, type PodLike, runningContainers } from '../../shared/drift.ts';
import { normalizeDigest, parseImageRef } from '../../shared/image-ref.ts';
import { type Command, EXIT, UsageError } from '../command.ts';
import { fileErrorReason } from '../../support/file-errors.ts';

export const DRIFT_FORMATS = ['table', 'json'] as const;
export type DriftFormat = (typeof DRIFT_FORMATS)[number];

const USAGE = `Usage: copa-fleet drift --pods FILE --patched FILE [--format table|json]

Lists every container that is running (state.running) a digest other than the latest patched
digest of its image: namespace, pod, container, image (normalised), running digest, patched
digest. The running digest comes from the container's imageID, as the drift collector reads it.
Images absent from --patched are not reported. Native sidecars (running init containers) count.

Options:
  --pods FILE        Output of \`kubectl get pods -A -o json\` (a List, or one Pod); "-" reads stdin
  --patched FILE     JSON object from image to its latest patched digest, e.g.
                       {"registry.example.com/myapp": "sha256:<64 hex>"}
                     The image in any form that normalises to the same repository (tags and
                     digests in the key are ignored); the digest with or without "sha256:"
  --format FORMAT    table (default) or json: an array of objects with the keys namespace, pod,
                     container, image, runningDigest, patchedDigest, sorted by namespace, pod,
                     container
  -h, --help         Show this help

Exit status: 0 whether or not drift is found, 1 unreadable or malformed input, 2 usage error.
`;

/** Problems with the input files: printed one per line, exit 1. */
class InputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

export const driftCommand: Command = {
  name: 'drift',
  summary: 'list running containers whose digest is not the latest patched digest (offline audit)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        pods: { type: 'string' },
        patched: { type: 'string' },
        format: { type: 'string', default: 'table' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.pods === undefined) throw new UsageError('--pods FILE is required');
    if (values.patched === undefined) throw new UsageError('--patched FILE is required');
    const format = values.format;
    if (!isFormat(format))
      throw new UsageError(`--format must be one of ${DRIFT_FORMATS.join(', ')} (got "${format}")`);
    if (values.pods === '-' && values.patched === '-')
      throw new UsageError('only one of --pods and --patched can read stdin');

    try {
      const [pods, patched] = await Promise.all([
        readPods(values.pods),
        readPatched(values.patched),
      ]);
      const containers = pods.flatMap((pod) => runningContainers(pod));
      const rows = findDrift(containers, patched);
      if (format === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else io.stdout(renderTable(rows, containers.filter((c) => patched.has(c.image)).length));
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      io.stderr(error.problems.map((p) => `copa-fleet drift: ${p}\n`).join(''));
      return EXIT.invalid;
    }
  },
};

function isFormat(value: string): value is DriftFormat {
  return (DRIFT_FORMATS as readonly string[]).includes(value);
}

// --- --pods -------------------------------------------------------------------------------

const containerStatusSchema = z.looseObject({
  name: z.string(),
  image: z.string().optional(),
  imageID: z.string().optional(),
  state: z.looseObject({ running: z.unknown().optional() }).optional(),
});
const podSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  status: z
    .looseObject({
      containerStatuses: z.array(containerStatusSchema).optional(),
      initContainerStatuses: z.array(containerStatusSchema).optional(),
    })
    .optional(),
});
const podListSchema = z.looseObject({ items: z.array(podSchema) });
const singlePodSchema = podSchema.extend({ kind: z.literal('Pod') });

const MAX_PROBLEMS_SHOWN = 10;

async function readPods(file: string): Promise<PodLike[]> {
  const what = `--pods ${file === '-' ? 'stdin' : `"${file}"`}`;
  const data = parseJson(await readText(file, what), what);
  if (
    typeof data !== 'object' ||
    data === null ||
    Array.isArray(data) ||
    !('items' in data || 'kind' in data)
  ) {
    throw new InputError([
      `${what}: expected the output of \`kubectl get pods -A -o json\` (an object with an "items" list, or one Pod)`,
    ]);
  }
  if ('items' in data) return validated(podListSchema, data, what).items;
  if ('kind' in data && data.kind !== 'Pod') {
    throw new InputError([
      `${what}: expected Pods (a List, or one Pod), got kind ${JSON.stringify(data.kind)}`,
    ]);
  }
  return [validated(singlePodSchema, data, what)];
}

function validated<T extends z.ZodType>(schema: T, data: unknown, what: string): z.output<T> {
  const result = schema.safeParse(data, { error: inventoryErrorMap });
  if (result.success) return result.data;
  throw new InputError(
    limit(
      result.error.issues.map(
        (issue) => `${what}: ${formatPath(issue.path) || 'top level'}: ${issue.message}`,
      ),
    ),
  );
}

// --- --patched ----------------------------------------------------------------------------

/** Normalised repository -> `sha256:` digest. */
async function readPatched(file: string): Promise<Map<string, string>> {
  const what = `--patched ${file === '-' ? 'stdin' : `"${file}"`}`;
  const data = parseJson(await readText(file, what), what);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InputError([
      `${what}: expected a JSON object from image to patched digest, e.g. {"registry.example.com/myapp": "sha256:…"}`,
    ]);
  }
  const problems: string[] = [];
  const patched = new Map<string, string>();
  const keyOf = new Map<string, string>();
  for (const [key, value] of Object.entries(data)) {
    const ref = parseImageRef(key);
    if (!ref.ok) {
      problems.push(
        `${what}: key ${JSON.stringify(key)} is not a valid image reference: ${ref.reason}`,
      );
      continue;
    }
    const digest = typeof value === 'string' ? normalizeDigest(value) : undefined;
    if (digest === undefined) {
      const found =
        typeof value === 'string'
          ? JSON.stringify(value)
          : (JSON.stringify(value) ?? String(value));
      problems.push(
        `${what}: ${JSON.stringify(key)}: invalid digest ${found} (expected "sha256:" and 64 hex characters, or the 64 hex characters alone)`,
      );
      continue;
    }
    const image = ref.ref.name;
    const previous = patched.get(image);
    if (previous !== undefined && previous !== digest) {
      problems.push(
        `${what}: ${JSON.stringify(keyOf.get(image))} and ${JSON.stringify(key)} both name ${image} but give different digests`,
      );
      continue;
    }
    patched.set(image, digest);
    keyOf.set(image, key);
  }
  if (problems.length > 0) throw new InputError(limit(problems));
  return patched;
}

// --- shared input handling ------------------------------------------------------------------

async function readText(file: string, what: string): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError([`cannot read ${what}: ${fileErrorReason(error)}`]);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, what: string): unknown {
  if (text.trim() === '') throw new InputError([`${what}: the file is empty (expected JSON)`]);
  try {
    // PowerShell redirection writes a byte-order mark that JSON.parse rejects.
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (error) {
    throw new InputError([`${what}: not valid JSON: ${(error as Error).message}`]);
  }
}

function limit(problems: readonly string[]): string[] {
  if (problems.length <= MAX_PROBLEMS_SHOWN) return [...problems];
  return [
    ...problems.slice(0, MAX_PROBLEMS_SHOWN),
    `… and ${problems.length - MAX_PROBLEMS_SHOWN} more problems`,
  ];
}

// --- output -----------------------------------------------------------------------------------

const COLUMNS: ReadonlyArray<readonly [string, keyof DriftRow]> = [
  ['NAMESPACE', 'namespace'],
  ['POD', 'pod'],
  ['CONTAINER', 'container'],
  ['IMAGE', 'image'],
  ['RUNNING DIGEST', 'runningDigest'],
  ['PATCHED DIGEST', 'patchedDigest'],
];

/** kubectl-style columns, then one summary line. `checked`: running containers of patched images. */
export function renderTable(rows: readonly DriftRow[], checked: number): string {
  const noun = checked === 1 ? 'container' : 'containers';
  if (rows.length === 0) {
    return `No drift: all ${checked} running ${noun} of patched images run their latest patched digest.\n`;
  }
  const cells = [
    COLUMNS.map(([header]) => header),
    ...rows.map((row) => COLUMNS.map(([, key]) => row[key])),
  ];
  const widths = COLUMNS.map((_, column) =>
    Math.max(...cells.map((line) => line[column]?.length ?? 0)),
  );
  const lines = cells.map((line) =>
    line
      .map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('   '),
  );
  return `${lines.join('\n')}\n\n${rows.length} of ${checked} running ${noun} of patched images run a digest other than the latest patched one.\n`;
}
