/** test/support/processes.ts starts, readies and stops the real binaries the suites rely on. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  freePort,
  startAlertmanager,
  startProcess,
  startPrometheus,
  startPushgateway,
} from '../../support/processes.ts';

describe('test/support/processes', () => {
  it('starts Prometheus with the given rule files loaded, and stops it', async () => {
    const rules = 'groups:\n- name: smoke\n  rules:\n  - record: smoke:up:sum\n    expr: sum(up)\n';
    const prometheus = await startPrometheus({
      configYaml: 'global:\n  scrape_interval: 15s\nscrape_configs: []\n',
      rulesFiles: { 'smoke.yaml': rules },
    });
    try {
      const answer = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: { groups: { name: string }[] };
      };
      expect(answer.data.groups.map((g) => g.name)).toEqual(['smoke']);
    } finally {
      await prometheus.stop();
    }
    expect(existsSync(prometheus.dir)).toBe(false);
    await expect(fetch(`${prometheus.url}/-/ready`)).rejects.toThrow();
  });

  it('starts Alertmanager standalone (no cluster port)', async () => {
    const config = 'route:\n  receiver: none\nreceivers:\n- name: none\n';
    const alertmanager = await startAlertmanager({ configYaml: config });
    try {
      const status = (await (await fetch(`${alertmanager.url}/api/v2/status`)).json()) as {
        cluster: { status: string };
      };
      expect(status.cluster.status).toBe('disabled');
    } finally {
      await alertmanager.stop();
    }
  });

  it('starts the Pushgateway on a port reserved earlier, and refuses a port already in use', async () => {
    const port = await freePort();
    const pushgateway = await startPushgateway({ port });
    try {
      expect(pushgateway.url).toBe(`http://127.0.0.1:${port}`);
      await expect(startPushgateway({ port })).rejects.toThrow(
        `pushgateway: port ${port} is already in use`,
      );
    } finally {
      await pushgateway.stop();
    }
  });
});

describe('a process that cannot start', () => {
  it('fails with its output', async () => {
    await expect(
      startProcess({
        name: 'broken',
        command: '/usr/bin/prometheus',
        args: () => ['--no-such-flag'],
        readyPath: '/-/ready',
      }),
    ).rejects.toThrow(/broken \(\/usr\/bin\/prometheus\) exited with 1 before it was ready/);
  });
});
