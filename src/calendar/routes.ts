import { clientHasTag } from '../http/etag';
import { defineRoute, type AppContext, type Route } from '../http/route';
import { errorResponse } from '../http/schemas';
import { presentEvent } from '../events/schemas';
import type { EventWithRole } from '../events/service';
import { MAX_IMPORTED_EVENTS } from './import';
import { CalendarExportQuery, FeedParams, FeedResponse, ICalendarBody, ImportQuery, ImportResult } from './schemas';
import type { CalendarFile, CalendarService } from './service';

const TAG = 'calendar';
const ICALENDAR = { mediaType: 'text/calendar', schema: ICalendarBody };
const CALENDAR_TAG_HEADER = { ETag: 'A weak tag of the events as written: send it back in If-None-Match' };
const IF_NONE_MATCH_HEADER = { 'If-None-Match': 'The tag of the file the client has: 304 if the events have not changed since' };
const NOT_MODIFIED = { description: 'Unchanged since the tag in If-None-Match' };

export function calendarRoutes(calendar: CalendarService): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/events.ics',
      tag: TAG,
      summary: "Export the caller's events as an iCalendar file",
      description:
        'Every event that matches the filters (those of GET /events, without paging), as one RFC 5545 object for calendar programs to import: ' +
        "a series as one VEVENT with its RRULE and EXDATEs, on its time_zone's clock (with that zone's VTIMEZONE) when it has one; other times in UTC.",
      query: CalendarExportQuery,
      requestHeaders: IF_NONE_MATCH_HEADER,
      responses: { 200: { description: 'The events', ...ICALENDAR, headers: CALENDAR_TAG_HEADER }, 304: NOT_MODIFIED },
      async handler(ctx, { query, caller }) {
        ctx.attachment('events.ics');
        sendCalendar(ctx, await calendar.export(caller.id, query, ctx.hostname));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/events/import',
      tag: TAG,
      summary: 'Import the events of an iCalendar file',
      description:
        `Each VEVENT of the file (at most ${MAX_IMPORTED_EVENTS}) becomes an event of the caller's, with version 1 "Imported", in one transaction. ` +
        'A series keeps its RRULE, EXDATEs and IANA time zone, and the VEVENTs that change or cancel one of its occurrences (RECURRENCE-ID) become its overrides and exdates. ' +
        'What this server cannot hold (all-day events, RDATE, a series in a zone of the file\'s own naming, an event that breaks a rule of POST /events) is skipped, and `skipped` says why. ' +
        'An event the caller already has by its UID, their own or shared with them (from an earlier import of the file, or exported from here), is not made twice: ' +
        'it takes the file\'s fields as an edit (a new version if they differ) and is listed in `updated`, or, if the caller may not edit it, in `skipped`. All of it happens in one transaction.',
      query: ImportQuery,
      body: ICalendarBody,
      bodyFormats: ['calendar'],
      responses: {
        201: { description: 'The events made, those updated, and those skipped', schema: ImportResult },
        200: { description: 'No event was made: `updated` and `skipped` say what became of them', schema: ImportResult },
        400: errorResponse('The body is not an iCalendar object'),
      },
      async handler(ctx, { query, body, caller }) {
        const { created, updated, skipped } = await calendar.import(caller.id, body, query.time_zone, ctx.hostname);
        const present = (events: EventWithRole[]) => events.map(({ event, role }) => presentEvent(event, role));
        ctx.status = created.length ? 201 : 200;
        ctx.body = { items: present(created), updated: present(updated), skipped };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/calendar-feed',
      tag: TAG,
      summary: 'Make a calendar feed address for the caller, or a new one',
      description:
        'An address from which calendar programs (Google Calendar, Outlook, Apple Calendar) fetch all of the caller\'s events, as GET /events.ics gives them, ' +
        'without a token: the secret in it is the credential, so it is shown only in this answer. A new address ends the one before.',
      responses: { 201: { description: 'The new address', schema: FeedResponse } },
      async handler(ctx, { caller }) {
        const secret = await calendar.renewFeed(caller.id);
        ctx.status = 201;
        // Under whichever prefix this request came in (/api/v1 or /api).
        ctx.body = { url: `${ctx.protocol}://${ctx.host}${ctx.path.replace(/\/$/, '')}/${secret}.ics` };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/calendar-feed',
      tag: TAG,
      summary: "End the caller's calendar feed address",
      responses: { 204: { description: 'The address no longer answers' } },
      async handler(ctx, { caller }) {
        await calendar.revokeFeed(caller.id);
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/calendar-feed/{secret}.ics',
      tag: TAG,
      public: true,
      summary: 'A calendar feed: its owner\'s events, for calendar programs that subscribe',
      params: FeedParams,
      requestHeaders: IF_NONE_MATCH_HEADER,
      responses: {
        200: { description: "The owner's events", ...ICALENDAR, headers: CALENDAR_TAG_HEADER },
        304: NOT_MODIFIED,
        404: errorResponse('No such feed, or it was replaced or ended'),
      },
      async handler(ctx, { params }) {
        sendCalendar(ctx, await calendar.feed(params.secret, ctx.hostname));
      },
    }),
  ];
}

/** The file, or 304 for a client that has it already (its If-None-Match names the file's tag). */
function sendCalendar(ctx: AppContext, file: CalendarFile): void {
  ctx.set('ETag', file.tag);
  if (clientHasTag(ctx, file.tag)) {
    ctx.status = 304;
    return;
  }
  ctx.type = 'text/calendar; charset=utf-8';
  ctx.body = file.write();
}
