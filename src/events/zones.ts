/**
 * Wall-clock time in an IANA time zone, through the Intl API. rrule expands a series in "floating"
 * time (a Date whose UTC fields read the clock), so a series in a zone is expanded on that zone's
 * clock and each occurrence turned back into an instant: a 09:00 meeting in London stays at 09:00
 * London time across daylight-saving changes.
 */
export interface WallClock {
  /** The clock's reading at an instant, as a floating Date. */
  read(instant: Date): Date;
  /**
   * The instant at which the clock reads a floating Date. Where it never reads it (the hour
   * skipped when clocks go forward), the offset before the gap applies, so 02:30 becomes 03:30;
   * where it reads it twice (when clocks go back), the first. Both as RFC 5545 (3.3.5) says.
   */
  instantOf(reading: Date): Date;
}

const UTC_CLOCK: WallClock = { read: (instant) => instant, instantOf: (reading) => reading };

const clocks = new Map<string, WallClock>();

/** The clock of a time zone that `canonicalTimeZone` accepted; UTC when none is given. */
export function wallClock(zone: string | undefined): WallClock {
  if (zone === undefined || zone === 'UTC') return UTC_CLOCK;
  let clock = clocks.get(zone);
  if (!clock) {
    clock = zoneClock(zone);
    clocks.set(zone, clock);
  }
  return clock;
}

/** The zone's canonical name ('europe/london' is 'Europe/London', 'Etc/UTC' is 'UTC'), or null if Intl knows no such zone. */
export function canonicalTimeZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

const DAY_MS = 86_400_000;

function zoneClock(zone: string): WallClock {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  /** How far the clock is ahead of UTC at an instant, in milliseconds. */
  const offsetAt = (ms: number): number => {
    const part: Record<string, number> = {};
    for (const { type, value } of format.formatToParts(ms)) part[type] = Number(value);
    const reading = Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second);
    return reading - (ms - (((ms % 1000) + 1000) % 1000));
  };
  return {
    read: (instant) => new Date(instant.getTime() + offsetAt(instant.getTime())),
    instantOf(reading) {
      const ms = reading.getTime();
      // The offsets a day either side: equal unless the clocks change near this reading.
      const before = offsetAt(ms - DAY_MS);
      const after = offsetAt(ms + DAY_MS);
      const readsIt = [ms - before, ms - after].filter((instant) => offsetAt(instant) === ms - instant);
      return new Date(readsIt.length ? Math.min(...readsIt) : ms - before);
    },
  };
}
