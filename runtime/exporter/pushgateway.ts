/**
 * The Pushgateway side of the exporter: read the CronJob's group (to carry counters over) and
 * replace it with PUT. One group per CronJob: `/metrics/job/<JOBS.exporter>/<PUSH_GROUPING_LABEL>/<cronjob>`.
 */
import { JOBS, PUSH_GROUPING_LABEL } from '../../src/shared/metrics.ts';
import type { PreviousGroup, Series } from './group-metrics.ts';
import { checkedFetch } from './http.ts';

/** Labels the Pushgateway adds to every stored series; they are not part of our metrics. */
const GROUP_LABELS = ['job', PUSH_GROUPING_LABEL, 'instance'];

export function groupPath(cronjob: string): string {
  return `/metrics/job/${encodeURIComponent(JOBS.exporter)}/${encodeURIComponent(PUSH_GROUPING_LABEL)}/${encodeURIComponent(cronjob)}`;
}

function base(pushgatewayUrl: string): string {
  return pushgatewayUrl.replace(/\/+$/, '');
}

/** The group's current series (empty when the group does not exist yet). */
export async function readGroup(
  pushgatewayUrl: string,
  cronjob: string,
  signal: AbortSignal,
  auth: Readonly<Record<string, string>> = {},
): Promise<PreviousGroup> {
  const url = `${base(pushgatewayUrl)}/api/v1/metrics`;
  const response = await checkedFetch(url, {
    signal,
    headers: { accept: 'application/json', ...auth },
  });
  const json: unknown = await response.json();
  return parseGroup(json, cronjob);
}

/** Extracts one group from the Pushgateway's `/api/v1/metrics` answer. */
export function parseGroup(json: unknown, cronjob: string): PreviousGroup {
  const data = isObject(json) && Array.isArray(json.data) ? json.data : undefined;
  if (data === undefined)
    throw new Error('unexpected answer from the Pushgateway /api/v1/metrics (no data array)');
  const group = data.find((g): g is Record<string, unknown> => {
    if (!isObject(g) || !isObject(g.labels)) return false;
    return g.labels.job === JOBS.exporter && g.labels[PUSH_GROUPING_LABEL] === cronjob;
  });
  const result = new Map<string, Series[]>();
  if (group === undefined) return result;
  for (const [name, family] of Object.entries(group)) {
    if (!isObject(family) || !Array.isArray(family.metrics)) continue;
    const series: Series[] = [];
    for (const metric of family.metrics) {
      if (!isObject(metric) || !isObject(metric.labels) || typeof metric.value !== 'string')
        continue;
      const labels = Object.fromEntries(
        Object.entries(metric.labels).filter(
          ([k, v]) => !GROUP_LABELS.includes(k) && typeof v === 'string',
        ),
      ) as Record<string, string>;
      series.push({ labels, value: Number(metric.value) });
    }
    result.set(name, series);
  }
  return result;
}

/** Replaces the whole group. `auth`: the basic-auth header (basic-auth.ts), when the Pushgateway checks one. */
export async function putGroup(
  pushgatewayUrl: string,
  cronjob: string,
  body: string,
  contentType: string,
  signal: AbortSignal,
  auth: Readonly<Record<string, string>> = {},
): Promise<void> {
  await checkedFetch(`${base(pushgatewayUrl)}${groupPath(cronjob)}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': contentType, ...auth },
    signal,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
