/**
 * Default schedules: each image gets a minute inside the configured daily window, picked by a
 * hash of its reference, so 200 CronJobs do not all start at once and a schedule never moves
 * when other images are added or removed.
 */
import { CALENDAR_CYCLE_DAYS, matchingDays, parseCron } from '../inventory/cron.ts';
import { stableHash } from './naming.ts';

const MINUTES_PER_DAY = 24 * 60;

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

/** Minutes of the daily window (`end` before `start` wraps past midnight; equal means all day). */
function windowMinutes(window: DailyWindow): number {
  const length =
    (minutesOf(window.end) - minutesOf(window.start) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return length === 0 ? MINUTES_PER_DAY : length;
}

/** Whole hours the daily window spans, rounded up. */
export function windowHours(start: string, end: string): number {
  return Math.ceil(windowMinutes({ start, end }) / 60);
}

/** A daily `M H * * *` schedule inside `window`, chosen by a hash of `key`. */
export function spreadSchedule(key: string, window: DailyWindow): string {
  const start = minutesOf(window.start);
  const length = windowMinutes(window);
  const offset = Number.parseInt(stableHash(key).slice(0, 8), 16) % length;
  const minuteOfDay = (start + offset) % MINUTES_PER_DAY;
  return `${minuteOfDay % 60} ${Math.floor(minuteOfDay / 60)} * * *`;
}

/**
 * The longest gap, in seconds, between two consecutive runs of `schedule`: the interval after
 * which a missing run is overdue. Exact over the 28-year calendar cycle, evaluated with the
 * Kubernetes cron rules (cron.ts) in UTC; time-zone independent enough for alerting (DST shifts
 * a gap by at most an hour, which the rules' grace absorbs).
 */
export function longestIntervalSeconds(schedule: string): number {
  const parsed = parseCron(schedule);
  if (!parsed.ok) throw new Error(`invalid schedule "${schedule}": ${parsed.problem}`);
  const { minutes, hours } = parsed.fields;
  // Minutes of the day the schedule runs at, ascending (hours and minutes are sorted).
  const times = hours.flatMap((hour) => minutes.map((minute) => hour * 60 + minute));
  const days = matchingDays(parsed.fields);
  const first = times[0];
  const last = times.at(-1);
  if (first === undefined || last === undefined || days.length === 0)
    throw new Error(`schedule "${schedule}" never runs`);
  let longest = 0;
  for (let i = 1; i < times.length; i += 1)
    longest = Math.max(longest, (times[i] ?? 0) - (times[i - 1] ?? 0));
  longest = Math.max(longest, longestDayGap(days) * MINUTES_PER_DAY + first - last);
  return longest * 60;
}

/** Per matching-days list (shared by matchingDays): the most days between two consecutive run days. */
const dayGaps = new WeakMap<readonly number[], number>();

function longestDayGap(days: readonly number[]): number {
  let gap = dayGaps.get(days);
  if (gap === undefined) {
    gap = 0;
    for (const [i, day] of days.entries()) {
      // The calendar repeats after the cycle, so the last matching day is followed by the first one.
      const next = days[i + 1] ?? (days[0] ?? 0) + CALENDAR_CYCLE_DAYS;
      gap = Math.max(gap, next - day);
    }
    dayGaps.set(days, gap);
  }
  return gap;
}
