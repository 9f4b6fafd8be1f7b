import { RecurrencePattern, seriesEnd } from '../src/events/recurrence';
import { wallClock } from '../src/events/zones';

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

/** A series in a time zone keeps that zone's clock: London's clocks go forward on 29 March 2026 and back on 25 October. */
describe('time zones', () => {
  const london = wallClock('Europe/London');
  const at = (iso: string) => new Date(iso);

  it('reads and sets the clock of a zone, as RFC 5545 resolves the hours clocks skip or repeat', () => {
    expect(london.read(at('2026-01-05T09:00:00Z')).toISOString()).toBe('2026-01-05T09:00:00.000Z');
    expect(london.read(at('2026-07-06T08:00:00Z')).toISOString()).toBe('2026-07-06T09:00:00.000Z');
    expect(london.instantOf(at('2026-07-06T09:00:00Z')).toISOString()).toBe('2026-07-06T08:00:00.000Z');
    // 01:30 on 29 March never shows: read with the offset before the gap, it is 02:30 summer time.
    expect(london.instantOf(at('2026-03-29T01:30:00Z')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 01:30 on 25 October shows twice: the first, still summer time.
    expect(london.instantOf(at('2026-10-25T01:30:00Z')).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(wallClock('Asia/Kolkata').instantOf(at('2026-01-05T09:00:00Z')).toISOString()).toBe('2026-01-05T03:30:00.000Z');
  });

  it('stores a zone by its canonical name and refuses one Intl does not know', () => {
    expect(RecurrencePattern.parse({ frequency: 'weekly', time_zone: 'europe/london' })).toEqual({ frequency: 'weekly', time_zone: 'Europe/London' });
    expect(RecurrencePattern.parse({ rrule: 'FREQ=DAILY', time_zone: 'Etc/UTC' })).toEqual({ rrule: 'FREQ=DAILY', time_zone: 'UTC' });
    expect(RecurrencePattern.safeParse({ frequency: 'weekly', time_zone: 'Mars/Olympus_Mons' }).success).toBe(false);
    expect(RecurrencePattern.safeParse({ frequency: 'weekly', time_zone: '' }).success).toBe(false);
  });

  it('ends a counted series by its zone\'s clock', () => {
    // Mondays at 09:00 in London from 23 March: the third, 6 April, is at 08:00 UTC.
    const start = at('2026-03-23T09:00:00Z');
    const end = at('2026-03-23T10:00:00Z');
    expect(seriesEnd(start, end, RecurrencePattern.parse({ frequency: 'weekly', count: 3, time_zone: 'Europe/London' }))).toEqual(at('2026-04-06T09:00:00Z'));
    expect(seriesEnd(start, end, RecurrencePattern.parse({ frequency: 'weekly', count: 3 }))).toEqual(at('2026-04-06T10:00:00Z'));
  });
});
