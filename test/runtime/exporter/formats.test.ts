import { describe, expect, it } from 'vitest';
import { COPA_LOG_SIGNS, readCopaLog } from '../../../runtime/exporter/copa-log.ts';
import { formatExitRecord, parseExitRecord } from '../../../runtime/exporter/exit-code.ts';
import { digestFor, parseTrivyReport } from '../../../runtime/exporter/trivy-report.ts';
import { parseVex } from '../../../runtime/exporter/vex.ts';
import { podView, runHasEnded } from '../../../runtime/exporter/pod-view.ts';
import {
  COPA_LOGS,
  BEFORE_REPORT,
  IMAGE,
  SOURCE_DIGEST,
  SOURCE_REF,
  VEX_FIXED,
  jobPod,
  trivyReport,
} from './fixtures.ts';

const log = (level: string, msg: string) =>
  `time="2026-03-01T02:02:00Z" level=${level} msg="${msg}"`;

describe('Trivy report', () => {
  it('counts findings per severity in our spelling, one per CVE x package x version', () => {
    const result = parseTrivyReport(BEFORE_REPORT);
    expect(result.status).toBe('ok');
    if (result.status !== 'ok') return;
    expect(result.summary.counts).toEqual({ Critical: 2, High: 1, Medium: 1, Low: 1, Unknown: 0 });
    expect(result.summary.total).toBe(5);
    expect(digestFor(result.summary, IMAGE)).toBe(SOURCE_DIGEST);
  });

  it('does not count a finding twice when Trivy repeats it in another target', () => {
    const json = JSON.parse(trivyReport('x:1', [{ id: 'CVE-1', pkg: 'p', severity: 'HIGH' }])) as {
      Results: unknown[];
    };
    json.Results.push(json.Results[0]);
    const result = parseTrivyReport(JSON.stringify(json));
    expect(result.status === 'ok' && result.summary.counts.High).toBe(1);
  });

  it('accepts a report without Results (nothing found) as zero everywhere', () => {
    const result = parseTrivyReport(
      JSON.stringify({ SchemaVersion: 2, ArtifactName: 'x:1', ArtifactType: 'container_image' }),
    );
    expect(result.status === 'ok' && result.summary.total).toBe(0);
  });

  it('maps unknown severities to Unknown', () => {
    const result = parseTrivyReport(
      trivyReport('x:1', [{ id: 'CVE-1', pkg: 'p', severity: 'UNKNOWN' }]),
    );
    expect(result.status === 'ok' && result.summary.counts.Unknown).toBe(1);
  });

  it.each([
    '',
    '[]',
    '{"SchemaVersion":2,"ArtifactName":"x","Results":{}}',
    '{"SchemaVersion":2,"ArtifactName":"x","Results":[{"Vulnerabilities":"no"}]}',
  ])('rejects %j with a reason', (text) => {
    const result = parseTrivyReport(text);
    expect(result.status).toBe('invalid');
    expect(result.status === 'invalid' && result.error.length).toBeGreaterThan(0);
  });
});

describe('exit-code file', () => {
  it.each([
    [{ kind: 'code', code: 0 }, '0\n'],
    [{ kind: 'code', code: 1 }, '1\n'],
    [{ kind: 'signal', signal: 'SIGKILL' }, 'signal:SIGKILL\n'],
  ] as const)('round-trips %j', (record, text) => {
    expect(formatExitRecord(record)).toBe(text);
    expect(parseExitRecord(text)).toEqual(record);
  });
  it.each(['', 'x', '-1', '1000', 'signal:', 'signal:kill'])('rejects %j', (text) =>
    expect(parseExitRecord(text)).toBeUndefined(),
  );
});

describe('VEX document', () => {
  it('counts fixed statements and keeps their vulnerability ids', () =>
    expect(parseVex(VEX_FIXED)).toEqual({
      status: 'ok',
      fixed: 2,
      fixedVulnerabilities: ['CVE-2024-45490', 'CVE-2024-6119'],
    }));
  it('reads the OpenVEX v0.2 name, the @id, or a plain string; ignores other statuses', () => {
    const doc = JSON.stringify({
      statements: [
        {
          vulnerability: { '@id': 'https://nvd.nist.gov/vuln/detail/CVE-1', name: 'CVE-1' },
          status: 'fixed',
        },
        { vulnerability: 'CVE-2', status: 'fixed' },
        { vulnerability: { name: 'CVE-3' }, status: 'not_affected' },
        { vulnerability: { name: 'CVE-1' }, status: 'fixed' },
      ],
    });
    expect(parseVex(doc)).toEqual({
      status: 'ok',
      fixed: 3,
      fixedVulnerabilities: ['CVE-1', 'CVE-2'],
    });
  });
  it('rejects non-JSON', () => expect(parseVex('nope').status).toBe('invalid'));
});

describe('Copa log signs', () => {
  it.each([
    ['noUpdatesWarning', COPA_LOGS.nothingToApply, 'No update packages were specified to apply'],
    ['upToDate', COPA_LOGS.alreadyUpToDate, 'No upgradable packages found for this image.'],
    ['pushFailed', COPA_LOGS.pushFailed, 'failed to push'],
    ['pushFailed', COPA_LOGS.pushDenied, 'push access denied'],
    ['buildkitUnavailable', COPA_LOGS.buildkitDown, 'failed to list workers'],
    [
      'buildkitUnavailable',
      COPA_LOGS.buildkitEof,
      'code = Unavailable desc = error reading from server: EOF',
    ],
    ['sourcePullFailed', COPA_LOGS.sourceMissing, `${SOURCE_REF}: not found`],
    [
      'sourcePullFailed',
      COPA_LOGS.sourcePullDenied,
      'pull access denied, repository does not exist or may require authorization: server message: insufficient_scope',
    ],
    ['timeout', COPA_LOGS.copaTimeout, 'patch exceeded timeout'],
    ['canceled', COPA_LOGS.canceled, 'Patch was canceled by user'],
  ] as const)('%s in its log excerpt', (sign, log, text) => {
    expect(readCopaLog(log)[sign]).toContain(text);
  });

  it('the image Copa v0.14 logs `Image is already up-to-date. No patch was applied.` for is up to date', () => {
    expect(
      readCopaLog(log('info', 'Image is already up-to-date. No patch was applied.')).upToDate,
    ).toBeDefined();
  });

  it('a source pull denied is not a push failure, a push denied is not a source pull failure', () => {
    expect(readCopaLog(COPA_LOGS.sourcePullDenied).pushFailed).toBeUndefined();
    expect(readCopaLog(COPA_LOGS.pushDenied).sourcePullFailed).toBeUndefined();
  });

  it('a tag that is not found, not the word "not found" anywhere, is the source-missing sign', () => {
    expect(
      readCopaLog(
        'Error: process "sh -c apt-get install foo" did not complete successfully: E: package not found',
      ).sourcePullFailed,
    ).toBeUndefined();
    expect(
      readCopaLog(`Error: ${IMAGE}@${SOURCE_DIGEST}: not found`).sourcePullFailed,
    ).toBeDefined();
  });

  it('finds no sign in a clean patch log or a plain install failure', () => {
    expect(readCopaLog(COPA_LOGS.patched)).toEqual({});
    expect(readCopaLog(COPA_LOGS.installFailed)).toEqual({});
  });

  it('every sign has at least one pattern', () => {
    for (const patterns of Object.values(COPA_LOG_SIGNS))
      expect(patterns.length).toBeGreaterThan(0);
  });
});

describe('pod view', () => {
  it('knows sidecars, init steps and main containers from the spec', () => {
    const view = podView(jobPod());
    expect(view.containers.map((c) => [c.name, c.kind])).toEqual([
      ['exporter', 'sidecar'],
      ['buildkitd', 'sidecar'],
      ['scan', 'init'],
      ['patch', 'init'],
      ['verify', 'main'],
    ]);
    expect(runHasEnded(view)).toBe(true);
  });

  it('the run has not ended while a step waits or runs, unless the pod phase is final', () => {
    const running = jobPod({ steps: { verify: { state: 'running' } } });
    expect(runHasEnded(podView(running))).toBe(false);
    const failed = jobPod({
      phase: 'Failed',
      steps: {
        patch: { state: 'terminated', exitCode: 1 },
        verify: { state: 'waiting', reason: 'PodInitializing' },
      },
    });
    expect(runHasEnded(podView(failed))).toBe(true);
  });

  it('reads Date objects (client-node) like strings (JSON)', () => {
    const pod = jobPod();
    const withDates = structuredClone(pod) as { metadata: { creationTimestamp: unknown } };
    withDates.metadata.creationTimestamp = new Date(
      String((pod.metadata as { creationTimestamp: string }).creationTimestamp),
    );
    expect(podView(withDates).createdAt).toBe(podView(pod).createdAt);
  });
});
