/**
 * The silence watch: polls the silences of every Alertmanager of the inventory's `silenceWatch`
 * (every `intervalSeconds`, 60 by default) and exports, per active or pending silence that would
 * mute at least one copa-fleet alert (matchers.ts), one series set: copa_fleet_silence_info (id,
 * state, creator, ticket reference, which alerts, the highest severity among them) and its start
 * and end times. Expired silences have none. Per Alertmanager: copa_fleet_silence_watch_up, the
 * time of the last successful read and a failure counter. An Alertmanager that cannot be read
 * keeps its last known silence series: an outage must never look like every silence ended.
 */
import {
  INVENTORY_CONFIGMAP_KEY,
  type SilenceWatchSettings,
  type WatchedAlertmanager,
} from '../../../src/shared/contract.ts';
import { ALERT_SEVERITIES, METRICS, type MetricKey } from '../../../src/shared/metrics.ts';
import { describeError, type Logger } from '../log.ts';
import type { ConfigMapData } from '../projections.ts';
import { formatLabels, SeriesStore } from '../series.ts';
import { fetchSilences, type Silence } from './alertmanager-client.ts';
import { labelSpace, mutes, type AlertLabelSpace, type LabelContext } from './matchers.ts';

export interface SilenceWatchOptions {
  readonly log: Logger;
  readonly now?: () => number;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
  /** Overrides the inventory's interval (tests). */
  readonly intervalMsOverride?: number;
}

interface Resolved {
  readonly settings: SilenceWatchSettings;
  readonly ticket: RegExp;
  readonly spaces: readonly AlertLabelSpace[];
  readonly context: LabelContext;
}

/** What the watch concluded about one silence (exported as series). */
export interface ConcerningSilence {
  readonly alertmanager: string;
  readonly silence: Silence;
  readonly mutedAlerts: readonly string[];
  readonly mutedSeverity: string;
  readonly ticket: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The collector metrics the silence watch produces (and nothing else does). */
export const SILENCE_METRIC_KEYS = [
  'silenceInfo',
  'silenceStartsAt',
  'silenceEndsAt',
  'silenceWatchUp',
  'silenceWatchLastSuccess',
  'silenceWatchErrorsTotal',
] as const satisfies readonly MetricKey[];

export class SilenceWatch {
  private resolved: Resolved | undefined;
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 0;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private readonly up = new Map<string, boolean>();
  private readonly errors = new Map<string, number>();
  private readonly concerning = new Map<string, readonly ConcerningSilence[]>();
  private readonly stores = {
    info: new SeriesStore(METRICS.silenceInfo),
    startsAt: new SeriesStore(METRICS.silenceStartsAt),
    endsAt: new SeriesStore(METRICS.silenceEndsAt),
    up: new SeriesStore(METRICS.silenceWatchUp),
    lastSuccess: new SeriesStore(METRICS.silenceWatchLastSuccess),
    errors: new SeriesStore(METRICS.silenceWatchErrorsTotal),
  };

  constructor(private readonly options: SilenceWatchOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Installs the inventory ConfigMap's `silenceWatch` (undefined data or key: watch nothing). */
  configure(data: ConfigMapData | undefined): void {
    const parsed = parseSettings(data);
    if (!parsed.ok) {
      this.options.log.warn('silence watch config rejected', { reason: parsed.reason });
      return;
    }
    this.install(parsed.settings, parsed.images);
  }

  /** Installs settings directly (tests; `configure` parses them from the inventory ConfigMap). */
  install(
    settings: SilenceWatchSettings | undefined,
    images: readonly InventoryImageLabels[] = [],
  ): void {
    if (settings === undefined) {
      this.resolved = undefined;
      this.dropAlertmanagersExcept(new Set());
      this.reschedule(0);
      return;
    }
    const context: LabelContext = {
      knownLabels: new Set(settings.knownLabels),
      externalLabels: settings.externalLabels,
      images: unique(images.map((i) => i.image)),
      teams: unique(images.map((i) => i.team)),
      cronjobs: unique(images.map((i) => i.cronjob)),
    };
    this.resolved = {
      settings,
      ticket: new RegExp(settings.ticketPattern),
      spaces: settings.alerts.map((alert) => labelSpace(alert, context)),
      context,
    };
    this.dropAlertmanagersExcept(new Set(settings.alertmanagers.map((am) => am.url)));
    const now = this.now();
    for (const am of settings.alertmanagers) {
      if (!this.errors.has(am.url)) {
        this.errors.set(am.url, 0);
        this.stores.errors.setSingle(
          am.url,
          formatLabels(METRICS.silenceWatchErrorsTotal, { alertmanager: am.url }),
          0,
          now,
        );
      }
    }
    this.reschedule(this.options.intervalMsOverride ?? settings.intervalSeconds * 1000);
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.reschedule(0);
  }

  /** Polls every Alertmanager once (a poll already running is awaited instead). */
  poll(): Promise<void> {
    if (this.polling !== undefined) return this.polling;
    const resolved = this.resolved;
    if (resolved === undefined || this.stopped) return Promise.resolve();
    this.polling = Promise.all(
      resolved.settings.alertmanagers.map((am) => this.pollOne(am, resolved)),
    ).then(
      () => undefined,
      () => undefined,
    );
    return this.polling.finally(() => (this.polling = undefined));
  }

  /** The current conclusions per Alertmanager URL (for tests and the log). */
  silences(alertmanager: string): readonly ConcerningSilence[] | undefined {
    return this.concerning.get(alertmanager);
  }

  *render(nowMs: number): Generator<string> {
    for (const store of Object.values(this.stores)) if (store.size > 0) yield* store.render(nowMs);
  }

  private async pollOne(am: WatchedAlertmanager, resolved: Resolved): Promise<void> {
    const { log } = this.options;
    let silences: Silence[];
    try {
      silences = await fetchSilences(am, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } catch (error) {
      if (this.resolved !== resolved) return;
      const count = (this.errors.get(am.url) ?? 0) + 1;
      this.errors.set(am.url, count);
      const now = this.now();
      this.stores.errors.setSingle(
        am.url,
        formatLabels(METRICS.silenceWatchErrorsTotal, { alertmanager: am.url }),
        count,
        now,
      );
      this.stores.up.setSingle(
        am.url,
        formatLabels(METRICS.silenceWatchUp, { alertmanager: am.url }),
        0,
        now,
      );
      if (this.up.get(am.url) !== false)
        log.warn('alertmanager unreadable', {
          alertmanager: am.url,
          error: describeError(error),
          keptSilences: this.concerning.get(am.url)?.length ?? 0,
        });
      this.up.set(am.url, false);
      // The silence series of this Alertmanager stay as last read.
      return;
    }
    if (this.resolved !== resolved) return;
    const concerning = this.evaluate(am.url, silences, resolved);
    const now = this.now();
    const previous = this.concerning.get(am.url);
    this.concerning.set(am.url, concerning);
    this.replaceSeries(am.url, concerning, now);
    this.stores.up.setSingle(
      am.url,
      formatLabels(METRICS.silenceWatchUp, { alertmanager: am.url }),
      1,
      now,
    );
    this.stores.lastSuccess.setSingle(
      am.url,
      formatLabels(METRICS.silenceWatchLastSuccess, { alertmanager: am.url }),
      now / 1000,
      now,
    );
    if (this.up.get(am.url) !== true || previous?.length !== concerning.length) {
      log.info('silences read', {
        alertmanager: am.url,
        silences: silences.length,
        concerningUs: concerning.length,
      });
    }
    this.up.set(am.url, true);
  }

  /** The active and pending silences that would mute at least one of our alerts. */
  evaluate(
    alertmanager: string,
    silences: readonly Silence[],
    resolved: Resolved | undefined = this.resolved,
  ): ConcerningSilence[] {
    if (resolved === undefined) return [];
    const result: ConcerningSilence[] = [];
    for (const silence of silences) {
      if (silence.state === 'expired') continue;
      const muted = resolved.spaces
        .filter((space) => mutes(space, silence.matchers, resolved.context))
        .map((space) => space.alert);
      if (muted.length === 0) continue;
      const severities = muted
        .map((alert) =>
          ALERT_SEVERITIES.indexOf(alert.severity as (typeof ALERT_SEVERITIES)[number]),
        )
        .filter((i) => i >= 0);
      result.push({
        alertmanager,
        silence,
        mutedAlerts: unique(muted.map((alert) => alert.alertname)),
        mutedSeverity:
          severities.length === 0 ? 'none' : ALERT_SEVERITIES[Math.min(...severities)]!,
        ticket: resolved.ticket.test(silence.comment),
      });
    }
    return result.sort((a, b) =>
      a.silence.id < b.silence.id ? -1 : a.silence.id > b.silence.id ? 1 : 0,
    );
  }

  private replaceSeries(
    alertmanager: string,
    concerning: readonly ConcerningSilence[],
    now: number,
  ): void {
    const key = (c: ConcerningSilence) => ({ alertmanager, silence_id: c.silence.id });
    this.stores.info.replaceGroup(
      alertmanager,
      concerning.map((c) => ({
        labels: formatLabels(METRICS.silenceInfo, {
          ...key(c),
          state: c.silence.state,
          created_by: c.silence.createdBy,
          ticket: String(c.ticket),
          muted_alerts: c.mutedAlerts.join(','),
          muted_severity: c.mutedSeverity,
        }),
        value: 1,
        since: now,
      })),
    );
    this.stores.startsAt.replaceGroup(
      alertmanager,
      concerning.map((c) => ({
        labels: formatLabels(METRICS.silenceStartsAt, key(c)),
        value: c.silence.startsAt,
        since: now,
      })),
    );
    this.stores.endsAt.replaceGroup(
      alertmanager,
      concerning.map((c) => ({
        labels: formatLabels(METRICS.silenceEndsAt, key(c)),
        value: c.silence.endsAt,
        since: now,
      })),
    );
  }

  private dropAlertmanagersExcept(keep: ReadonlySet<string>): void {
    for (const url of [...this.errors.keys()]) {
      if (keep.has(url)) continue;
      for (const store of Object.values(this.stores)) store.deleteGroup(url);
      this.errors.delete(url);
      this.up.delete(url);
      this.concerning.delete(url);
    }
  }

  private reschedule(intervalMs: number): void {
    if (intervalMs === this.intervalMs && this.timer !== undefined && !this.stopped) return;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.intervalMs = intervalMs;
    if (intervalMs > 0 && !this.stopped) {
      this.timer = setInterval(() => void this.poll(), intervalMs);
      this.timer.unref();
    }
  }
}

/** The inventory fields the label values come from. */
export interface InventoryImageLabels {
  readonly image: string;
  readonly team: string;
  readonly cronjob: string;
}

type ParsedSettings =
  | { ok: true; settings: SilenceWatchSettings | undefined; images: InventoryImageLabels[] }
  | { ok: false; reason: string };

/** Reads `silenceWatch` and the images' label values from the inventory ConfigMap (written by synth). */
export function parseSettings(data: ConfigMapData | undefined): ParsedSettings {
  const text = data?.[INVENTORY_CONFIGMAP_KEY];
  if (text === undefined) return { ok: true, settings: undefined, images: [] };
  let json: { silenceWatch?: unknown; images?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (error) {
    return {
      ok: false,
      reason: `key ${INVENTORY_CONFIGMAP_KEY} is not JSON: ${(error as Error).message}`,
    };
  }
  const images: InventoryImageLabels[] = [];
  for (const entry of Array.isArray(json.images) ? (json.images as unknown[]) : []) {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof e.image === 'string' && typeof e.team === 'string' && typeof e.cronjob === 'string')
      images.push({ image: e.image, team: e.team, cronjob: e.cronjob });
  }
  const watch = json.silenceWatch;
  if (watch === undefined) return { ok: true, settings: undefined, images };
  const w = (typeof watch === 'object' && watch !== null ? watch : {}) as Record<string, unknown>;
  if (
    !Array.isArray(w.alertmanagers) ||
    !w.alertmanagers.every((am) => typeof (am as { url?: unknown })?.url === 'string')
  )
    return { ok: false, reason: 'silenceWatch.alertmanagers must be a list of {url}' };
  if (typeof w.intervalSeconds !== 'number' || !(w.intervalSeconds >= 1))
    return { ok: false, reason: 'silenceWatch.intervalSeconds must be at least 1' };
  if (typeof w.ticketPattern !== 'string')
    return { ok: false, reason: 'silenceWatch.ticketPattern must be a string' };
  try {
    new RegExp(w.ticketPattern);
  } catch (error) {
    return { ok: false, reason: `silenceWatch.ticketPattern: ${(error as Error).message}` };
  }
  if (!Array.isArray(w.alerts) || !Array.isArray(w.knownLabels))
    return { ok: false, reason: 'silenceWatch.alerts and knownLabels must be lists' };
  return {
    ok: true,
    settings: { externalLabels: {}, ...(w as object) } as SilenceWatchSettings,
    images,
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
