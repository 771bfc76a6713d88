/**
 * Default schedules: each image gets a minute inside the configured daily window, picked by a
 * hash of its reference, so 200 CronJobs do not all start at once and a schedule never moves
 * when other images are added or removed.
 */
import { CronExpressionParser } from 'cron-parser';
import { stableHash } from './naming.ts';

const MINUTES_PER_DAY = 24 * 60;
/** Occurrences sampled to find the longest gap between runs: covers a year of daily schedules. */
const SAMPLE_RUNS = 400;

export interface DailyWindow {
  /** `HH:MM` */
  readonly start: string;
  /** `HH:MM`; before `start` means the window wraps past midnight. */
  readonly end: string;
}

function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/** A daily `M H * * *` schedule inside `window`, chosen by a hash of `key`. */
export function spreadSchedule(key: string, window: DailyWindow): string {
  const start = minutesOf(window.start);
  let length = (minutesOf(window.end) - start + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  if (length === 0) length = MINUTES_PER_DAY;
  const offset = Number.parseInt(stableHash(key).slice(0, 8), 16) % length;
  const minuteOfDay = (start + offset) % MINUTES_PER_DAY;
  return `${minuteOfDay % 60} ${Math.floor(minuteOfDay / 60)} * * *`;
}

/**
 * The longest gap, in seconds, between two consecutive runs of `schedule`: the interval after
 * which a missing run is overdue. Time-zone independent enough for alerting (DST shifts a gap by
 * at most an hour, which the rules' grace absorbs).
 */
export function longestIntervalSeconds(schedule: string): number {
  const expression = CronExpressionParser.parse(schedule, { currentDate: new Date(Date.UTC(2025, 0, 1)), tz: 'Etc/UTC' });
  let previous = expression.next().getTime();
  let longest = 0;
  for (let i = 0; i < SAMPLE_RUNS; i += 1) {
    const next = expression.next().getTime();
    longest = Math.max(longest, next - previous);
    previous = next;
  }
  return Math.round(longest / 1000);
}
