import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runBin, runCli } from './helpers.ts';

const PODS_CONTAINERD = fixture('pods-containerd.json');
const PODS_DOCKER = fixture('pods-docker.json');
const PATCHED = fixture('patched.json');

const D = {
  nginxOld: 'sha256:ee999b9227bfebad2683499c9827337c6ec0a77848b43a429bf400c0d1f95350',
  nginxPatched: 'sha256:0bb816268861030d7e4975ed6b6337428a5f696fa0355dc17620135ec1eaa036',
  apiOld: 'sha256:d399067903e5fe9b002728c17a49bb31c57d01405748ecbbd4b7d3564f6e3d8c',
  apiPatched: 'sha256:d51a753ae49ce80f7a9fb8ba817c60524ca7ff86d71eeee6b8695b68e7a9c1af',
  envoyOld: 'sha256:097334284c7ff2e26a3421cdc4b7fd554c10b6bf234b48b0c4991f6d210d4cc1',
  envoyPatched: 'sha256:2da8aab0eda160e599babe05f12f2d42159fe363790157ecdf2fb718342d125c',
  keycloakOld: 'sha256:91678b0a2471ad0aef9b8ce20ff6636247f80e91200becd79b734a595429d4ec',
  keycloakPatched: 'sha256:647963c54ddeefbffe880d80bfd83b222ee4e31b37e91eb4371516ba0cefc29f',
  checkoutLocal: 'sha256:c5030d031bce1ff1007843bc751442414d6edb118f89527b2771664464fc17ec',
  checkoutPatched: 'sha256:4049d71dca34c37d623fdd78869d2ba4fa9ee31f56affbd8be815c898537b626',
};

const dir = mkdtempSync(join(tmpdir(), 'copa-fleet-drift-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `content` (a string as is, anything else as JSON) to a temp file and returns its path. */
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const runningPod = (imageID: string, name = 'p') => ({
  kind: 'Pod',
  metadata: { namespace: 'ns', name },
  status: { containerStatuses: [{ name: 'c', image: 'nginx:1', imageID, state: { running: {} } }] },
});

describe('copa-fleet drift --format json', () => {
  it('containerd dump: every stale running container, sorted by namespace, pod, container', async () => {
    const result = await runCli(
      'drift',
      '--pods',
      PODS_CONTAINERD,
      '--patched',
      PATCHED,
      '--format',
      'json',
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual([
      {
        namespace: 'identity',
        pod: 'keycloak-0',
        container: 'keycloak',
        image: 'registry.example.com/identity/keycloak',
        runningDigest: D.keycloakOld,
        patchedDigest: D.keycloakPatched,
      },
      {
        namespace: 'payments',
        pod: 'api-5f7c9d8b4-x2k9q',
        container: 'api',
        image: 'registry.internal.example.com:5000/payments/api',
        runningDigest: D.apiOld,
        patchedDigest: D.apiPatched,
      },
      {
        namespace: 'payments',
        pod: 'api-5f7c9d8b4-x2k9q',
        container: 'envoy',
        image: 'registry.example.com/platform/envoy',
        runningDigest: D.envoyOld,
        patchedDigest: D.envoyPatched,
      },
      {
        namespace: 'shop',
        pod: 'web-7d9f8b6c5-abcde',
        container: 'nginx',
        image: 'docker.io/library/nginx',
        runningDigest: D.nginxOld,
        patchedDigest: D.nginxPatched,
      },
    ]);
  });

  it('docker dump: docker-pullable:// short names and :443, bare docker:// image ids', async () => {
    const result = await runCli(
      'drift',
      '--pods',
      PODS_DOCKER,
      '--patched',
      PATCHED,
      '--format',
      'json',
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        namespace: 'legacy',
        pod: 'nginx-legacy-6b7d9c-8fj2k',
        container: 'nginx',
        image: 'docker.io/library/nginx',
        runningDigest: D.nginxOld,
        patchedDigest: D.nginxPatched,
      },
      {
        namespace: 'shop',
        pod: 'checkout-5d4c3b2a1-zz9yx',
        container: 'checkout',
        image: 'ghcr.io/example-org/checkout-web',
        runningDigest: D.checkoutLocal,
        patchedDigest: D.checkoutPatched,
      },
    ]);
  });

  it('prints exactly the documented keys, in order, and [] when nothing drifted', async () => {
    const result = await runCli(
      'drift',
      '--pods',
      PODS_CONTAINERD,
      '--patched',
      PATCHED,
      '--format',
      'json',
    );
    const rows = JSON.parse(result.stdout) as Record<string, unknown>[];
    for (const row of rows)
      expect(Object.keys(row)).toEqual([
        'namespace',
        'pod',
        'container',
        'image',
        'runningDigest',
        'patchedDigest',
      ]);
    const none = await runCli(
      'drift',
      '--pods',
      PODS_CONTAINERD,
      '--patched',
      file('none.json', {}),
      '--format',
      'json',
    );
    expect(none).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
  });

  it('normalises every --patched key and digest form the same way as the Pods', async () => {
    const forms = {
      'docker.io/library/nginx:1.27.3-patched': D.nginxPatched.slice('sha256:'.length),
      'index.docker.io/library/redis':
        'sha256:1e8554faa4c0830533a15e0ad834136725290f6658d164a12b0f2a6cd983b346',
      [`registry.internal.example.com:5000/payments/api@${D.apiPatched}`]:
        D.apiPatched.toUpperCase(),
      'Registry.Example.com:443/platform/envoy': ` ${D.envoyPatched} `,
      'registry.example.com/identity/keycloak:26.0.7': D.keycloakPatched,
    };
    const result = await runCli(
      'drift',
      '--pods',
      PODS_CONTAINERD,
      '--patched',
      file('forms.json', forms),
      '--format',
      'json',
    );
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as { pod: string; container: string }[];
    expect(rows.map((r) => `${r.pod}/${r.container}`)).toEqual([
      'keycloak-0/keycloak',
      'api-5f7c9d8b4-x2k9q/api',
      'api-5f7c9d8b4-x2k9q/envoy',
      'web-7d9f8b6c5-abcde/nginx',
    ]);
  });

  it('accepts a file with a byte-order mark', async () => {
    const result = await runCli(
      'drift',
      '--pods',
      file('bom.json', `\uFEFF${readFileSync(PODS_DOCKER, 'utf8')}`),
      '--patched',
      PATCHED,
      '--format',
      'json',
    );
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as unknown[]).length).toBe(2);
  });

  it('accepts a single Pod (`kubectl get pod NAME -o json`)', async () => {
    const result = await runCli(
      'drift',
      '--pods',
      file('one.json', runningPod(`nginx@${D.nginxOld}`)),
      '--patched',
      PATCHED,
      '--format',
      'json',
    );
    expect(JSON.parse(result.stdout)).toEqual([
      {
        namespace: 'ns',
        pod: 'p',
        container: 'c',
        image: 'docker.io/library/nginx',
        runningDigest: D.nginxOld,
        patchedDigest: D.nginxPatched,
      },
    ]);
  });
});

describe('copa-fleet drift --format table', () => {
  it('is the default: aligned columns, full digests, then a summary', async () => {
    const result = await runCli('drift', '--pods', PODS_CONTAINERD, '--patched', PATCHED);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'NAMESPACE   POD                   CONTAINER   IMAGE                                             RUNNING DIGEST                                                            PATCHED DIGEST',
        `identity    keycloak-0            keycloak    registry.example.com/identity/keycloak            ${D.keycloakOld}   ${D.keycloakPatched}`,
        `payments    api-5f7c9d8b4-x2k9q   api         registry.internal.example.com:5000/payments/api   ${D.apiOld}   ${D.apiPatched}`,
        `payments    api-5f7c9d8b4-x2k9q   envoy       registry.example.com/platform/envoy               ${D.envoyOld}   ${D.envoyPatched}`,
        `shop        web-7d9f8b6c5-abcde   nginx       docker.io/library/nginx                           ${D.nginxOld}   ${D.nginxPatched}`,
        '',
        '4 of 8 running containers of patched images run a digest other than the latest patched one.',
        '',
      ].join('\n'),
    );
  });

  it('every column starts at the same offset on every line', async () => {
    const { stdout } = await runCli(
      'drift',
      '--pods',
      PODS_DOCKER,
      '--patched',
      PATCHED,
      '--format',
      'table',
    );
    const lines = stdout.split('\n').slice(0, 3);
    const starts = (line: string) => [...line.matchAll(/(?<=^| {3})\S/g)].map((m) => m.index);
    expect(lines).toHaveLength(3);
    expect(starts(lines[1] ?? '')).toEqual(
      starts(
        lines[0]
          ?.replace('RUNNING DIGEST', 'RUNNING_DIGEST')
          .replace('PATCHED DIGEST', 'PATCHED_DIGEST') ?? '',
      ),
    );
    expect(starts(lines[2] ?? '')).toEqual(starts(lines[1] ?? ''));
  });

  it('says so when nothing drifted', async () => {
    const patched = file('current.json', { nginx: D.nginxOld });
    const result = await runCli(
      'drift',
      '--pods',
      file('one-current.json', runningPod(`nginx@${D.nginxOld}`)),
      '--patched',
      patched,
    );
    expect(result).toEqual({
      code: 0,
      stdout:
        'No drift: all 1 running container of patched images run their latest patched digest.\n',
      stderr: '',
    });
  });
});

describe('copa-fleet drift: bad input is a clear message and exit 1', () => {
  const digest = D.nginxPatched;
  it.each([
    [
      'a missing --pods file',
      () => ['--pods', join(dir, 'absent.json'), '--patched', PATCHED],
      /cannot read --pods ".*absent\.json": no such file/,
    ],
    [
      'a directory as --patched',
      () => ['--pods', PODS_DOCKER, '--patched', dir],
      /cannot read --patched ".*": it is a directory/,
    ],
    [
      '--pods that is not JSON',
      () => ['--pods', file('yaml.json', 'items: []\n'), '--patched', PATCHED],
      /--pods ".*yaml\.json": not valid JSON/,
    ],
    [
      'an empty --pods file',
      () => ['--pods', file('empty.json', ''), '--patched', PATCHED],
      /--pods ".*": the file is empty/,
    ],
    [
      '--pods that is a list',
      () => ['--pods', file('array.json', []), '--patched', PATCHED],
      /expected the output of `kubectl get pods -A -o json`/,
    ],
    [
      '--pods with items that is not a list',
      () => ['--pods', file('items-map.json', { items: {} }), '--patched', PATCHED],
      /items: expected a list, got a map/,
    ],
    [
      'a container status without a name',
      () => [
        '--pods',
        file('noname.json', {
          items: [{ metadata: { name: 'p' }, status: { containerStatuses: [{ imageID: 'x' }] } }],
        }),
        '--patched',
        PATCHED,
      ],
      /items\[0\]\.status\.containerStatuses\[0\]\.name: is required \(expected a string\)/,
    ],
    [
      'a Pod without metadata',
      () => ['--pods', file('nometa.json', { items: [{ status: {} }] }), '--patched', PATCHED],
      /items\[0\]\.metadata: is required/,
    ],
    [
      'another kind of object',
      () => [
        '--pods',
        file('deploy.json', { kind: 'Deployment', metadata: { name: 'd' } }),
        '--patched',
        PATCHED,
      ],
      /expected Pods \(a List, or one Pod\), got kind "Deployment"/,
    ],
    [
      '--patched that is a list',
      () => ['--pods', PODS_DOCKER, '--patched', file('patched-list.json', [digest])],
      /--patched ".*": expected a JSON object from image to patched digest/,
    ],
    [
      'an invalid image key',
      () => ['--pods', PODS_DOCKER, '--patched', file('bad-key.json', { 'Not An Image': digest })],
      /key "Not An Image" is not a valid image reference: invalid path component/,
    ],
    [
      'a short digest',
      () => ['--pods', PODS_DOCKER, '--patched', file('bad-digest.json', { nginx: 'sha256:abc' })],
      /"nginx": invalid digest "sha256:abc" \(expected "sha256:" and 64 hex characters/,
    ],
    [
      'a digest that is not a string',
      () => ['--pods', PODS_DOCKER, '--patched', file('num-digest.json', { nginx: 42 })],
      /"nginx": invalid digest 42/,
    ],
    [
      'two keys naming one image with different digests',
      () => [
        '--pods',
        PODS_DOCKER,
        '--patched',
        file('conflict.json', { nginx: digest, 'docker.io/library/nginx:1': D.nginxOld }),
      ],
      /"nginx" and "docker.io\/library\/nginx:1" both name docker\.io\/library\/nginx but give different digests/,
    ],
  ])('%s', async (_, args, message) => {
    const result = await runCli('drift', ...args());
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^copa-fleet drift: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports every bad --patched entry at once', async () => {
    const result = await runCli(
      'drift',
      '--pods',
      PODS_DOCKER,
      '--patched',
      file('two-bad.json', { 'A B': D.nginxOld, redis: 'nope', nginx: D.nginxOld }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('two keys for one image with the same digest are fine', async () => {
    const result = await runCli(
      'drift',
      '--pods',
      PODS_DOCKER,
      '--patched',
      file('same.json', { nginx: D.nginxPatched, 'docker.io/library/nginx': D.nginxPatched }),
      '--format',
      'json',
    );
    expect(result.code).toBe(0);
  });
});

describe('copa-fleet drift: usage errors exit 2', () => {
  it.each([
    [['--patched', PATCHED], /--pods FILE is required/],
    [['--pods', PODS_DOCKER], /--patched FILE is required/],
    [
      ['--pods', PODS_DOCKER, '--patched', PATCHED, '--format', 'yaml'],
      /--format must be one of table, json \(got "yaml"\)/,
    ],
    [['--pods', PODS_DOCKER, '--patched', PATCHED, '--color'], /Unknown option '--color'/],
    [['--pods', PODS_DOCKER, '--patched', PATCHED, 'extra'], /unexpected argument "extra"/],
    [['--pods', '-', '--patched', '-'], /only one of --pods and --patched can read stdin/],
  ])('%j', async (args, message) => {
    const result = await runCli('drift', ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain(
      'Usage: copa-fleet drift --pods FILE --patched FILE [--format table|json]',
    );
  });

  it('--help prints the full usage on stdout, exit 0', async () => {
    const result = await runCli('drift', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'Usage: copa-fleet drift --pods FILE --patched FILE [--format table|json]',
    );
    expect(result.stdout).toContain('kubectl get pods -A -o json');
    expect(result.stdout).toContain(
      'Exit status: 0 whether or not drift is found, 1 unreadable or malformed input, 2 usage error.',
    );
  });
});

describe('bin/copa-fleet drift as a subprocess', () => {
  it('reads the Pod dump from stdin with --pods -', async () => {
    const result = await runBin(
      ['drift', '--pods', '-', '--patched', PATCHED, '--format', 'json'],
      readFileSync(PODS_DOCKER, 'utf8'),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as unknown[]).length).toBe(2);
  });

  it('exits 1 with one clear line, no stack trace, on malformed input', async () => {
    const result = await runBin([
      'drift',
      '--pods',
      PODS_DOCKER,
      '--patched',
      file('broken.json', '{"nginx": '),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^copa-fleet drift: --patched ".*broken\.json": not valid JSON: .+\n$/,
    );
  });
});
