/**
 * `copa-fleet report`: the auditor's report, point-in-time evidence and SLA attainment over a
 * period, from Prometheus (or Thanos Query, or Mimir: the same HTTP API). See src/report/.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatIssue, InventoryError, loadInventory } from '../../inventory/load.ts';
import type { Inventory } from '../../inventory/schema.ts';
import { scanFreshness } from '../../model/scan-freshness.ts';
import { sel } from '../../observability/promql.ts';
import { defaultInventory, reportSettings } from '../../report/fleet-settings.ts';
import { generateReport, ReportError } from '../../report/generate.ts';
import { PrometheusClient, PrometheusError } from '../../report/prometheus-client.ts';
import { renderHtml } from '../../report/render-html.ts';
import { renderMarkdown } from '../../report/render-md.ts';
import { fileErrorReason } from '../../support/file-errors.ts';
import { type Command, EXIT, type Io, UsageError } from '../command.ts';
import { DEFAULT_INVENTORY } from './synth.ts';

export const REPORT_FORMATS = ['html', 'md', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Range queries get about this many steps over the period (Prometheus refuses more than 11,000). */
const TARGET_STEPS = 720;

const USAGE = `Usage: copa-fleet report --prometheus URL [--inventory FILE] [--at TIME] [--period DURATION] [--format html|md|json] [--out FILE]

The auditor's report from Prometheus: as of --at, the four compliance questions (Critical CVEs on
running digests, CVEs past their SLA, failed or overdue Copa runs, containers on a pre-patch digest);
over the period before it, CVEs appeared and remediated per severity, the share fixed within SLA and
the time to remediate (median, p90), runs by outcome, time with drift, the compliance ratio and
breaches per day; coverage of the evidence (scrape gaps, unscanned namespaces, stale scans,
retention) and the inventory as it was. Every figure names the PromQL it came from.
It reads the fleet's series only, through the selectors its rules use (derived from its inventory:
the namespace and prometheus.selectors), so one Prometheus can hold several fleets.

Options:
  --prometheus URL         Prometheus, Thanos Query or Mimir base URL (Mimir: include /prometheus)
  -i, --inventory FILE     The fleet's inventory (default: ${DEFAULT_INVENTORY} when present; without one,
                           the selectors of an inventory of defaults: namespace copa-fleet, said on stderr)
  --at TIME                Report time: ISO 8601 (2026-09-30T00:00:00Z) or Unix seconds (default: now)
  --period DURATION        The period before --at, e.g. 30d, 90d, 12h, 1w (default: 30d)
  --format FORMAT          html (default: one self-contained file), md or json
  --out FILE               Write the report here (default: stdout)
  --bearer-token-file FILE Send "Authorization: Bearer <file content>"
  --ca-file FILE           PEM CA bundle for an https URL
  --header "NAME: VALUE"   Extra request header, repeatable (e.g. "X-Scope-OrgID: tenant-1")
  --timeout DURATION       Per-request timeout (default: 60s)
  --resolution DURATION    Step of the time-based figures and charts (default: period / ${TARGET_STEPS}, at least 1m)
  --scan-max-age HOURS     A scan older than this is stale (default: the fleet's TrivyScanStale threshold,
                           prometheus.scanMaxAgeHours or derived from the report TTL)
  -h, --help               Show this help

A progress line goes to stderr while it queries.
Exit status: 0 report written, 1 Prometheus unreachable, failing, or holding none of copa-fleet's
series for the period (or an unreadable file, or an invalid inventory), 2 usage error.
`;

const UNITS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 7 * 86_400,
  y: 365 * 86_400,
};

/** A Prometheus-style duration (`30d`, `1h30m`) in seconds. */
export function parseDuration(text: string, flag: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|[smhdwy])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new UsageError(`${flag} must be a duration like 30d, 12h or 1h30m (got "${text}")`);
  const seconds = parts.reduce(
    (sum, [, n, unit]) => sum + (unit === 'ms' ? Number(n) / 1000 : Number(n) * UNITS[unit!]!),
    0,
  );
  if (seconds <= 0) throw new UsageError(`${flag} must be more than 0 (got "${text}")`);
  return seconds;
}

export function parseTime(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(text))
    throw new UsageError(
      `--at must be ISO 8601 (2026-09-30T00:00:00Z) or Unix seconds (got "${text}")`,
    );
  return ms / 1000;
}

function parseHeader(text: string): readonly [string, string] {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    throw new UsageError(`--header must be "NAME: VALUE" (got "${text}")`);
  return [name, text.slice(colon + 1).trim()];
}

function isFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

async function readOption(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ReportError(`cannot read ${flag} "${file}": ${fileErrorReason(error)}`);
  }
}

export const reportCommand: Command = {
  name: 'report',
  summary:
    "the auditor's report from Prometheus: evidence as of a time, SLA attainment over a period (html, md, json)",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        prometheus: { type: 'string' },
        inventory: { type: 'string', short: 'i' },
        at: { type: 'string' },
        period: { type: 'string', default: '30d' },
        format: { type: 'string', default: 'html' },
        out: { type: 'string' },
        'bearer-token-file': { type: 'string' },
        'ca-file': { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        timeout: { type: 'string', default: '60s' },
        resolution: { type: 'string' },
        'scan-max-age': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.prometheus === undefined) throw new UsageError('--prometheus URL is required');
    let url: URL;
    try {
      url = new URL(values.prometheus);
    } catch {
      throw new UsageError(
        `--prometheus must be an http or https URL (got "${values.prometheus}")`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UsageError(
        `--prometheus must be an http or https URL (got "${values.prometheus}")`,
      );
    const format = values.format;
    if (!isFormat(format))
      throw new UsageError(
        `--format must be one of ${REPORT_FORMATS.join(', ')} (got "${format}")`,
      );
    const at = Math.floor(values.at === undefined ? Date.now() / 1000 : parseTime(values.at));
    const periodSeconds = Math.round(parseDuration(values.period, '--period'));
    const stepSeconds =
      values.resolution === undefined
        ? Math.max(60, Math.ceil(periodSeconds / TARGET_STEPS / 60) * 60)
        : Math.max(1, Math.round(parseDuration(values.resolution, '--resolution')));
    if (periodSeconds / stepSeconds > 11_000)
      throw new UsageError(
        `--resolution ${values.resolution} gives more than 11,000 steps over --period ${values.period} (Prometheus' limit)`,
      );
    const timeoutMs = parseDuration(values.timeout, '--timeout') * 1000;
    if (values.inventory === '') throw new UsageError('--inventory needs a file name');
    const scanMaxAgeOption =
      values['scan-max-age'] === undefined ? undefined : Number(values['scan-max-age']);
    if (scanMaxAgeOption !== undefined && !(scanMaxAgeOption > 0))
      throw new UsageError(
        `--scan-max-age must be a positive number of hours (got "${values['scan-max-age']}")`,
      );
    const headers = Object.fromEntries(values.header.map(parseHeader));

    const progress = (line: string) => io.stderr(`copa-fleet report: ${line}\n`);
    const inventory = await fleetInventory(values.inventory, io);
    if (inventory === undefined) return EXIT.invalid;
    const settings = reportSettings(inventory);
    progress(
      `selectors: collector ${settings.q.selectors.collector.map((scope) => sel('', scope.matchers, scope.regex) || '{}').join(' or ')}, exporter ${JSON.stringify(settings.q.selectors.exporter)}, records ${JSON.stringify(settings.q.selectors.records)}`,
    );
    const scanMaxAgeHours = scanMaxAgeOption ?? scanFreshness(inventory).scanMaxAgeHours;
    try {
      const bearerToken =
        values['bearer-token-file'] === undefined
          ? undefined
          : (await readOption(values['bearer-token-file'], '--bearer-token-file')).trim();
      const ca =
        values['ca-file'] === undefined
          ? undefined
          : await readOption(values['ca-file'], '--ca-file');
      const client = new PrometheusClient({
        url: values.prometheus,
        timeoutMs,
        headers,
        ...(bearerToken !== undefined && { bearerToken }),
        ...(ca !== undefined && { ca }),
      });
      const report = await generateReport(client, {
        window: { at, periodSeconds, stepSeconds },
        scanMaxAgeHours,
        settings,
        progress,
      });
      const text =
        format === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : format === 'md'
            ? renderMarkdown(report)
            : renderHtml(report);
      if (values.out === undefined) io.stdout(text);
      else {
        try {
          await writeFile(values.out, text);
        } catch (error) {
          throw new ReportError(`cannot write --out "${values.out}": ${fileErrorReason(error)}`);
        }
        progress(`wrote ${values.out} (${format}, ${Buffer.byteLength(text)} bytes)`);
      }
      return EXIT.ok;
    } catch (error) {
      if (error instanceof PrometheusError || error instanceof ReportError) {
        io.stderr(`copa-fleet report: ${error.message}\n`);
        return EXIT.invalid;
      }
      throw error;
    }
  },
};

/**
 * The inventory whose selectors the report uses: --inventory, else ./inventory.yaml when present,
 * else one of defaults (said on stderr). Undefined after printing every problem of an invalid one.
 */
async function fleetInventory(file: string | undefined, io: Io): Promise<Inventory | undefined> {
  const chosen = file ?? (existsSync(DEFAULT_INVENTORY) ? DEFAULT_INVENTORY : undefined);
  if (chosen === undefined) {
    const inventory = defaultInventory();
    io.stderr(
      `copa-fleet report: no --inventory and no ${DEFAULT_INVENTORY} here: reading the series with the selectors of an inventory of defaults ` +
        `(namespace ${inventory.defaults.namespace}, the generated Pushgateway, no prometheus.selectors); pass --inventory for another fleet\n`,
    );
    return inventory;
  }
  try {
    return await loadInventory(chosen);
  } catch (error) {
    if (!(error instanceof InventoryError)) throw error;
    io.stderr(
      `${error.issues.map(formatIssue).join('\n')}\ncopa-fleet report: ${error.issues.length === 1 ? '1 problem' : `${error.issues.length} problems`} in ${chosen}\n`,
    );
    return undefined;
  }
}
