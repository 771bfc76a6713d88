/**
 * CronJob schedules as Kubernetes reads them. The API server parses `spec.schedule` with
 * robfig/cron's standard parser: 5 fields; `*`, `?`, lists, ranges, steps, month and weekday
 * names; weekdays 0-6; when both day fields are restricted a day matches either. Other cron
 * dialects accept more (`L`, `#`, `H`, weekday 7, seconds, macros): checking this grammar keeps
 * an inventory from passing validation and then being rejected at apply time.
 */

export interface CronFields {
  /** Sorted. */
  readonly minutes: readonly number[];
  /** Sorted. */
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday. */
  readonly daysOfWeek: ReadonlySet<number>;
  /** True when the day-of-month field is `*` or `?` (robfig's star bit: `*\/2` is restricted). */
  readonly dayOfMonthStar: boolean;
  readonly dayOfWeekStar: boolean;
}

export type CronParse =
  | { readonly ok: true; readonly fields: CronFields }
  | { readonly ok: false; readonly problem: string };

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const MINUTE: Field = { name: 'minute', min: 0, max: 59 };
const HOUR: Field = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: Field = { name: 'day of month', min: 1, max: 31 };
const MONTH: Field = { name: 'month', min: 1, max: 12, names: MONTHS };
const DAY_OF_WEEK: Field = { name: 'day of week', min: 0, max: 6, names: WEEKDAYS };
const FIELDS = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK] as const;

const NUMBER = /^[0-9]+$/;
const FORMAT =
  'must be a standard 5-field cron expression (minute hour day-of-month month day-of-week)';

/** Why `expression` is not a schedule Kubernetes accepts and that ever runs, or undefined. */
export function cronProblem(expression: string): string | undefined {
  const parsed = parseCron(expression);
  if (!parsed.ok) return parsed.problem;
  if (matchingDays(parsed.fields).length === 0)
    return 'never runs: no selected month has the selected day of month';
  return undefined;
}

export function parseCron(expression: string): CronParse {
  const text = expression.trim();
  if (text.startsWith('@'))
    return { ok: false, problem: `${FORMAT}; macros such as @daily are not supported` };
  const parts = text === '' ? [] : text.split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return {
      ok: false,
      problem: `${FORMAT}, found ${parts.length} field${parts.length === 1 ? '' : 's'}`,
    };
  }
  const sets: Array<{ values: Set<number>; star: boolean }> = [];
  for (const [index, field] of FIELDS.entries()) {
    const parsed = parseField(parts[index] ?? '', field);
    if (typeof parsed === 'string')
      return { ok: false, problem: `is not a valid cron expression: ${field.name} ${parsed}` };
    sets.push(parsed);
  }
  const [minutes, hours, dom, months, dow] = sets as [Parsed, Parsed, Parsed, Parsed, Parsed];
  return {
    ok: true,
    fields: {
      minutes: [...minutes.values].sort((a, b) => a - b),
      hours: [...hours.values].sort((a, b) => a - b),
      daysOfMonth: dom.values,
      months: months.values,
      daysOfWeek: dow.values,
      dayOfMonthStar: dom.star,
      dayOfWeekStar: dow.star,
    },
  };
}

/** robfig/cron's day rule: with either day field unrestricted both must match, otherwise either. */
export function dayMatches(
  fields: CronFields,
  dayOfMonth: number,
  month: number,
  dayOfWeek: number,
): boolean {
  if (!fields.months.has(month)) return false;
  const dom = fields.daysOfMonth.has(dayOfMonth);
  const dow = fields.daysOfWeek.has(dayOfWeek);
  return fields.dayOfMonthStar || fields.dayOfWeekStar ? dom && dow : dom || dow;
}

const DAY_MS = 86_400_000;
/** 2001-01-01: the Gregorian calendar repeats weekdays and leap years every 28 years from here to 2099. */
const CYCLE_START_MS = Date.UTC(2001, 0, 1);
export const CALENDAR_CYCLE_DAYS = 28 * 365 + 7;

/** Matching days depend only on the day fields, and fleets share a handful (`* * *`): computed once each. */
const daysByDayFields = new Map<string, readonly number[]>();

/** Indexes (days since 2001-01-01) of the days in one 28-year calendar cycle on which `fields` runs. */
export function matchingDays(fields: CronFields): readonly number[] {
  const sorted = (set: ReadonlySet<number>) => [...set].sort((a, b) => a - b).join(',');
  const key = `${sorted(fields.daysOfMonth)}|${sorted(fields.months)}|${sorted(fields.daysOfWeek)}|${fields.dayOfMonthStar}|${fields.dayOfWeekStar}`;
  const cached = daysByDayFields.get(key);
  if (cached !== undefined) return cached;
  const days: number[] = [];
  for (let day = 0; day < CALENDAR_CYCLE_DAYS; day += 1) {
    const date = new Date(CYCLE_START_MS + day * DAY_MS);
    if (dayMatches(fields, date.getUTCDate(), date.getUTCMonth() + 1, date.getUTCDay()))
      days.push(day);
  }
  Object.freeze(days);
  daysByDayFields.set(key, days);
  return days;
}

interface Parsed {
  values: Set<number>;
  star: boolean;
}

function parseField(text: string, field: Field): Parsed | string {
  const values = new Set<number>();
  let star = false;
  for (const item of text.split(',')) {
    const [range = '', step, extra] = item.split('/');
    if (extra !== undefined || range === '') return `"${item}" is malformed`;
    if (step !== undefined && (!NUMBER.test(step) || Number(step) === 0))
      return `step "${step}" must be a positive number`;
    const every = step === undefined ? 1 : Number(step);
    let low = field.min;
    let high = field.max;
    if (range === '*' || range === '?') {
      // robfig sets the star bit for `*` and `?` alone; a step makes the field restricted.
      if (step === undefined) star = true;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2 || bounds.includes('')) return `"${item}" is malformed`;
      const numbers: number[] = [];
      for (const bound of bounds) {
        const value = valueOf(bound, field);
        if (value === undefined) {
          const names = field.names === undefined ? '' : ` or a name (${field.names.join(', ')})`;
          return `"${bound}" is not a number${names}; Kubernetes does not support L, W, # or H`;
        }
        if (value < field.min || value > field.max)
          return `${value} is out of range ${field.min}-${field.max}`;
        numbers.push(value);
      }
      low = numbers[0] ?? field.min;
      // `N/step` means N to the end of the range.
      high = numbers[1] ?? (step === undefined ? low : field.max);
      if (low > high) return `range "${range}" starts after it ends`;
    }
    for (let value = low; value <= high; value += every) values.add(value);
  }
  return { values, star };
}

function valueOf(text: string, field: Field): number | undefined {
  if (NUMBER.test(text)) return Number(text);
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  // Names count from the field's minimum: jan is 1, sun is 0.
  return index === -1 ? undefined : field.min + index;
}
