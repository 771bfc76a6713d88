import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ContainerStatusLike,
  findDrift,
  type PodLike,
  type RunningContainer,
  runningContainers,
} from '../../src/shared/drift.ts';

/** The Pod dumps are shared with the CLI tests: `kubectl get pods -A -o json` output. */
function pods(name: string): PodLike[] {
  const list = JSON.parse(
    readFileSync(new URL(`../cli/fixtures/${name}`, import.meta.url), 'utf8'),
  ) as { items: PodLike[] };
  return list.items;
}

const digest = (byte: string): string => `sha256:${byte.repeat(64)}`;

describe('runningContainers', () => {
  it('reads containerd imageIDs: only running containers, native sidecars included, normalised repository', () => {
    const found = pods('pods-containerd.json').flatMap((pod) => runningContainers(pod));
    expect(found.map((c) => `${c.namespace}/${c.pod}/${c.container} ${c.image}`)).toEqual([
      'shop/web-7d9f8b6c5-abcde/nginx docker.io/library/nginx',
      'shop/web-7d9f8b6c5-abcde/log-shipper docker.io/fluent/fluent-bit',
      'shop/web-7d9f8b6c5-fghij/nginx docker.io/library/nginx',
      'shop/web-7d9f8b6c5-fghij/log-shipper docker.io/fluent/fluent-bit',
      'payments/api-5f7c9d8b4-x2k9q/api registry.internal.example.com:5000/payments/api',
      // The native sidecar (init container with restartPolicy Always) is running; `migrate` has ended.
      'payments/api-5f7c9d8b4-x2k9q/envoy registry.example.com/platform/envoy',
      'payments/api-5f7c9d8b4-p8d7r/api registry.internal.example.com:5000/payments/api',
      'payments/api-5f7c9d8b4-p8d7r/envoy registry.example.com/platform/envoy',
      // worker (CrashLoopBackOff), the Succeeded batch Pod and the Pending Pod run nothing.
      'cache/redis-0/redis docker.io/library/redis',
      // The repository comes from imageID (what runs), here without the :443 the spec wrote.
      'identity/keycloak-0/keycloak registry.example.com/identity/keycloak',
    ]);
    expect(found.every((c) => /^sha256:[a-f0-9]{64}$/.test(c.digest))).toBe(true);
  });

  it('reads Docker imageIDs: docker-pullable:// short names, and a bare docker:// image id with the repository from `image`', () => {
    const found = pods('pods-docker.json').flatMap((pod) => runningContainers(pod));
    expect(found.map((c) => [c.pod, c.image])).toEqual([
      ['nginx-legacy-6b7d9c-8fj2k', 'docker.io/library/nginx'],
      ['nginx-legacy-6b7d9c-m3n4b', 'docker.io/library/nginx'],
      ['keycloak-legacy-0', 'registry.example.com/identity/keycloak'],
      ['checkout-5d4c3b2a1-zz9yx', 'ghcr.io/example-org/checkout-web'],
    ]);
    expect(found[0]?.digest).toBe(
      'sha256:ee999b9227bfebad2683499c9827337c6ec0a77848b43a429bf400c0d1f95350',
    );
  });

  const pod = (statuses: PodLike['status']): PodLike => ({
    metadata: { namespace: 'ns', name: 'p' },
    status: statuses,
  });
  const running = { running: { startedAt: '2026-01-01T00:00:00Z' } };

  it.each([
    [
      'containerd, repository digest',
      { image: 'nginx:1', imageID: `docker.io/library/nginx@${digest('a')}` },
      'docker.io/library/nginx',
      digest('a'),
    ],
    [
      'containerd, bare image id',
      { image: 'registry.example.com:443/app:1', imageID: digest('b') },
      'registry.example.com/app',
      digest('b'),
    ],
    [
      'docker, bare image id',
      { image: 'app:1', imageID: `docker://${digest('c')}` },
      'docker.io/library/app',
      digest('c'),
    ],
    [
      'docker-pullable with :443',
      { image: 'x', imageID: `docker-pullable://registry.example.com:443/app@${digest('d')}` },
      'registry.example.com/app',
      digest('d'),
    ],
  ])('%s', (_, status, image, expectedDigest) => {
    expect(
      runningContainers(pod({ containerStatuses: [{ name: 'c', state: running, ...status }] })),
    ).toEqual([{ namespace: 'ns', pod: 'p', container: 'c', image, digest: expectedDigest }]);
  });

  it.each([
    ['no imageID yet', { image: 'nginx:1', state: running }],
    ['an empty imageID', { image: 'nginx:1', imageID: '', state: running }],
    [
      'a bare id and an invalid image',
      { image: 'Not Valid', imageID: digest('a'), state: running },
    ],
    [
      'an imageID with a non-sha256 digest',
      { image: 'nginx', imageID: `nginx@sha512:${'a'.repeat(128)}`, state: running },
    ],
    [
      'waiting',
      {
        image: 'nginx',
        imageID: `nginx@${digest('a')}`,
        state: { waiting: { reason: 'ErrImagePull' } },
      },
    ],
    [
      'terminated',
      { image: 'nginx', imageID: `nginx@${digest('a')}`, state: { terminated: { exitCode: 0 } } },
    ],
    ['no state', { image: 'nginx', imageID: `nginx@${digest('a')}` }],
    [
      'running: null',
      { image: 'nginx', imageID: `nginx@${digest('a')}`, state: { running: null } },
    ],
  ])('skips a container with %s', (_, status) => {
    // Kubernetes states are `waiting`/`running`/`terminated`; the type only names the one drift reads.
    const containerStatus = { name: 'c', ...status } as ContainerStatusLike;
    expect(runningContainers(pod({ containerStatuses: [containerStatus] }))).toEqual([]);
  });

  it('tolerates Pods without metadata or status', () => {
    expect(runningContainers({})).toEqual([]);
    expect(runningContainers({ metadata: { name: 'p' } })).toEqual([]);
  });
});

describe('findDrift', () => {
  const c = (
    namespace: string,
    podName: string,
    container: string,
    image: string,
    d: string,
  ): RunningContainer => ({
    namespace,
    pod: podName,
    container,
    image,
    digest: d,
  });

  it('reports running digests other than the latest patched one, sorted by namespace, pod, container', () => {
    const containers = [
      c('b', 'p1', 'z', 'docker.io/library/nginx', digest('1')),
      c('a', 'p2', 'x', 'docker.io/library/nginx', digest('2')),
      c('b', 'p1', 'a', 'docker.io/library/nginx', digest('1')),
      c('a', 'p1', 'x', 'docker.io/library/nginx', digest('2')),
      c('a', 'p0', 'x', 'docker.io/library/redis', digest('3')),
    ];
    const patched = new Map([
      ['docker.io/library/nginx', digest('2')],
      ['docker.io/library/redis', digest('4')],
    ]);
    expect(
      findDrift(containers, patched).map((r) => `${r.namespace}/${r.pod}/${r.container}`),
    ).toEqual(['a/p0/x', 'b/p1/a', 'b/p1/z']);
    expect(findDrift(containers, patched)[0]).toEqual({
      namespace: 'a',
      pod: 'p0',
      container: 'x',
      image: 'docker.io/library/redis',
      runningDigest: digest('3'),
      patchedDigest: digest('4'),
    });
  });

  it('ignores images absent from the patched map, and reports nothing when everything runs the patched digest', () => {
    const containers = [
      c('a', 'p', 'x', 'ghcr.io/o/unpatched', digest('1')),
      c('a', 'p', 'y', 'docker.io/library/nginx', digest('2')),
    ];
    expect(findDrift(containers, new Map([['docker.io/library/nginx', digest('2')]]))).toEqual([]);
    expect(findDrift(containers, new Map())).toEqual([]);
  });

  it('on the containerd corpus: the stale nginx, api, envoy sidecar and keycloak', () => {
    const containers = pods('pods-containerd.json').flatMap((p) => runningContainers(p));
    const patched = new Map([
      [
        'docker.io/library/nginx',
        'sha256:0bb816268861030d7e4975ed6b6337428a5f696fa0355dc17620135ec1eaa036',
      ],
      [
        'registry.internal.example.com:5000/payments/api',
        'sha256:d51a753ae49ce80f7a9fb8ba817c60524ca7ff86d71eeee6b8695b68e7a9c1af',
      ],
      [
        'registry.example.com/platform/envoy',
        'sha256:2da8aab0eda160e599babe05f12f2d42159fe363790157ecdf2fb718342d125c',
      ],
      [
        'registry.example.com/identity/keycloak',
        'sha256:647963c54ddeefbffe880d80bfd83b222ee4e31b37e91eb4371516ba0cefc29f',
      ],
      [
        'docker.io/library/redis',
        'sha256:1e8554faa4c0830533a15e0ad834136725290f6658d164a12b0f2a6cd983b346',
      ],
    ]);
    expect(
      findDrift(containers, patched).map((r) => `${r.namespace}/${r.pod}/${r.container}`),
    ).toEqual([
      'identity/keycloak-0/keycloak',
      'payments/api-5f7c9d8b4-x2k9q/api',
      'payments/api-5f7c9d8b4-x2k9q/envoy',
      'shop/web-7d9f8b6c5-abcde/nginx',
    ]);
  });
});
