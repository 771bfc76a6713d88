#!/usr/bin/env node
// `npm run build:cli`: bundles the CLI (src/cli/main.ts and everything it imports, dependencies
// included) into build/cli/copa-fleet.mjs with esbuild. bin/copa-fleet runs this bundle when it is
// newer than every source it was built from, and the TypeScript sources through tsx otherwise, so
// the CLI works right after `npm ci` without a build. The bundle only saves start-up time: loading
// ~1,000 modules through tsx's loader hooks costs about 2 s per process, the bundle a fraction.
import { build } from 'esbuild';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_BUNDLE = join(root, 'build', 'cli', 'copa-fleet.mjs');

// Bundled CommonJS dependencies call require() for Node built-ins; ESM output needs a real require.
const banner =
  "import { createRequire as __copaFleetCreateRequire } from 'node:module';\nconst require = __copaFleetCreateRequire(import.meta.url);";

export async function buildCli() {
  await build({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    outfile: CLI_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minifyWhitespace: true,
    banner: { js: banner },
    logLevel: 'warning',
    legalComments: 'none',
  });
  console.log(`built ${relative(process.cwd(), CLI_BUNDLE)}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildCli().catch((error) => {
    console.error(`build:cli failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
