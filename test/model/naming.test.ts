import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CRONJOB_NAME_MAX,
  cronJobName,
  imageCronJobName,
  slug,
  stableHash,
} from '../../src/model/naming.ts';
import { normalizeImageRef, parseImageRef } from '../../src/shared/image-ref.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const nameOf = (ref: string): string => imageCronJobName(normalizeImageRef(ref));

describe('CronJob names', () => {
  it('are stable: the same reference always gets the same name (names key Pushgateway groups and the digest store)', () => {
    expect(nameOf('nginx:1.27.3')).toBe(
      `copa-nginx-1-27-3-${stableHash('docker.io/library/nginx:1.27.3').slice(0, 6)}`,
    );
    expect(nameOf('nginx:1.27.3')).toBe('copa-nginx-1-27-3-3c98f8');
    expect(nameOf('docker.io/library/nginx:1.27.3')).toBe(nameOf('nginx:1.27.3'));
    expect(nameOf('index.docker.io/library/nginx:1.27.3')).toBe(nameOf('nginx:1.27.3'));
  });

  it('treat a missing tag as latest', () => {
    expect(nameOf('redis')).toBe(nameOf('redis:latest'));
    expect(nameOf('redis')).toMatch(/^copa-redis-latest-[a-f0-9]{6}$/);
  });

  it('are distinct across registries with the same path', () => {
    const names = [
      'ghcr.io/acme/app:1.0',
      'docker.io/acme/app:1.0',
      'registry.example.com/acme/app:1.0',
      'registry.example.com:5000/acme/app:1.0',
    ].map(nameOf);
    expect(new Set(names).size).toBe(4);
    for (const name of names) expect(name).toMatch(/^copa-app-1-0-[a-f0-9]{6}$/);
  });

  it('are distinct when the readable part collides after truncation', () => {
    const long = 'a-very-long-service-name-that-goes-on-and-on';
    const a = nameOf(`registry.example.com/team/${long}:release-2024-01-01`);
    const b = nameOf(`registry.example.com/team/${long}:release-2024-01-02`);
    expect(a.length).toBeLessThanOrEqual(CRONJOB_NAME_MAX);
    expect(a.slice(0, -7)).toBe(b.slice(0, -7));
    expect(a).not.toBe(b);
  });

  it('are valid DNS labels of at most 52 characters for any valid reference', () => {
    const component = fc.stringMatching(/^[a-z0-9]{1,30}([._-][a-z0-9]{1,30}){0,3}$/);
    const ref = fc
      .tuple(
        fc.constantFrom('', 'ghcr.io/', 'registry.example.com:5000/'),
        fc.array(component, { minLength: 1, maxLength: 3 }),
        fc.stringMatching(/^[\w][\w.-]{0,127}$/),
      )
      .map(([registry, path, tag]) => `${registry}${path.join('/')}:${tag}`)
      .filter((r) => parseImageRef(r).ok);
    fc.assert(
      fc.property(ref, (r) => {
        const name = nameOf(r);
        expect(name.length).toBeLessThanOrEqual(CRONJOB_NAME_MAX);
        expect(name).toMatch(DNS_LABEL);
        expect(name.startsWith('copa-')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('fall back to a readable placeholder when nothing readable is left', () => {
    expect(cronJobName('x', '___', '...')).toMatch(/^copa-image-[a-f0-9]{6}$/);
  });

  it('slug keeps lower-case letters and digits and collapses the rest to single dashes', () => {
    expect(slug('--Nginx__1.27.3--')).toBe('nginx-1-27-3');
    expect(slug('ÄÖÜ')).toBe('');
  });
});
