import { createHash } from 'node:crypto';
import { tzlib_get_ical_block } from 'timezones-ical-library';
import type { CalendarEvent } from '../db/entities';
import type { Expander } from '../events/occurrences';
import { rruleOf, seriesPattern, type RecurrencePattern } from '../events/recurrence';
import { wallClock, type WallClock } from '../events/zones';

const PRODUCT_ID = '-//NeoFi//Event Management System//EN';

/** A zone as an iCalendar object names it (the library's canonical name), and its VTIMEZONE. */
interface ICalZone {
  tzid: string;
  vtimezone: string[];
  clock: WallClock;
}

/**
 * The events as one iCalendar object (RFC 5545), for calendar programs to import: a VEVENT each,
 * a series with its RRULE and EXDATEs rather than expanded, and one more for each occurrence it
 * changes. A series in a time zone is written on
 * that zone's clock (`DTSTART;TZID=...`, with the zone's VTIMEZONE), so the program keeps it at
 * the same time of day across daylight-saving changes, as this server does; the rest in UTC.
 * `domain` makes each event's UID unique beyond this server; `expander` tells which changed
 * occurrences are occurrences.
 */
export function toICalendar(events: CalendarEvent[], domain: string, expander: Expander): string {
  const zones = new Map<string, ICalZone | null>();
  const zoneOf = (name: string): ICalZone | null => {
    if (!zones.has(name)) zones.set(name, icalZone(name));
    return zones.get(name)!;
  };
  const vevents = events.flatMap((event) => vevent(event, domain, zoneOf, expander));
  // Two names of one zone (Asia/Calcutta, Asia/Kolkata) share its VTIMEZONE.
  const byTzid = new Map([...zones.values()].flatMap((zone) => (zone ? [[zone.tzid, zone.vtimezone] as const] : [])));
  const vtimezones = [...byTzid.values()].flat();
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${PRODUCT_ID}`, 'CALSCALE:GREGORIAN', ...vtimezones, ...vevents, 'END:VCALENDAR'];
  return lines.map(fold).join('\r\n') + '\r\n';
}

/**
 * A weak entity tag for the iCalendar object of these events: it changes whenever what the object
 * is written from does (an event's version, the events, the domain in their UIDs), without
 * writing it. Weak, as a rule that ran out of expansion time can leave a changed occurrence out.
 */
export function calendarTag(events: CalendarEvent[], domain: string): string {
  const written = JSON.stringify([PRODUCT_ID, domain, events.map((event) => [event.id, event.version])]);
  return `W/"${createHash('sha256').update(written).digest('base64url').slice(0, 27)}"`;
}

type Texts = Pick<CalendarEvent, 'title' | 'description' | 'location'>;

function vevent(event: CalendarEvent, domain: string, zoneOf: (name: string) => ICalZone | null, expander: Expander): string[] {
  const pattern = seriesPattern(event);
  const zone = pattern?.time_zone && pattern.time_zone !== 'UTC' ? zoneOf(pattern.time_zone) : null;
  const at = (instant: Date | string) => {
    const time = new Date(instant);
    return zone ? `;TZID=${zone.tzid}:${floating(zone.clock.read(time))}` : `:${utc(time)}`;
  };
  const revision = [
    `UID:${text(uidOf(event, domain))}`,
    `DTSTAMP:${utc(event.updatedAt)}`,
    `CREATED:${utc(event.createdAt)}`,
    `LAST-MODIFIED:${utc(event.updatedAt)}`,
    // Each version of the event is a revision of it.
    `SEQUENCE:${event.version - 1}`,
  ];
  const fields = ({ title, description, location }: Texts) => [
    `SUMMARY:${text(title)}`,
    ...(description ? [`DESCRIPTION:${text(description)}`] : []),
    ...(location ? [`LOCATION:${text(location)}`] : []),
  ];
  const series = [
    'BEGIN:VEVENT',
    ...revision,
    `DTSTART${at(event.startTime)}`,
    `DTEND${at(event.endTime)}`,
    ...fields(event),
    ...(pattern ? [rrule(pattern)] : []),
    ...(pattern?.exdates ?? []).map((start) => `EXDATE${at(start)}`),
    'END:VEVENT',
  ];
  // A changed occurrence is a VEVENT of its own, naming the one it replaces. Changes that name no
  // occurrence are left out, as GET /events/occurrences leaves them: programs differ over them.
  const changes = pattern?.overrides ? (expander.changesIn({ start: event.startTime, end: event.endTime, pattern }) ?? pattern.overrides) : [];
  const changed = changes.flatMap((change) => [
    'BEGIN:VEVENT',
    ...revision,
    `RECURRENCE-ID${at(change.recurrence_id)}`,
    `DTSTART${at(change.start_time)}`,
    `DTEND${at(change.end_time)}`,
    ...fields({
      title: change.title ?? event.title,
      description: change.description ?? event.description,
      location: change.location !== undefined ? change.location : event.location,
    }),
    'END:VEVENT',
  ]);
  return [...series, ...changed];
}

/**
 * Whether the event, given this pattern in place of its own, is written as the same series: the
 * same rule, exclusions and changed occurrences, in whichever of the pattern's forms.
 */
export function writesSameSeries(event: CalendarEvent, pattern: RecurrencePattern | null, expander: Expander): boolean {
  const lines = (written: CalendarEvent) => vevent(written, '', icalZone, expander).join('\n');
  return lines(event) === lines({ ...event, isRecurring: pattern !== null, recurrencePattern: pattern });
}

/**
 * The event's UID: the one it was imported with, so the program it came from knows it again, or
 * one of this server's, `event-<id>@<domain>`.
 */
function uidOf(event: CalendarEvent, domain: string): string {
  return event.icalUid ?? `event-${event.id}@${domain}`;
}

/** The id of the event a UID of this server's names (see uidOf); null for any other UID. */
export function eventIdOfUid(uid: string, domain: string): number | null {
  const match = /^event-(\d{1,15})@(.+)$/.exec(uid);
  return match && match[2] === domain ? Number(match[1]) : null;
}

/** The zone's VTIMEZONE from the IANA data the library carries; null for a zone it does not know. */
function icalZone(name: string): ICalZone | null {
  const block = tzlib_get_ical_block(name);
  if (!Array.isArray(block)) return null;
  const [vtimezone, tzidLine] = block;
  return { tzid: tzidLine.replace(/^TZID=/, ''), vtimezone: vtimezone.split('\r\n').filter(Boolean), clock: wallClock(name) };
}

function rrule(pattern: RecurrencePattern): string {
  // UNTIL is in UTC, as RFC 5545 asks of a series whose DTSTART has a TZID.
  return `RRULE:${rruleOf(pattern)}`;
}

/** 2026-06-01T07:00:00Z as 20260601T070000Z. */
function utc(instant: Date): string {
  return `${floating(instant)}Z`;
}

/** A floating Date (its UTC fields read a clock) as a local DATE-TIME: 20260601T090000. */
function floating(reading: Date): string {
  return reading.toISOString().replace(/\.\d{3}Z$/, '').replace(/[-:]/g, '');
}

/** A TEXT value (RFC 5545, 3.3.11): backslashes, semicolons, commas and line breaks escaped. */
function text(value: string): string {
  return value.replace(/[\\;,]/g, (char) => `\\${char}`).replace(/\r?\n|\r/g, '\\n');
}

/** Lines longer than 75 octets folded (RFC 5545, 3.1), never inside a UTF-8 character. */
function fold(line: string): string {
  if (Buffer.byteLength(line) <= 75) return line;
  const parts: string[] = [];
  let part = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    // A continuation line's leading space counts towards its 75.
    if (octets + size > (parts.length ? 74 : 75)) {
      parts.push(part);
      part = '';
      octets = 0;
    }
    part += char;
    octets += size;
  }
  parts.push(part);
  return parts.join('\r\n ');
}
