/**
 * The spec of one patch run (src/model/patch-run.ts): what the CronJob and pod constructs read
 * instead of the inventory. BuildKit is one of two modes, optional parts are absent when unused.
 */
import { describe, expect, it } from 'vitest';
import { buildkitMode, patchRunSpec } from '../../src/model/patch-run.ts';
import {
  EXTERNAL_PUSHGATEWAY,
  fleetOf,
  FULL,
  MINIMAL,
  PLANTED,
  REMOTE_BUILDKIT,
} from '../support/fleet-fixtures.ts';

describe('patchRunSpec', () => {
  it('runs BuildKit as the sidecar by default, with its image and resources', () => {
    const fleet = fleetOf(MINIMAL);
    expect(buildkitMode(fleet)).toEqual({
      mode: 'sidecar',
      image: 'docker.io/moby/buildkit:v0.29.0-rootless',
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } },
    });
    const run = patchRunSpec(fleet.images[0]!, fleet);
    expect(run.buildkit.mode).toBe('sidecar');
    // Defaults left to the constructs: the generated Pushgateway, no Dependency-Track step.
    expect('pushgatewayUrl' in run).toBe(false);
    expect('dependencyTrack' in run).toBe(false);
  });

  it('uses a remote BuildKit with its mTLS Secret when the inventory names an address', () => {
    const fleet = fleetOf(REMOTE_BUILDKIT);
    expect(patchRunSpec(fleet.images[0]!, fleet).buildkit).toEqual({
      mode: 'remote',
      address: 'tcp://buildkitd.build.svc:1234',
      tlsSecret: PLANTED.buildkitTlsSecret,
    });
  });

  it('resolves the Dependency-Track project version per image and carries the job limits', () => {
    const fleet = fleetOf(FULL);
    const api = fleet.images.find((i) => i.patchedTag === 'v2.3.0-p')!;
    const run = patchRunSpec(api, fleet);
    expect(run.dependencyTrack).toEqual({
      url: 'https://dtrack.example.com',
      apiKey: { name: PLANTED.dtSecret, key: PLANTED.dtKey },
      projectVersion: 'v2.3.0-p',
    });
    const byTag = fleetOf({
      ...FULL,
      dependencyTrack: { ...FULL.dependencyTrack!, projectVersion: 'tag' },
    });
    expect(
      patchRunSpec(
        byTag.images.find((i) => i.patchedTag === 'v2.3.0-p')!,
        byTag,
      ).dependencyTrack?.projectVersion,
    ).toBe('v2.3.0');
    expect(run.job).toEqual({
      timeZone: 'Europe/Berlin',
      startingDeadlineSeconds: 900,
      activeDeadlineSeconds: 5400,
      backoffLimit: 1,
      ttlSecondsAfterFinished: 86400,
    });
    expect(run.namespace).toBe('patching');
    expect(run.registryCredentialsSecret).toBe(PLANTED.registrySecret);
  });

  it('passes an external Pushgateway URL through', () => {
    const fleet = fleetOf(EXTERNAL_PUSHGATEWAY);
    expect(patchRunSpec(fleet.images[0]!, fleet).pushgatewayUrl).toBe(
      'http://pushgateway.monitoring.svc:9091',
    );
  });
});
