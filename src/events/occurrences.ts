import vm from 'node:vm';
import { RRule, type Options as RRuleOptions } from 'rrule';
import { byPartsOf, fixedPeriodMs, ruleOptions, type RecurrencePattern } from './recurrence';
import { wallClock } from './zones';

export interface Occurrence {
  start: Date;
  end: Date;
}

export interface Window {
  start: Date;
  end: Date;
}

/** What an event needs for its occurrences to be worked out: its own times, and its rule. */
export interface Recurrence extends Occurrence {
  /** Null for an event that happens once. */
  pattern: RecurrencePattern | null;
}

/**
 * How long the rules of one request may take to expand, and one rule of them. rrule steps through
 * the calendar from the series' start, and past the window until a date matches: a rule that
 * rarely or never matches (30 February) takes it on to the year 9999, seconds of blocked event
 * loop. The budget cuts such a rule short, through the interruption `vm` offers for code it runs.
 */
const BUDGET_MS = { request: 1_000, rule: 100 };

const context = vm.createContext({ expand: () => undefined });
const expandInContext = new vm.Script('expand()');

/**
 * Expands events into their occurrences that overlap the window (start before its end, end after
 * its start). The event's own start is always the first occurrence, and counts towards COUNT
 * (RFC 5545). Returns null for an event whose rule did not expand within the budget.
 */
export class Expander {
  private readonly deadline = performance.now() + BUDGET_MS.request;

  /** At most `limit` of them, the first. */
  occurrencesIn(event: Recurrence, window: Window, limit: number): Occurrence[] | null {
    const { pattern } = event;
    if (!pattern) return overlaps(event, window) ? [{ start: event.start, end: event.end }] : [];
    const timeout = Math.min(BUDGET_MS.rule, Math.floor(this.deadline - performance.now()));
    if (timeout < 1) return null;
    let occurrences: Occurrence[] = [];
    context.expand = () => {
      occurrences = seriesOccurrences(event, pattern, window, limit);
    };
    try {
      expandInContext.runInContext(context, { timeout });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return null;
      throw err;
    } finally {
      context.expand = () => undefined;
    }
    return occurrences;
  }
}

function overlaps(occurrence: Occurrence, window: Window): boolean {
  return occurrence.start < window.end && occurrence.end > window.start;
}

/**
 * The first `limit` occurrences of a series that overlap the window, in order: those its pattern
 * excludes left out, those it moves at their new times. The rule is expanded on the series' clock
 * and each reading turned into an instant.
 */
function seriesOccurrences({ start, end }: Occurrence, pattern: RecurrencePattern, window: Window, limit: number): Occurrence[] {
  const clock = wallClock(pattern.time_zone);
  const rule = ruleOptions(pattern);
  const options = { ...rule, dtstart: clock.read(start), ...(rule.until ? { until: clock.read(rule.until) } : {}) };
  const excluded = new Set(pattern.exdates?.map((excludedStart) => Date.parse(excludedStart)));
  const moved = new Map(pattern.overrides?.map((override) => [Date.parse(override.recurrence_id), { start: new Date(override.start_time), end: new Date(override.end_time) }]));
  const duration = end.getTime() - start.getTime();
  const found: Occurrence[] = [];
  const keep = (at: number) => {
    const occurrence = { start: new Date(at), end: new Date(at + duration) };
    if (!excluded.has(at) && !moved.has(at) && overlaps(occurrence, window)) found.push(occurrence);
  };
  keep(start.getTime());
  // RFC 5545: DTSTART is the first occurrence whether or not the rule matches it, and counts as one.
  const startOnly = !!options.count && !matchesStart(options) && --options.count === 0;
  /** Whether the rule makes an occurrence at this instant, the series' start aside. */
  const ruleMakes = (at: number): boolean => {
    const reading = clock.read(new Date(at));
    const near = new RRule({ ...options, dtstart: originNear(options, new Date(reading.getTime() - 1)) });
    return near.between(new Date(reading.getTime() - 1), new Date(reading.getTime() + 1), true).some((match) => clock.instantOf(match).getTime() === at);
  };
  if (!startOnly) {
    // Read on the clock, the window's ends move by as much as the clocks change: a day's margin
    // either side, and each occurrence checked as an instant.
    const after = clock.read(new Date(window.start.getTime() - duration - DAY_MS));
    const before = clock.read(new Date(window.end.getTime() + DAY_MS));
    let last = start.getTime();
    new RRule({ ...options, dtstart: originNear(options, after) }).between(after, before, false, (reading) => {
      const at = clock.instantOf(reading).getTime();
      // The start was placed above, and two readings can be one instant (the skipped hour's
      // becomes the hour after it).
      if (at !== start.getTime() && at !== last) keep(at);
      last = at;
      return found.length < limit;
    });
  }
  // A moved occurrence is where it was moved to, wherever it came from, if it was one of the series'.
  for (const [originalStart, occurrence] of moved) {
    if (!overlaps(occurrence, window) || excluded.has(originalStart)) continue;
    if (originalStart === start.getTime() || (!startOnly && ruleMakes(originalStart))) found.push(occurrence);
  }
  return found.sort((a, b) => a.start.getTime() - b.start.getTime()).slice(0, limit);
}

const DAY_MS = 86_400_000;

/**
 * Where rrule may start stepping for occurrences after `notBefore`: the series' start moved on by
 * as many whole intervals as fit before it. rrule steps period by period from its origin, so an
 * hourly series begun five years ago took it 325 ms to reach this week, past the rule's budget.
 * Whole intervals keep every later occurrence (the weekday, the time of day, the phase of an
 * interval), with these exceptions, which keep their start:
 * - COUNT counts from the first occurrence;
 * - months and years differ in length (and step fast: one a month);
 * - by the hour, minute or second, rrule leaps over the times a BY part rules out in steps that
 *   depend on where it began (an origin moved on found other minutes), so only a plain rule moves.
 */
function originNear(options: Partial<RRuleOptions> & { dtstart: Date }, notBefore: Date): Date {
  const period = fixedPeriodMs(options.freq!);
  if (options.count || !period || (period < DAY_MS && byPartsOf(options).length > 0)) return options.dtstart;
  const interval = period * (options.interval ?? 1);
  const intervals = Math.floor((notBefore.getTime() - options.dtstart.getTime()) / interval);
  return intervals > 0 ? new Date(options.dtstart.getTime() + intervals * interval) : options.dtstart;
}

function matchesStart(options: Partial<RRuleOptions> & { dtstart: Date }): boolean {
  return new RRule({ ...options, count: 1 }).all()[0]?.getTime() === options.dtstart.getTime();
}
