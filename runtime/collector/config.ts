/**
 * Tuning knobs of the collector. The defaults are the production values; the environment can
 * override them (tests shorten the timers, benchmarks change page sizes). The generator sets none
 * of them: the command line (parseCollectorArgs in src/shared/contract.ts) is the contract.
 */

/** Environment variables read by `tuningFromEnv`. */
export const COLLECTOR_ENV = {
  /** Delay between the first change event and the recomputation of the affected series. */
  flushDelayMs: 'COPA_FLEET_COLLECTOR_FLUSH_DELAY_MS',
  /** Debounce of writes to the state ConfigMap. */
  stateWriteDelayMs: 'COPA_FLEET_COLLECTOR_STATE_WRITE_DELAY_MS',
  /** Period of the time-driven checks (SLA breaches, missed schedules, clock pruning). */
  tickMs: 'COPA_FLEET_COLLECTOR_TICK_MS',
  /** Server-side watch timeout; each watch asks for a random value between this and twice this. */
  watchTimeoutSeconds: 'COPA_FLEET_COLLECTOR_WATCH_TIMEOUT_SECONDS',
  backoffInitialMs: 'COPA_FLEET_COLLECTOR_BACKOFF_INITIAL_MS',
  backoffMaxMs: 'COPA_FLEET_COLLECTOR_BACKOFF_MAX_MS',
  podsPageSize: 'COPA_FLEET_COLLECTOR_PODS_PAGE_SIZE',
  reportsPageSize: 'COPA_FLEET_COLLECTOR_REPORTS_PAGE_SIZE',
  /** An SLA breach counter series appears (at 0) this long before the breach is due. */
  breachPrewarmSeconds: 'COPA_FLEET_COLLECTOR_BREACH_PREWARM_SECONDS',
  /** A breach counter series is exposed at 0 at least this long before it becomes 1 (so increase() sees the step). */
  breachMinExposureSeconds: 'COPA_FLEET_COLLECTOR_BREACH_MIN_EXPOSURE_SECONDS',
  /** A CVE that comes back within this window resumes its original first-seen time. */
  cveResumeWindowSeconds: 'COPA_FLEET_COLLECTOR_CVE_RESUME_WINDOW_SECONDS',
  /** Slack added to a CronJob's interval and starting deadline before a run counts as missed. */
  missedScheduleGraceSeconds: 'COPA_FLEET_COLLECTOR_MISSED_SCHEDULE_GRACE_SECONDS',
  /**
   * Series are first computed once pods, reports and the inventory are listed (one computation
   * instead of one per page), or after this long if some list keeps failing.
   */
  initialSyncTimeoutMs: 'COPA_FLEET_COLLECTOR_INITIAL_SYNC_TIMEOUT_MS',
  /** Longest a graceful shutdown waits for the final state write. */
  shutdownTimeoutMs: 'COPA_FLEET_COLLECTOR_SHUTDOWN_TIMEOUT_MS',
  /** Period of the Pushgateway cleanup passes (pushgateway-cleanup.ts); a failed pass is retried at the next. */
  pushgatewayCleanupIntervalMs: 'COPA_FLEET_COLLECTOR_PUSHGATEWAY_CLEANUP_INTERVAL_MS',
  /** Overrides the inventory's `silenceWatch.intervalSeconds` when above 0 (tests). */
  silencePollMs: 'COPA_FLEET_COLLECTOR_SILENCE_POLL_MS',
} as const;

export interface CollectorTuning {
  readonly flushDelayMs: number;
  readonly stateWriteDelayMs: number;
  readonly tickMs: number;
  readonly watchTimeoutSeconds: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly podsPageSize: number;
  readonly reportsPageSize: number;
  readonly breachPrewarmSeconds: number;
  readonly breachMinExposureSeconds: number;
  readonly cveResumeWindowSeconds: number;
  readonly missedScheduleGraceSeconds: number;
  readonly initialSyncTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly pushgatewayCleanupIntervalMs: number;
  readonly silencePollMs: number;
}

export const DEFAULT_TUNING: CollectorTuning = {
  flushDelayMs: 100,
  stateWriteDelayMs: 2000,
  tickMs: 15_000,
  watchTimeoutSeconds: 300,
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  // Small pages keep each parsed page in V8's young generation (it dies there instead of growing
  // the old space): measured with the collector benchmark (bench/collector.ts), 500/20 peaked about 40 MB higher than 250/10.
  podsPageSize: 250,
  // VulnerabilityReports are large (tens to hundreds of kB each).
  reportsPageSize: 10,
  breachPrewarmSeconds: 3600,
  breachMinExposureSeconds: 60,
  cveResumeWindowSeconds: 86_400,
  missedScheduleGraceSeconds: 300,
  initialSyncTimeoutMs: 30_000,
  shutdownTimeoutMs: 10_000,
  pushgatewayCleanupIntervalMs: 10 * 60_000,
  silencePollMs: 0,
};

/** Reads overrides from `env`; throws an Error naming the variable on a malformed value. */
export function tuningFromEnv(env: NodeJS.ProcessEnv): CollectorTuning {
  const result: Record<string, number> = { ...DEFAULT_TUNING };
  for (const [key, variable] of Object.entries(COLLECTOR_ENV)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`${variable} must be a non-negative number (got "${raw}")`);
    result[key] = value;
  }
  for (const key of ['podsPageSize', 'reportsPageSize', 'tickMs', 'watchTimeoutSeconds'] as const) {
    if (result[key]! < 1) throw new Error(`${COLLECTOR_ENV[key]} must be at least 1`);
  }
  return result as unknown as CollectorTuning;
}
