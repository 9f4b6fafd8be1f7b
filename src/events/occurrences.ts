import vm from 'node:vm';
import { RRule, type Options as RRuleOptions } from 'rrule';
import { byPartsOf, fixedPeriodMs, ruleOptions, type ChangedOccurrence, type RecurrencePattern } from './recurrence';
import type { TokenBucket } from '../http/rate-limit';
import { wallClock, type WallClock } from './zones';

export interface Occurrence {
  start: Date;
  end: Date;
}

/** An occurrence as listed: where it is, which of its series' it is, and what it changes. */
export interface ExpandedOccurrence extends Occurrence {
  /** The start its series gave it (RFC 5545's RECURRENCE-ID); null for an event that happens once. */
  recurrenceId: Date | null;
  /** Its own times and texts, where the pattern changes it. */
  change?: ChangedOccurrence;
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
 * Expands events' rules within one request's budget, and the time left to the user who asked (in
 * milliseconds), which it spends. The event's own start is always the first occurrence, and
 * counts towards COUNT (RFC 5545). Each method returns null for an event whose rule did not
 * expand within the budget.
 */
export class Expander {
  private readonly deadline = performance.now() + BUDGET_MS.request;

  constructor(private readonly userTime: TokenBucket) {}

  /** The first `limit` occurrences that overlap the window (start before its end, end after its start). */
  occurrencesIn(event: Recurrence, window: Window, limit: number): ExpandedOccurrence[] | null {
    const { pattern } = event;
    if (!pattern) return overlaps(event, window) ? [{ start: event.start, end: event.end, recurrenceId: null }] : [];
    return this.withinBudget(() => new Series(event, pattern).occurrencesIn(window, limit));
  }

  /** The pattern's changes that change one of its occurrences: the others change nothing. */
  changesIn(event: Recurrence & { pattern: RecurrencePattern }): ChangedOccurrence[] | null {
    return this.withinBudget(() => new Series(event, event.pattern).changes());
  }

  private withinBudget<T>(expand: () => T): T | null {
    const started = performance.now();
    const timeout = Math.floor(Math.min(BUDGET_MS.rule, this.deadline - started, this.userTime.available));
    if (timeout < 1) return null;
    let result: T | null = null;
    context.expand = () => {
      result = expand();
    };
    try {
      expandInContext.runInContext(context, { timeout });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return null;
      throw err;
    } finally {
      context.expand = () => undefined;
      this.userTime.take(performance.now() - started);
    }
    return result;
  }
}

function overlaps(occurrence: Occurrence, window: Window): boolean {
  return occurrence.start < window.end && occurrence.end > window.start;
}

/**
 * A series: its pattern's rule expanded on the series' clock, each reading turned into an
 * instant; the occurrences its pattern excludes left out, those it changes as changed.
 */
class Series {
  private readonly clock: WallClock;
  private readonly options: Partial<RRuleOptions> & { dtstart: Date };
  private readonly excluded: Set<number>;
  /** By the start each changes. */
  private readonly changed: Map<number, ChangedOccurrence>;
  private readonly duration: number;
  /** RFC 5545: DTSTART is the first occurrence whether or not the rule matches it, and counts as one. */
  private readonly startOnly: boolean;

  constructor(
    private readonly first: Occurrence,
    pattern: RecurrencePattern,
  ) {
    this.clock = wallClock(pattern.time_zone);
    const rule = ruleOptions(pattern);
    this.options = { ...rule, dtstart: this.clock.read(first.start), ...(rule.until ? { until: this.clock.read(rule.until) } : {}) };
    this.excluded = new Set(pattern.exdates?.map((excludedStart) => Date.parse(excludedStart)));
    this.changed = new Map(pattern.overrides?.map((change) => [Date.parse(change.recurrence_id), change]));
    this.duration = first.end.getTime() - first.start.getTime();
    this.startOnly = !!this.options.count && !matchesStart(this.options) && --this.options.count === 0;
  }

  /** The first `limit` occurrences that overlap the window, in order; a changed one where it was moved to. */
  occurrencesIn(window: Window, limit: number): ExpandedOccurrence[] {
    const start = this.first.start.getTime();
    const found: ExpandedOccurrence[] = [];
    const keep = (at: number) => {
      const occurrence = { start: new Date(at), end: new Date(at + this.duration), recurrenceId: new Date(at) };
      if (!this.excluded.has(at) && !this.changed.has(at) && overlaps(occurrence, window)) found.push(occurrence);
    };
    keep(start);
    if (!this.startOnly) {
      // Read on the clock, the window's ends move by as much as the clocks change: a day's margin
      // either side, and each occurrence checked as an instant.
      const after = this.clock.read(new Date(window.start.getTime() - this.duration - DAY_MS));
      const before = this.clock.read(new Date(window.end.getTime() + DAY_MS));
      let last = start;
      new RRule({ ...this.options, dtstart: originNear(this.options, after) }).between(after, before, false, (reading) => {
        const at = this.clock.instantOf(reading).getTime();
        // The start was placed above, and two readings can be one instant (the skipped hour's
        // becomes the hour after it).
        if (at !== start && at !== last) keep(at);
        last = at;
        return found.length < limit;
      });
    }
    // A changed occurrence is where it was moved to, wherever it came from.
    for (const change of this.changes()) {
      const occurrence = { start: new Date(change.start_time), end: new Date(change.end_time), recurrenceId: new Date(change.recurrence_id), change };
      if (overlaps(occurrence, window)) found.push(occurrence);
    }
    return found.sort((a, b) => a.start.getTime() - b.start.getTime()).slice(0, limit);
  }

  /** The changes that name one of the series' occurrences, not excluded. */
  changes(): ChangedOccurrence[] {
    return [...this.changed].filter(([originalStart]) => !this.excluded.has(originalStart) && this.makes(originalStart)).map(([, change]) => change);
  }

  /** Whether the series has an occurrence starting at this instant. */
  private makes(at: number): boolean {
    if (at === this.first.start.getTime()) return true;
    if (this.startOnly) return false;
    const reading = this.clock.read(new Date(at));
    const near = new RRule({ ...this.options, dtstart: originNear(this.options, new Date(reading.getTime() - 1)) });
    return near.between(new Date(reading.getTime() - 1), new Date(reading.getTime() + 1), true).some((match) => this.clock.instantOf(match).getTime() === at);
  }
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
