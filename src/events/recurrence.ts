import { RRule, type Options as RRuleOptions } from 'rrule';
import { z } from 'zod';
import type { CalendarEvent } from '../db/entities';
import { UtcTime } from '../http/schemas';
import { Description, Location, Title } from './text-fields';
import { canonicalTimeZone, wallClock } from './zones';

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

/** Keeps a string in one spelling, so equal values compare equal; `normalise` gives null for an invalid one. */
const spelledOnce = (normalise: (text: string) => string | null, message: string) => (text: string, ctx: z.RefinementCtx) => {
  const normalised = normalise(text);
  if (normalised === null) {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
  return normalised;
};

export const TimeZone = z
  .string()
  .max(64)
  .transform(spelledOnce(canonicalTimeZone, 'must be an IANA time zone, e.g. Europe/London'))
  .meta({
    example: 'Europe/London',
    description: "The zone whose clock the series keeps: each occurrence starts at start_time's time of day there, across daylight-saving changes, and weekdays and month days are that zone's. UTC when absent.",
  });

/** Kept in UTC, sorted and without repeats, so equal lists compare equal. */
const ExcludedStarts = z
  .array(UtcTime)
  .min(1)
  .max(1000)
  .transform((starts) => [...new Set(starts)].sort())
  .meta({
    example: ['2026-06-08T07:00:00Z'],
    description:
      "Occurrences that do not happen (RFC 5545's EXDATE), by their start as GET /events/occurrences gives it. They still count towards `count`.",
  });

/** Kept in UTC, sorted by the occurrence they change, each occurrence changed once at most. */
const ChangedOccurrences = z
  .array(
    z
      .strictObject({
        recurrence_id: UtcTime.meta({ description: 'The start the occurrence would have had: its `recurrence_id` in GET /events/occurrences' }),
        start_time: UtcTime.meta({ description: "The occurrence's start: its own, to change only its texts" }),
        end_time: UtcTime,
        title: Title.optional().meta({ description: "In place of the event's, for this occurrence" }),
        description: Description.optional().meta({ description: "In place of the event's, for this occurrence" }),
        location: Location.optional().meta({ description: "In place of the event's, for this occurrence; null for none" }),
      })
      .refine((changed) => changed.end_time > changed.start_time, { message: 'must be after start_time', path: ['end_time'] }),
  )
  .min(1)
  .max(1000)
  .refine((changes) => new Set(changes.map((changed) => changed.recurrence_id)).size === changes.length, 'must change each occurrence once at most')
  .transform((changes) => changes.sort((a, b) => a.recurrence_id.localeCompare(b.recurrence_id)))
  .meta({
    description:
      "Occurrences moved to other times or given their own title, description or location (RFC 5545's RECURRENCE-ID), each named by the start it would have had. One that is not an occurrence of the series changes nothing.",
  });

export type ChangedOccurrence = z.output<typeof ChangedOccurrences>[number];

export const StructuredRecurrence = z
  .strictObject({
    frequency: z.enum(['daily', 'weekly', 'monthly', 'yearly']),
    interval: z.number().int().min(1).max(1000).optional(),
    by_weekday: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional(),
    by_month_day: z
      .array(z.number().int().min(-31).max(31).refine((day) => day !== 0, 'must not be 0'))
      .min(1)
      .max(31)
      .optional(),
    count: z.number().int().min(1).max(10_000).optional(),
    until: UtcTime.optional(),
    time_zone: TimeZone.optional(),
    exdates: ExcludedStarts.optional(),
    overrides: ChangedOccurrences.optional(),
  })
  .refine((rule) => rule.count === undefined || rule.until === undefined, {
    message: 'give count or until, not both',
    path: ['until'],
  })
  .transform((rule) => ({
    ...rule,
    // One spelling per rule, so equal rules compare equal: weekdays in week order, days sorted.
    ...(rule.by_weekday ? { by_weekday: WEEKDAYS.filter((day) => rule.by_weekday!.includes(day)) } : {}),
    ...(rule.by_month_day ? { by_month_day: [...new Set(rule.by_month_day)].sort((a, b) => a - b) } : {}),
  }));

export const RRuleRecurrence = z.strictObject({
  rrule: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .transform(spelledOnce(normaliseRRule, 'must be a valid RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10'))
    .meta({ example: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10' }),
  time_zone: TimeZone.optional(),
  exdates: ExcludedStarts.optional(),
  overrides: ChangedOccurrences.optional(),
});

export const RecurrencePattern = z
  .union([StructuredRecurrence, RRuleRecurrence])
  .meta({ id: 'RecurrencePattern', description: 'Structured fields, or `{rrule}` with an RFC 5545 RRULE; either with an optional `time_zone`, `exdates` and `overrides`' });

export type RecurrencePattern = z.output<typeof RecurrencePattern>;

/** The pattern a recurring event's occurrences follow; null for one that happens once. */
export function seriesPattern(event: Pick<CalendarEvent, 'isRecurring' | 'recurrencePattern'>): RecurrencePattern | null {
  // What is stored is what RecurrencePattern parsed.
  return event.isRecurring ? (event.recurrencePattern as RecurrencePattern | null) : null;
}

/** RFC 5545 ranges of the numeric rule parts; negative ones count from the end, 0 never. */
const NUMERIC_RANGES = {
  interval: [1, 10_000],
  count: [1, 10_000],
  bysetpos: [-366, 366],
  bymonth: [1, 12],
  bymonthday: [-31, 31],
  byyearday: [-366, 366],
  byweekno: [-53, 53],
  byhour: [0, 23],
  byminute: [0, 59],
  bysecond: [0, 60],
} as const;
const SIGNED = new Set(['bysetpos', 'bymonthday', 'byyearday', 'byweekno']);

/** A parsed rule part's values as a list: rrule gives a single value, a list, or nothing. */
function valuesOf(part: unknown): unknown[] {
  return ([] as unknown[]).concat(part ?? []);
}

/** The rule in rrule's canonical spelling, or null when it is not a valid recurrence rule. */
function normaliseRRule(text: string): string | null {
  const line = text.replace(/^RRULE:/i, '');
  if (/[\r\n]/.test(line) || /DTSTART|TZID/i.test(line)) return null; // the event's start_time is the start
  let options: Partial<RRuleOptions>;
  try {
    options = RRule.parseString(line);
  } catch {
    return null;
  }
  // The parser is lenient: it accepts COUNT=abc or a missing FREQ, so check what it produced.
  if (options.freq === undefined || options.freq === null) return null;
  for (const [key, [min, max]] of Object.entries(NUMERIC_RANGES)) {
    const values = valuesOf(options[key as keyof typeof NUMERIC_RANGES]);
    const inRange = (value: unknown) =>
      Number.isInteger(value) && (value as number) >= min && (value as number) <= max && !(SIGNED.has(key) && value === 0);
    if (!values.every(inRange)) return null;
  }
  if (valuesOf(options.byweekday).some((day) => day == null)) return null;
  if (options.until && Number.isNaN(options.until.getTime())) return null;
  // One spelling per rule: FREQ first, the other parts in alphabetical order, numbers sorted.
  const [freq, ...parts] = RRule.optionsToString(options).replace(/^RRULE:/, '').split(';');
  const sortedValues = parts.map((part) => {
    const [key, values] = part.split('=');
    const list = values.split(',');
    return list.every((value) => /^-?\d+$/.test(value)) ? `${key}=${list.map(Number).sort((a, b) => a - b).join(',')}` : part;
  });
  return [freq, ...sortedValues.sort()].join(';');
}

/** When the first occurrence of an event starts: its own start, unless the pattern moves one earlier. */
export function seriesStart(start: Date, pattern: RecurrencePattern | null): Date {
  const movedStarts = (pattern?.overrides ?? []).map((moved) => Date.parse(moved.start_time));
  return new Date(Math.min(start.getTime(), ...movedStarts));
}

/**
 * When the last occurrence of an event ends, at the latest: its own end unless it recurs; null
 * when it recurs for ever, or when where its last occurrence falls cannot be told without
 * stepping through the rule (which, for a rule that rarely matches, like 30 February, takes tens
 * of seconds). Lets a range query find a series whose first occurrence is long past. Worked out,
 * not stepped through:
 * - with an end date (UNTIL): until that date's occurrence would end;
 * - with a count and no BY parts: the count-th period after the start (months and years only from
 *   days that every month or year has, since others skip the periods without them);
 * - weekly with only weekdays (BYDAY): every week after the first holds each of them, so the count
 *   is used up within count / weekdays of the series' weeks after the first: at most two weeks
 *   later than the last occurrence.
 */
export function seriesEnd(start: Date, end: Date, pattern: RecurrencePattern | null): Date | null {
  if (!pattern) return end;
  const rule = ruleParts(pattern);
  const duration = end.getTime() - start.getTime();
  // A moved occurrence may end later than any the rule makes.
  const movedEnds = (pattern.overrides ?? []).map((moved) => Date.parse(moved.end_time));
  const endingAt = (lastStart: Date | null) => lastStart && new Date(Math.max(end.getTime(), lastStart.getTime() + duration, ...movedEnds));
  if (rule.until) return endingAt(rule.until);
  if (!rule.count) return null;
  // Periods pass on the series' clock, as its occurrences do.
  const clock = wallClock(pattern.time_zone);
  const startAfter = (freq: Frequency, periods: number) => {
    const reading = advance(clock.read(start), freq, periods);
    return reading && clock.instantOf(reading);
  };
  const step = rule.interval;
  if (rule.byParts.length === 0) return endingAt(startAfter(rule.freq, (rule.count - 1) * step));
  if (rule.freq === 'WEEKLY' && rule.byParts.length === 1 && rule.byParts[0] === 'byweekday' && rule.weekdays > 0) {
    return endingAt(startAfter('WEEKLY', Math.ceil(rule.count / rule.weekdays) * step + 1));
  }
  return null;
}

const FREQUENCY_NAMES = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY', 'SECONDLY'] as const;
type Frequency = (typeof FREQUENCY_NAMES)[number];
const BY_PARTS = ['bysetpos', 'bymonth', 'bymonthday', 'bynmonthday', 'byyearday', 'byweekno', 'byweekday', 'bynweekday', 'byhour', 'byminute', 'bysecond', 'byeaster'] as const;

/** The parts of a stored pattern that place its occurrences, in RFC 5545's terms. */
function ruleParts(pattern: RecurrencePattern): { freq: Frequency; interval: number; count?: number; until?: Date; byParts: string[]; weekdays: number } {
  const options = ruleOptions(pattern);
  return {
    freq: FREQUENCY_NAMES[options.freq!],
    interval: options.interval ?? 1,
    count: options.count ?? undefined,
    until: options.until ?? undefined,
    byParts: byPartsOf(options),
    weekdays: valuesOf(options.byweekday).length,
  };
}

const RRULE_FREQUENCIES = { daily: RRule.DAILY, weekly: RRule.WEEKLY, monthly: RRule.MONTHLY, yearly: RRule.YEARLY } as const;
const RRULE_WEEKDAYS = { MO: RRule.MO, TU: RRule.TU, WE: RRule.WE, TH: RRule.TH, FR: RRule.FR, SA: RRule.SA, SU: RRule.SU } as const;

/** A stored pattern in rrule's terms, its UNTIL an instant; the time zone is the caller's to apply. */
/**
 * The pattern's rule as an RRULE value in one spelling, whichever form the pattern takes: the
 * same rule written either way reads the same (an interval of 1, the default, left out).
 */
export function rruleOf(pattern: RecurrencePattern): string {
  const { interval, ...options } = ruleOptions(pattern);
  return normaliseRRule(RRule.optionsToString(interval === 1 ? options : { ...options, interval }))!;
}

export function ruleOptions(pattern: RecurrencePattern): Partial<RRuleOptions> {
  if ('rrule' in pattern) return RRule.parseString(pattern.rrule);
  return {
    freq: RRULE_FREQUENCIES[pattern.frequency],
    interval: pattern.interval ?? 1,
    ...(pattern.by_weekday ? { byweekday: pattern.by_weekday.map((day) => RRULE_WEEKDAYS[day]) } : {}),
    ...(pattern.by_month_day ? { bymonthday: pattern.by_month_day } : {}),
    ...(pattern.count ? { count: pattern.count } : {}),
    ...(pattern.until ? { until: new Date(pattern.until) } : {}),
  };
}

const PERIOD_MS: Partial<Record<Frequency, number>> = { WEEKLY: 604_800_000, DAILY: 86_400_000, HOURLY: 3_600_000, MINUTELY: 60_000, SECONDLY: 1_000 };

/** The BY parts a rule sets. */
export function byPartsOf(options: Partial<RRuleOptions>): string[] {
  return BY_PARTS.filter((part) => valuesOf(options[part]).length > 0);
}

/** How long each period of an rrule frequency lasts on a floating clock (which has no DST); months and years vary. */
export function fixedPeriodMs(freq: RRuleOptions['freq']): number | undefined {
  return PERIOD_MS[FREQUENCY_NAMES[freq]];
}

/**
 * A floating `start` moved on by `periods` of the frequency. Months and years move by the
 * calendar; from a day not every month or year has (29-31), the periods without it are skipped:
 * null.
 */
function advance(start: Date, freq: Frequency, periods: number): Date | null {
  const fixed = PERIOD_MS[freq];
  if (fixed !== undefined) return new Date(start.getTime() + periods * fixed);
  if (start.getUTCDate() > 28) return null;
  const moved = new Date(start);
  if (freq === 'MONTHLY') moved.setUTCMonth(moved.getUTCMonth() + periods);
  else moved.setUTCFullYear(moved.getUTCFullYear() + periods);
  return moved;
}
