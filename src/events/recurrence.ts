import { RRule, type Options as RRuleOptions } from 'rrule';
import { z } from 'zod';
import { DateTime } from '../http/schemas';

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

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
    until: DateTime.optional(),
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
    ...(rule.until ? { until: new Date(rule.until).toISOString() } : {}),
  }));

export const RRuleRecurrence = z.strictObject({
  rrule: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .transform((text, ctx) => {
      const normalised = normaliseRRule(text);
      if (normalised === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a valid RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10' });
        return z.NEVER;
      }
      return normalised;
    })
    .meta({ example: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10' }),
});

export const RecurrencePattern = z
  .union([StructuredRecurrence, RRuleRecurrence])
  .meta({ id: 'RecurrencePattern', description: 'Structured fields, or `{rrule}` with an RFC 5545 RRULE' });

export type RecurrencePattern = z.output<typeof RecurrencePattern>;

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
    const values = ([] as unknown[]).concat(options[key as keyof typeof NUMERIC_RANGES] ?? []);
    const inRange = (value: unknown) =>
      Number.isInteger(value) && (value as number) >= min && (value as number) <= max && !(SIGNED.has(key) && value === 0);
    if (!values.every(inRange)) return null;
  }
  if (([] as unknown[]).concat(options.byweekday ?? []).some((day) => day == null)) return null;
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
