import { describe, expect, it } from 'vitest';
import { runBin, runCli } from './helpers.ts';

const HEX = '0bb816268861030d7e4975ed6b6337428a5f696fa0355dc17620135ec1eaa036';

describe('copa-fleet normalize', () => {
  it('prints the examples of the issue exactly, one per line, in order', async () => {
    const result = await runCli(
      'normalize',
      'nginx:1.25',
      'nginx',
      `docker-pullable://nginx@sha256:${HEX}`,
      'registry.example.com:443/app:v1',
      'index.docker.io/library/redis:7',
    );
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'docker.io/library/nginx:1.25',
        'docker.io/library/nginx',
        `docker.io/library/nginx@sha256:${HEX}`,
        'registry.example.com/app:v1',
        'docker.io/library/redis:7',
        '',
      ].join('\n'),
    });
  });

  it('an invalid reference: named on stderr with the reason, exit 1, the valid ones still printed', async () => {
    const result = await runCli(
      'normalize',
      'nginx:1.25',
      'Nginx:1.25',
      'redis',
      'nginx@sha256:abc',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('docker.io/library/nginx:1.25\ndocker.io/library/redis\n');
    expect(result.stderr).toBe(
      [
        'copa-fleet normalize: invalid image reference "Nginx:1.25": repository name must be lower-case ("Nginx")',
        'copa-fleet normalize: invalid image reference "nginx@sha256:abc": invalid digest "sha256:abc" (expected algorithm:hex)',
        '',
      ].join('\n'),
    );
  });

  it('accepts a reference that starts with "-" after --', async () => {
    const result = await runCli('normalize', '--', '-nginx');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid image reference "-nginx"');
  });

  it('no reference is a usage error, exit 2', async () => {
    const result = await runCli('normalize');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^copa-fleet normalize: give at least one image reference\n\nUsage: copa-fleet normalize REF\.\.\./,
    );
  });

  it('an unknown flag is a usage error, exit 2', async () => {
    expect((await runCli('normalize', '--json', 'nginx')).code).toBe(2);
  });

  it('--help explains the rules with examples', async () => {
    const result = await runCli('normalize', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: copa-fleet normalize REF...');
    expect(result.stdout).toContain(
      'copa-fleet normalize nginx:1.25                       # docker.io/library/nginx:1.25',
    );
    expect(result.stdout).toContain('Exit status: 0 all valid, 1 some reference is invalid');
  });

  it('as a subprocess: stdout, stderr and exit codes', async () => {
    const ok = await runBin(['normalize', 'registry.example.com:443/app:v1', 'Bad Ref']);
    expect(ok).toEqual({
      code: 1,
      stdout: 'registry.example.com/app:v1\n',
      stderr:
        'copa-fleet normalize: invalid image reference "Bad Ref": invalid path component "Bad Ref" (expected lower-case letters and digits separated by ".", "_", "__" or "-")\n',
    });
    const usage = await runBin(['normalize']);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
  });
});
