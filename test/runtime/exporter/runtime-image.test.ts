/**
 * Static checks of runtime/Dockerfile (docker cannot build here) and of what build:runtime
 * produces for it: pinned bases, non-root user, a verified Copa download, and every file the
 * image copies from runtime/build/ present, at the paths RUNTIME_BIN names.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_BIN } from '../../../src/shared/contract.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DOCKERFILE = readFileSync(join(ROOT, 'runtime', 'Dockerfile'), 'utf8');
/** Instructions with line continuations joined, comments dropped. */
const INSTRUCTIONS = DOCKERFILE.replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const ARGS = new Map(
  INSTRUCTIONS.filter((l) => l.startsWith('ARG ')).flatMap((l) => {
    const m = /^ARG ([A-Z0-9_]+)(?:=(.*))?$/.exec(l);
    return m === null ? [] : [[m[1] as string, (m[2] ?? '').replace(/^"|"$/g, '')] as const];
  }),
);
const FROMS = INSTRUCTIONS.filter((l) => l.startsWith('FROM '));

describe('runtime/Dockerfile', () => {
  it('is multi-stage, and every base image is pinned to a version (tag, or a versioned distroless name)', () => {
    expect(FROMS.length).toBeGreaterThanOrEqual(3);
    const stages = new Set(FROMS.flatMap((l) => /\sAS\s+(\S+)/i.exec(l)?.[1] ?? []));
    for (const from of FROMS) {
      const image = (from.split(/\s+/)[1] ?? '').replace(
        /^\$\{(\w+)\}$/,
        (_, name: string) => ARGS.get(name) ?? '',
      );
      if (stages.has(image)) continue;
      expect(image, from).toMatch(/^[\w./-]+:[\w.-]+(@sha256:[a-f0-9]{64})?$/);
      expect(image, from).not.toMatch(/:latest$/);
      // node:24.11.1-…: a version tag. Distroless publishes no version tags: its name carries the
      // versions (nodejs24-debian12) and the digest pin is the comment's advice.
      expect(image, from).toMatch(
        /:\d+\.\d+\.\d+|^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot$/,
      );
    }
    expect(DOCKERFILE).toMatch(/pin both by digest/);
  });

  it('builds on Node 24 and runs on a distroless Node 24 image', () => {
    expect(ARGS.get('NODE_BUILD_IMAGE')).toMatch(/^node:24\.\d+\.\d+-/);
    expect(ARGS.get('RUNTIME_BASE_IMAGE')).toMatch(/^gcr\.io\/distroless\/nodejs24-debian\d+:/);
    expect(FROMS.at(-1)).toBe('FROM ${RUNTIME_BASE_IMAGE}');
  });

  it('runs as the non-root user 65532', () => {
    const users = INSTRUCTIONS.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toBe('USER 65532:65532');
    const lastUser = INSTRUCTIONS.lastIndexOf(users.at(-1) as string);
    expect(INSTRUCTIONS.slice(lastUser).some((l) => l.startsWith('RUN '))).toBe(false);
  });

  it('downloads the pinned Copa release and verifies its sha256 before unpacking it', () => {
    expect(ARGS.get('COPA_VERSION')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(ARGS.has('COPA_SHA256')).toBe(true);
    const download = INSTRUCTIONS.find((l) => l.includes('releases/download/v${COPA_VERSION}'));
    expect(download).toBeDefined();
    expect(download).toContain('tarball="copa_${COPA_VERSION}_linux_${TARGETARCH}.tar.gz"');
    // Always against the release's checksum file, and against the user's own pin when given.
    const published = download!.indexOf('checksums.txt | sha256sum -c -');
    const pinned = download!.indexOf('echo "${COPA_SHA256}  ${tarball}" | sha256sum -c -');
    expect(published).toBeGreaterThan(0);
    expect(pinned).toBeGreaterThan(published);
    expect(download!.indexOf('tar -x')).toBeGreaterThan(pinned);
    expect(DOCKERFILE).toContain(`/usr/local/bin/copa`);
    expect(RUNTIME_BIN.copa).toBe('/usr/local/bin/copa');
  });

  it("installs dependencies without the repository's prepare step (its sources are not in the build stage)", () => {
    const install = INSTRUCTIONS.find((l) => l.startsWith('RUN npm ci'));
    expect(install).toContain('--ignore-scripts');
    expect(INSTRUCTIONS.indexOf(install!)).toBeLessThan(
      INSTRUCTIONS.findIndex((l) => l.startsWith('COPY src/shared')),
    );
  });

  it('installs the launchers at the paths of RUNTIME_BIN', () => {
    const copies = INSTRUCTIONS.filter((l) => l.startsWith('COPY --from=build'));
    for (const bin of [RUNTIME_BIN.exporter, RUNTIME_BIN.collector]) {
      const name = bin.split('/').at(-1) as string;
      expect(
        copies.some(
          (c) => c.includes(`/src/runtime/build/bin/${name}`) && c.endsWith(' /app/bin/'),
        ),
        bin,
      ).toBe(true);
      expect(
        copies.some((c) => c.includes(`/src/runtime/build/${name}.mjs`) && c.endsWith(' /app/')),
        bin,
      ).toBe(true);
    }
  });

  // build:runtime runs before the tests (npm test); rebuilding here would race the suites that run the bundles.
  it('every file it copies from runtime/build/ exists after build:runtime, launchers executable', () => {
    const sources = INSTRUCTIONS.filter((l) => l.startsWith('COPY --from=build')).flatMap((l) =>
      l.split(/\s+/).filter((p) => p.startsWith('/src/runtime/build/')),
    );
    expect(sources.length).toBeGreaterThanOrEqual(6);
    for (const source of sources) {
      const local = join(ROOT, source.replace(/^\/src\//, ''));
      expect(existsSync(local), local).toBe(true);
      if (source.includes('/bin/')) {
        accessSync(local, constants.X_OK);
        expect(readFileSync(local, 'utf8').split('\n')[0]).toBe('#!/nodejs/bin/node');
      }
    }
  });
});
