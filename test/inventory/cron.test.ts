import { describe, expect, it } from 'vitest';
import { cronProblem } from '../../src/inventory/cron.ts';

describe('cronProblem: the schedules Kubernetes accepts (robfig/cron standard parser)', () => {
  it.each([
    '0 2 * * *',
    '*/5 * * * *',
    '0 0-23/6 * * *',
    '15,45 1 * * *',
    '0 2 1-7 * mon',
    '0 2 * JAN,jul *',
    '0 2 * * SUN-sat',
    '0 2 ? * ?',
    '59 23 31 12 6',
    '0 2 10/5 * *',
    '  0 2 * * *  ',
  ])('accepts %j', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['', 'found 0 fields'],
    ['0 2 * * * *', 'found 6 fields'],
    ['@hourly', 'macros such as @daily are not supported'],
    ['60 * * * *', 'minute 60 is out of range 0-59'],
    ['0 24 * * *', 'hour 24 is out of range 0-23'],
    ['0 0 0 * *', 'day of month 0 is out of range 1-31'],
    ['0 0 * 13 *', 'month 13 is out of range 1-12'],
    ['0 0 * * 7', 'day of week 7 is out of range 0-6'],
    ['0 0 L * *', 'day of month "L" is not a number'],
    ['0 0 * * 1#2', 'day of week "1#2" is not a number'],
    ['H 0 * * *', 'minute "H" is not a number'],
    ['0 0 * * mon-', '"mon-" is malformed'],
    ['*/0 * * * *', 'step "0" must be a positive number'],
    ['1/2/3 * * * *', '"1/2/3" is malformed'],
    ['0 5-2 * * *', 'range "5-2" starts after it ends'],
    ['0 0 * foo *', 'month "foo" is not a number or a name (jan, feb'],
    ['0 0 30 2 *', 'never runs'],
  ])('rejects %j: %s', (expression, message) => {
    expect(cronProblem(expression)).toContain(message);
  });
});
