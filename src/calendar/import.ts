import ICAL from 'ical.js';
import { findIana } from 'windows-iana';
import { BadRequest, ValidationFailed } from '../http/errors';
import { parse } from '../http/validation';
import { assertValidEvent } from '../events/rules';
import { CreateEventBody } from '../events/schemas';
import type { ImportedEvent } from '../events/service';
import { canonicalTimeZone, wallClock } from '../events/zones';

/** The most events one file may hold. */
export const MAX_IMPORTED_EVENTS = 1000;

/** The longest UID kept (CalendarEvent.icalUid). */
const MAX_UID_LENGTH = 255;

/** An event of the file that is not imported, and why. */
export interface SkippedEvent {
  uid: string | null;
  title: string | null;
  reason: string;
}

export interface ReadCalendar {
  events: ImportedEvent[];
  skipped: SkippedEvent[];
}

/** Why an event cannot be imported as it is; it is skipped, the others are not. */
class Unsupported extends Error {}

/**
 * The events of an iCalendar object (RFC 5545) as this server's, read with Mozilla's ical.js: a
 * VEVENT each, a series with its RRULE, EXDATEs and time zone, and the VEVENTs that change one of
 * its occurrences (RECURRENCE-ID) as its `overrides`, or its `exdates` when they cancel it.
 * Times in an IANA zone, or a Windows zone Outlook names ("W. Europe Standard Time" is
 * Europe/Berlin), are read on that zone's clock, as the server keeps series; times in a zone the
 * file defines under a name of its own by that definition; floating times (no zone) on
 * `floatingZone`'s clock. What this server cannot hold is skipped with
 * its reason: all-day events, RDATE, a series in a zone of the file's own naming, an occurrence changed
 * without its series.
 */
export function readCalendar(source: string, floatingZone: string): ReadCalendar {
  let calendar: ICAL.Component;
  try {
    calendar = new ICAL.Component(ICAL.parse(source));
  } catch (err) {
    throw new BadRequest(`The body is not an iCalendar object: ${(err as Error).message}`);
  }
  if (calendar.name !== 'vcalendar') throw new BadRequest('The body is not an iCalendar object: it must begin with BEGIN:VCALENDAR');

  const vevents = calendar.getAllSubcomponents('vevent');
  const masters = vevents.filter((vevent) => !vevent.hasProperty('recurrence-id'));
  if (masters.length > MAX_IMPORTED_EVENTS) {
    throw new ValidationFailed([{ path: 'body', message: `holds ${masters.length} events, more than ${MAX_IMPORTED_EVENTS}: import it in parts` }]);
  }
  const changesByUid = new Map<string, ICAL.Component[]>();
  for (const vevent of vevents.filter((candidate) => candidate.hasProperty('recurrence-id'))) {
    const uid = text(vevent, 'uid') ?? '';
    changesByUid.set(uid, [...(changesByUid.get(uid) ?? []), vevent]);
  }

  const result: ReadCalendar = { events: [], skipped: [] };
  const seen = new Set<string>();
  for (const vevent of masters) {
    const uid = text(vevent, 'uid');
    // A series' changes go with it, imported or skipped.
    const changes = changesByUid.get(uid ?? '') ?? [];
    changesByUid.delete(uid ?? '');
    const skip = (reason: string) => result.skipped.push({ uid, title: text(vevent, 'summary'), reason });
    if (uid !== null && seen.has(uid)) {
      skip('repeats the UID of an event before it');
      continue;
    }
    if (uid !== null && uid.length > MAX_UID_LENGTH) {
      skip(`has a UID longer than ${MAX_UID_LENGTH} characters`);
      continue;
    }
    if (uid !== null) seen.add(uid);
    try {
      const fields = parse(CreateEventBody, eventOf(vevent, changes, floatingZone), 'body');
      assertValidEvent(fields);
      result.events.push({ fields, icalUid: uid });
    } catch (err) {
      if (err instanceof Unsupported) skip(err.message);
      else if (err instanceof ValidationFailed) skip(err.issues.map((issue) => `${issue.path.replace(/^body\.?/, '') || 'event'} ${issue.message}`).join('; '));
      // ical.js reads a value when it is asked for, and throws on a malformed one.
      else skip(`could not be read: ${(err as Error).message}`);
    }
  }
  for (const [uid, changes] of changesByUid) {
    for (const change of changes) result.skipped.push({ uid: uid || null, title: text(change, 'summary'), reason: 'changes an occurrence of a series that is not in the file' });
  }
  return result;
}

/** The request body POST /events would take for the VEVENT, with its series' changes. */
function eventOf(vevent: ICAL.Component, changes: ICAL.Component[], floatingZone: string): Record<string, unknown> {
  if (text(vevent, 'status')?.toUpperCase() === 'CANCELLED') throw new Unsupported('is cancelled');
  if (vevent.hasProperty('rdate')) throw new Unsupported('has RDATE occurrences, which this server does not hold');
  const rules = vevent.getAllProperties('rrule');
  if (rules.length > 1) throw new Unsupported('has more than one RRULE');
  const start = timeOf(vevent.getFirstProperty('dtstart'), floatingZone);
  if (!start) throw new Unsupported('has no DTSTART');
  const end = endOf(vevent, start, floatingZone);
  const event = {
    ...textsOf(vevent),
    start_time: start.instant.toISOString(),
    end_time: end.toISOString(),
  };
  if (!rules.length) return { ...event, is_recurring: false };

  // A series keeps its clock only in a zone this server knows by name.
  if (start.zone === null) throw new Unsupported(`is a series in the time zone "${start.tzid}", which is not an IANA time zone, so it could not keep that zone's clock`);
  const exdates = vevent.getAllProperties('exdate').flatMap((property) => instantsOf(property, floatingZone));
  const overrides = [];
  for (const change of changes) {
    const recurrenceId = timeOf(change.getFirstProperty('recurrence-id'), floatingZone)!.instant.toISOString();
    if (text(change, 'status')?.toUpperCase() === 'CANCELLED') {
      exdates.push(recurrenceId);
      continue;
    }
    const changedStart = timeOf(change.getFirstProperty('dtstart'), floatingZone);
    if (!changedStart) throw new Unsupported('changes an occurrence without giving its DTSTART');
    // The changed occurrence's VEVENT holds all of its texts (RFC 5545): kept where they differ.
    const changedTexts = Object.entries(textsOf(change)).filter(([field, value]) => value !== event[field as keyof typeof event]);
    overrides.push({
      recurrence_id: recurrenceId,
      start_time: changedStart.instant.toISOString(),
      end_time: endOf(change, changedStart, floatingZone).toISOString(),
      ...Object.fromEntries(changedTexts),
    });
  }
  const pattern = {
    rrule: (rules[0].getFirstValue() as ICAL.Recur).toString(),
    ...(start.zone !== 'UTC' ? { time_zone: start.zone } : {}),
    ...(exdates.length ? { exdates } : {}),
    ...(overrides.length ? { overrides } : {}),
  };
  return { ...event, is_recurring: true, recurrence_pattern: pattern };
}

/** SUMMARY, DESCRIPTION and LOCATION as an event's texts; a VEVENT without them has none. */
function textsOf(vevent: ICAL.Component): { title: string; description: string; location: string | null } {
  return { title: text(vevent, 'summary') ?? '(No title)', description: text(vevent, 'description') ?? '', location: text(vevent, 'location') };
}

function text(component: ICAL.Component, name: string): string | null {
  const value = component.getFirstPropertyValue(name);
  return typeof value === 'string' ? value : null;
}

/** DTEND, or DTSTART with DURATION. */
function endOf(vevent: ICAL.Component, start: ReadTime, floatingZone: string): Date {
  const end = timeOf(vevent.getFirstProperty('dtend'), floatingZone);
  if (end) return end.instant;
  const duration = vevent.getFirstPropertyValue('duration') as ICAL.Duration | null;
  if (duration) return new Date(start.instant.getTime() + duration.toSeconds() * 1000);
  throw new Unsupported('has neither DTEND nor DURATION, so it would end as it starts');
}

interface ReadTime {
  instant: Date;
  /** The IANA zone whose clock it was read on ('UTC' for a UTC time); null for a zone the file defines under another name. */
  zone: string | null;
  tzid: string | null;
}

/** A DATE-TIME property's first value as an instant; null without the property. */
function timeOf(property: ICAL.Property | null, floatingZone: string): ReadTime | null {
  if (!property) return null;
  return readTime(property.getFirstValue() as ICAL.Time, property.getParameter('tzid') as string | undefined, floatingZone);
}

function instantsOf(property: ICAL.Property, floatingZone: string): string[] {
  const tzid = property.getParameter('tzid') as string | undefined;
  return (property.getValues() as ICAL.Time[]).map((time) => readTime(time, tzid, floatingZone).instant.toISOString());
}

function readTime(time: ICAL.Time, tzid: string | undefined, floatingZone: string): ReadTime {
  if (time.isDate) throw new Unsupported('is an all-day event, which this server does not hold');
  // The clock's reading, as a floating Date (its UTC fields).
  const reading = new Date(Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second));
  if (time.zone?.tzid === 'UTC') return { instant: reading, zone: 'UTC', tzid: 'UTC' };
  if (!tzid) return { instant: wallClock(floatingZone).instantOf(reading), zone: floatingZone, tzid: null };
  const zone = canonicalTimeZone(tzid) ?? ianaZoneOfWindows(tzid);
  if (zone) return { instant: wallClock(zone).instantOf(reading), zone, tzid };
  // Defined in the file under a name of its own: ical.js reads it by that definition.
  if (time.zone?.tzid === tzid && time.zone.component) return { instant: new Date(time.toUnixTime() * 1000), zone: null, tzid };
  throw new Unsupported(`is in the time zone "${tzid}", which the file does not define and is not an IANA time zone`);
}

/**
 * The IANA zone of a Windows zone name, as Outlook and Exchange write TZIDs ("W. Europe Standard
 * Time" is Europe/Berlin): Unicode CLDR's mapping, through `windows-iana`, its first zone for the
 * name being the one CLDR gives for no territory in particular.
 */
function ianaZoneOfWindows(name: string): string | null {
  const [zone] = findIana(name);
  return zone ? canonicalTimeZone(zone) : null;
}
