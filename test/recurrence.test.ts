import { RecurrencePattern, seriesEnd } from '../src/events/recurrence';

/** When a series ends, for range queries: worked out from the rule, never stepped through. */
describe('seriesEnd', () => {
  const start = new Date('2026-01-05T09:00:00Z'); // a Monday
  const end = new Date('2026-01-05T10:00:00Z');
  const endOf = (pattern: unknown, from = start, to = end) => seriesEnd(from, to, RecurrencePattern.parse(pattern))?.toISOString() ?? null;

  it('is the end of the last occurrence of a counted or dated series, and null for an endless one', () => {
    expect(seriesEnd(start, end, null)).toEqual(end);
    expect(endOf({ frequency: 'weekly', count: 3 })).toBe('2026-01-19T10:00:00.000Z');
    expect(endOf({ frequency: 'daily', interval: 2, count: 4 })).toBe('2026-01-11T10:00:00.000Z');
    expect(endOf({ rrule: 'FREQ=MONTHLY;COUNT=3' })).toBe('2026-03-05T10:00:00.000Z');
    expect(endOf({ rrule: 'FREQ=HOURLY;INTERVAL=6;COUNT=5' })).toBe('2026-01-06T10:00:00.000Z');
    expect(endOf({ frequency: 'daily', until: '2026-02-01T00:00:00Z' })).toBe('2026-02-01T01:00:00.000Z');
    expect(endOf({ frequency: 'weekly' })).toBeNull();
  });

  it('bounds a weekly series on given weekdays by the weeks its count needs', () => {
    // Mondays and Wednesdays, five times: the last is Monday 19 January; the bound is two weeks later at most.
    const bound = endOf({ frequency: 'weekly', by_weekday: ['MO', 'WE'], count: 5 })!;
    expect(bound >= '2026-01-19T10:00:00.000Z' && bound <= '2026-02-02T10:00:00.000Z').toBe(true);
    // From a Wednesday, every other week on Mondays and Tuesdays: the first week holds none of them.
    const fromWednesday = new Date('2026-01-07T09:00:00Z');
    const last = endOf({ rrule: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;COUNT=4' }, fromWednesday, new Date('2026-01-07T10:00:00Z'))!;
    expect(last >= '2026-02-03T10:00:00.000Z').toBe(true); // Tuesday 3 February, the fourth
  });

  it('takes as endless a counted series it cannot place without stepping through it', () => {
    // 30 February never comes: stepping would go on to the year 9999.
    expect(endOf({ rrule: 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1' })).toBeNull();
    expect(endOf({ frequency: 'monthly', by_month_day: [31], count: 3 })).toBeNull();
    // From the 31st, a monthly series skips the months without one.
    const thirtyFirst = new Date('2026-01-31T09:00:00Z');
    expect(endOf({ frequency: 'monthly', count: 3 }, thirtyFirst, new Date('2026-01-31T10:00:00Z'))).toBeNull();
  });
});
