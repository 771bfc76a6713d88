import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { cronProblem } from '../../src/inventory/cron.ts';
import { longestIntervalSeconds, spreadSchedule } from '../../src/model/schedule.ts';

const minuteOfDay = (schedule: string): number => {
  const [minute, hour, ...rest] = schedule.split(' ');
  expect(rest).toEqual(['*', '*', '*']);
  return Number(hour) * 60 + Number(minute);
};
const refs = Array.from(
  { length: 200 },
  (_, i) => `registry.example.com/team-${i % 7}/service-${i}:1.${i}.0`,
);

describe('spreadSchedule', () => {
  it('puts every image at a minute inside the window, as a valid daily cron', () => {
    for (const ref of refs) {
      const schedule = spreadSchedule(ref, { start: '01:00', end: '05:00' });
      expect(cronProblem(schedule)).toBeUndefined();
      const minute = minuteOfDay(schedule);
      expect(minute).toBeGreaterThanOrEqual(60);
      expect(minute).toBeLessThan(300);
    }
  });

  it('wraps around midnight when the window ends before it starts', () => {
    const minutes = refs.map((ref) =>
      minuteOfDay(spreadSchedule(ref, { start: '22:30', end: '01:15' })),
    );
    for (const minute of minutes) expect(minute >= 22 * 60 + 30 || minute < 75).toBe(true);
    expect(minutes.some((m) => m >= 22 * 60 + 30)).toBe(true);
    expect(minutes.some((m) => m < 75)).toBe(true);
  });

  it('uses the whole day when start equals end', () => {
    const minutes = refs.map((ref) =>
      minuteOfDay(spreadSchedule(ref, { start: '03:00', end: '03:00' })),
    );
    expect(Math.min(...minutes)).toBeLessThan(3 * 60);
    expect(Math.max(...minutes)).toBeGreaterThan(12 * 60);
  });

  it('is deterministic and depends only on the image (adding images moves nothing)', () => {
    const window = { start: '01:00', end: '05:00' };
    const before = refs.map((ref) => spreadSchedule(ref, window));
    expect(refs.map((ref) => spreadSchedule(ref, window))).toEqual(before);
    expect(spreadSchedule(refs[0] ?? '', window)).toBe('31 2 * * *');
  });

  it('spreads 200 images: they do not land on a few minutes', () => {
    const counts = new Map<number, number>();
    for (const ref of refs) {
      const minute = minuteOfDay(spreadSchedule(ref, { start: '01:00', end: '05:00' }));
      counts.set(minute, (counts.get(minute) ?? 0) + 1);
    }
    // 200 uniformly hashed images over 240 minutes occupy ~140 distinct minutes.
    expect(counts.size).toBeGreaterThanOrEqual(110);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(5);
    // Every hour of the window gets a share.
    const perHour = [1, 2, 3, 4].map((h) =>
      [...counts].filter(([m]) => Math.floor(m / 60) === h).reduce((n, [, c]) => n + c, 0),
    );
    for (const n of perHour) expect(n).toBeGreaterThanOrEqual(30);
  });
});

describe('longestIntervalSeconds', () => {
  const DAY = 86_400;
  it.each([
    ['0 2 * * *', DAY],
    ['*/15 * * * *', 900],
    ['0 0,12 * * *', DAY / 2],
    ['5 1-3 * * *', 22 * 3600],
    ['0 9 * * 1-5', 3 * DAY],
    ['30 21 * * 0-4', 3 * DAY],
    ['0 6 * * 1', 7 * DAY],
    ['0 0 1 * *', 31 * DAY],
    ['0 0 31 * *', 61 * DAY],
    ['0 0 * 2 1', 350 * DAY],
    ['0 0 29 2 *', (4 * 365 + 1) * DAY],
    // Both day fields restricted: a day matches either (Friday or the 13th).
    ['0 2 13 * 5', 7 * DAY],
    ['0 0 1,15 * 1', 7 * DAY],
  ])('%s -> %i s', (schedule, seconds) => {
    expect(longestIntervalSeconds(schedule)).toBe(seconds);
  });

  it('agrees with an independent cron implementation (cron-parser) on schedules both read the same way', () => {
    const oracle = (schedule: string): number => {
      const expression = CronExpressionParser.parse(schedule, {
        currentDate: new Date(Date.UTC(2025, 0, 1)),
        tz: 'Etc/UTC',
      });
      let previous = expression.next().getTime();
      let longest = 0;
      for (let i = 0; i < 120; i += 1) {
        const next = expression.next().getTime();
        longest = Math.max(longest, next - previous);
        previous = next;
      }
      return longest / 1000;
    };
    for (const schedule of [
      '17 3 * * *',
      '*/7 */5 * * *',
      '0 22 * * 6,0',
      '45 23 * * mon-fri',
      '0 12 */10 * *',
      '10 4 1-7 * *',
    ]) {
      expect(longestIntervalSeconds(schedule), schedule).toBe(oracle(schedule));
    }
  });

  it('rejects what it cannot evaluate', () => {
    expect(() => longestIntervalSeconds('0 0 30 2 *')).toThrow('never runs');
    expect(() => longestIntervalSeconds('@daily')).toThrow('invalid schedule');
  });
});
