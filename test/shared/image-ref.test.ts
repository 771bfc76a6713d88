import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatImageRef,
  type ImageRef,
  InvalidImageRefError,
  normalizeDigest,
  normalizeImageRef,
  parseImageRef,
  repositoryOf,
} from '../../src/shared/image-ref.ts';

const HEX = 'a3f1c9e0b7d2468f5a3f1c9e0b7d2468f5a3f1c9e0b7d2468f5a3f1c9e0b7d24';
const DIGEST = `sha256:${HEX}`;

function normalized(input: string): string {
  return formatImageRef(normalizeImageRef(input));
}

function reason(input: string): string {
  const result = parseImageRef(input);
  if (result.ok)
    throw new Error(
      `expected ${JSON.stringify(input)} to be rejected, got ${formatImageRef(result.ref)}`,
    );
  return result.reason;
}

describe('the examples of the generator issue', () => {
  it.each([
    ['nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['nginx', 'docker.io/library/nginx'],
    [`docker-pullable://nginx@${DIGEST}`, `docker.io/library/nginx@${DIGEST}`],
    ['registry.example.com:443/app:v1', 'registry.example.com/app:v1'],
    ['index.docker.io/library/redis:7', 'docker.io/library/redis:7'],
  ])('%s -> %s', (input, expected) => {
    expect(normalized(input)).toBe(expected);
  });
});

describe('distribution/reference normalisation', () => {
  it.each([
    ['library/nginx', 'docker.io/library/nginx'],
    ['docker.io/nginx', 'docker.io/library/nginx'],
    ['docker.io:443/nginx', 'docker.io/library/nginx'],
    ['index.docker.io/nginx:latest', 'docker.io/library/nginx:latest'],
    ['bitnami/redis:7.4', 'docker.io/bitnami/redis:7.4'],
    ['docker.io/bitnami/redis', 'docker.io/bitnami/redis'],
    ['localhost/app', 'localhost/app'],
    ['localhost:5000/team/app:v2', 'localhost:5000/team/app:v2'],
    ['LOCALHOST/app', 'localhost/app'],
    ['Registry.Example.COM/app', 'registry.example.com/app'],
    ['registry.example.com:5000/a/b/c:1.0', 'registry.example.com:5000/a/b/c:1.0'],
    ['[::1]:5000/app', '[::1]:5000/app'],
    ['[2001:DB8::1]:443/app', '[2001:db8::1]/app'],
    ['ghcr.io/example-org/tool:v1.2.3-rc.1', 'ghcr.io/example-org/tool:v1.2.3-rc.1'],
    ['quay.io/prometheus/node-exporter:v1.8.2', 'quay.io/prometheus/node-exporter:v1.8.2'],
    ['foo__bar/baz---qux.x_y:TAG_1', 'docker.io/foo__bar/baz---qux.x_y:TAG_1'],
    [`nginx:1.25@${DIGEST}`, `docker.io/library/nginx:1.25@${DIGEST}`],
    [`docker://registry.example.com:443/app@${DIGEST}`, `registry.example.com/app@${DIGEST}`],
    // A dotless host keeps :443: without it, `myregistry/app` would read as a Docker Hub repository.
    ['myregistry:443/app', 'myregistry:443/app'],
    [`app:${'t'.repeat(128)}`, `docker.io/library/app:${'t'.repeat(128)}`],
  ])('%s -> %s', (input, expected) => {
    expect(normalized(input)).toBe(expected);
  });

  it('splits registry, path, name, tag and digest', () => {
    expect(normalizeImageRef(`Registry.Example.com:443/team/app:1.4.2@${DIGEST}`)).toEqual({
      registry: 'registry.example.com',
      path: 'team/app',
      name: 'registry.example.com/team/app',
      tag: '1.4.2',
      digest: DIGEST,
    });
    expect(normalizeImageRef('nginx')).toEqual({
      registry: 'docker.io',
      path: 'library/nginx',
      name: 'docker.io/library/nginx',
    });
  });

  it.each([
    ['', /empty/],
    [' nginx', /whitespace/],
    ['nginx\n', /whitespace/],
    ['Nginx', /lower-case/],
    ['team/App', /lower-case/],
    ['UPPER/app', /neither a registry host/],
    ['nginx:', /invalid tag ""/],
    ['nginx:-1', /invalid tag "-1"/],
    [`nginx:${'t'.repeat(129)}`, /invalid tag/],
    ['nginx:1 2', /invalid tag/],
    ['nginx@sha256:abc', /invalid digest/],
    [`nginx@sha256:${HEX.toUpperCase()}`, /invalid sha256 digest/],
    [`nginx@${HEX}`, /invalid digest/],
    [DIGEST, /bare digest/],
    [`docker-pullable://${DIGEST}`, /bare digest/],
    [':1.25', /missing repository name/],
    ['registry.example.com/', /missing repository path/],
    ['/nginx', /./],
    ['nginx/', /empty path component/],
    ['a//b', /empty path component/],
    ['foo..bar', /invalid path component/],
    ['foo___bar', /invalid path component/],
    ['-foo', /invalid path component/],
    ['my_registry.example.com/app', /invalid registry host/],
    ['registry.example.com:99999/app', /invalid registry port/],
    ['registry.example.com:port/app', /invalid registry port/],
    ['[::1/app', /invalid registry host/],
    ['héllo', /invalid path component/],
    [`registry.example.com/${'a'.repeat(250)}`, /longer than 255/],
  ])('rejects %j with a reason', (input, expected) => {
    expect(reason(input)).toMatch(expected);
  });

  it('normalizeImageRef throws an error naming the input and the reason', () => {
    expect(() => normalizeImageRef('Nginx:1')).toThrow(InvalidImageRefError);
    expect(() => normalizeImageRef('Nginx:1')).toThrow(
      'invalid image reference "Nginx:1": repository name must be lower-case ("Nginx")',
    );
  });

  it('repositoryOf gives the `image` label of any form, or undefined', () => {
    expect(repositoryOf('nginx:1.25')).toBe('docker.io/library/nginx');
    expect(repositoryOf(`docker-pullable://nginx@${DIGEST}`)).toBe('docker.io/library/nginx');
    expect(repositoryOf('registry.example.com:443/app:v1')).toBe('registry.example.com/app');
    expect(repositoryOf('Not A Ref')).toBeUndefined();
  });

  it.each([
    [DIGEST, DIGEST],
    [HEX, DIGEST],
    [`SHA256:${HEX.toUpperCase()}`, DIGEST],
    [`  ${DIGEST}\n`, DIGEST],
    [HEX.slice(1), undefined],
    [`${HEX}0`, undefined],
    [`sha512:${HEX}${HEX}`, undefined],
    [`sha256:${HEX.slice(0, 63)}g`, undefined],
    ['', undefined],
  ])('normalizeDigest(%j) is %j', (input, expected) => {
    expect(normalizeDigest(input)).toBe(expected);
  });
});

// --- properties ---------------------------------------------------------------------------

/** Characters references are made of, plus some that break them: finds edge cases fast. */
const refAlphabet = fc.constantFrom(
  ...'abcxyzABZ019:/@.-_[]#+ é'.split(''),
  'docker-pullable://',
  'sha256:',
  HEX.slice(0, 32),
  'localhost',
  '443',
);
const refLike = fc.array(refAlphabet, { maxLength: 24 }).map((parts) => parts.join(''));
const anyString = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), refLike);

const lowerAlnum = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const separator = fc.constantFrom('.', '_', '__', '-', '--');
const pathComponent = fc
  .tuple(lowerAlnum, fc.array(fc.tuple(separator, lowerAlnum), { maxLength: 2 }))
  .map(([head, tail]) => head + tail.map(([sep, part]) => sep + part).join(''));
const domainLabel = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?$/);
const port = fc.constantFrom(undefined, '443', '5000', '8443');

interface Parts {
  /** As written: undefined means Docker Hub implied. */
  readonly registry: string | undefined;
  readonly path: readonly string[];
  readonly tag: string | undefined;
  readonly digest: string | undefined;
  readonly prefix: string;
}

const registryArb = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'docker.io',
    'index.docker.io',
    'Docker.IO',
    'docker.io:443',
    'localhost',
    'LocalHost:5000',
    '[::1]',
    '[fd00::a]:443',
  ),
  fc
    .tuple(fc.array(domainLabel, { minLength: 2, maxLength: 3 }), port)
    .map(([labels, p]) => `${labels.join('.')}${p === undefined ? '' : `:${p}`}`),
  fc
    .tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), fc.constantFrom('443', '5000'))
    .map(([host, p]) => `${host}:${p}`),
);

const partsArb: fc.Arbitrary<Parts> = fc
  .record({
    registry: registryArb,
    path: fc.array(pathComponent, { minLength: 1, maxLength: 3 }),
    tag: fc.option(fc.stringMatching(/^[\w][\w.-]{0,15}$/), { nil: undefined }),
    digest: fc.option(
      fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`),
      { nil: undefined },
    ),
    prefix: fc.constantFrom('', 'docker-pullable://', 'docker://'),
  })
  // Without a registry, a first component with a "." reads as a host (distribution's rule), which
  // is another reference: covered by the examples above, not by this generator.
  .filter((parts) => parts.registry !== undefined || !(parts.path[0] ?? '').includes('.'));

function written(parts: Parts): string {
  const registry = parts.registry === undefined ? '' : `${parts.registry}/`;
  const tag = parts.tag === undefined ? '' : `:${parts.tag}`;
  const digest = parts.digest === undefined ? '' : `@${parts.digest}`;
  return `${parts.prefix}${registry}${parts.path.join('/')}${tag}${digest}`;
}

/** The normalisation rules, stated independently of the implementation. */
function expectedRef(parts: Parts): ImageRef {
  let registry = (parts.registry ?? 'docker.io').toLowerCase();
  const [host = registry, p] = registry.startsWith('[')
    ? [registry.slice(0, registry.indexOf(']') + 1), registry.split(']:')[1]]
    : registry.split(':');
  const readsAsRegistry = host.includes('.') || host === 'localhost' || host.startsWith('[');
  if (p === '443' && readsAsRegistry) registry = host;
  if (registry === 'index.docker.io') registry = 'docker.io';
  const path =
    registry === 'docker.io' && parts.path.length === 1
      ? `library/${parts.path[0]}`
      : parts.path.join('/');
  return {
    registry,
    path,
    name: `${registry}/${path}`,
    ...(parts.tag !== undefined && { tag: parts.tag }),
    ...(parts.digest !== undefined && { digest: parts.digest }),
  };
}

describe('properties (fast-check)', () => {
  it('never throws, whatever the string (unicode included), and always says why it rejects', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const result = parseImageRef(input);
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
        repositoryOf(input);
        normalizeDigest(input);
      }),
      { numRuns: 3000 },
    );
  });

  it('is idempotent: normalise(format(normalise(x))) == normalise(x)', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, partsArb.map(written)), (input) => {
        const first = parseImageRef(input);
        if (!first.ok) return;
        const again = parseImageRef(formatImageRef(first.ref));
        expect(again).toEqual(first);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips generated valid references: format -> parse gives the same parts', () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const result = parseImageRef(written(parts));
        expect(result).toEqual({ ok: true, ref: expectedRef(parts) });
        if (!result.ok) return;
        expect(parseImageRef(formatImageRef(result.ref))).toEqual(result);
        expect(repositoryOf(written(parts))).toBe(result.ref.name);
      }),
      { numRuns: 3000 },
    );
  });

  it('a canonical reference is printed back unchanged', () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const canonical = formatImageRef(expectedRef(parts));
        expect(formatImageRef(normalizeImageRef(canonical))).toBe(canonical);
      }),
      { numRuns: 1000 },
    );
  });
});
