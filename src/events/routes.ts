import { ETAG_HEADER, IF_MATCH_HEADER, ifMatchVersions, setVersionTag } from '../http/etag';
import { defineRoute, type AppContext, type Route } from '../http/route';
import { errorResponse, EventIdParams } from '../http/schemas';
import {
  ConflictList,
  ConflictsQuery,
  CreateEventBody,
  CreateEventsBody,
  EventAtQuery,
  EventList,
  EventPage,
  MAX_BATCH,
  EventResponse,
  ListEventsQuery,
  OccurrenceList,
  OccurrencesQuery,
  presentEvent,
  presentOccurrence,
  UpdateEventBody,
} from './schemas';
import type { EventsService, EventWithRole } from './service';

const TAG = 'events';
const NOT_FOUND = errorResponse('No such event, or not shared with the caller');

export function eventRoutes(events: EventsService): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/events',
      tag: TAG,
      summary: 'Create an event',
      description: 'The caller becomes its owner; version 1 ("Created") is recorded with it.',
      body: CreateEventBody,
      responses: { 201: { description: 'The new event', schema: EventResponse, headers: ETAG_HEADER } },
      async handler(ctx, { body, caller }) {
        sendEvent(ctx, await events.create(caller.id, body), 201);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/events/batch',
      tag: TAG,
      summary: 'Create several events at once',
      description: `Up to ${MAX_BATCH} events, each as POST /events creates it, in one transaction: all of them, or none and a 422 naming each problem under \`body.events.<index>\`.`,
      body: CreateEventsBody,
      responses: { 201: { description: 'The new events, in the order given', schema: EventList } },
      async handler(ctx, { body, caller }) {
        const created = await events.createMany(caller.id, body.events, { batch: true });
        ctx.status = 201;
        ctx.body = { items: created.map(({ event, role }) => presentEvent(event, role)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events',
      tag: TAG,
      summary: "List the caller's events",
      description: 'Events the caller owns or that are shared with it, ordered by start time.',
      query: ListEventsQuery,
      responses: { 200: { description: 'One page of events', schema: EventPage } },
      async handler(ctx, { query, caller }) {
        const { items, total } = await events.list(caller.id, query);
        ctx.body = { items: items.map(({ event, role }) => presentEvent(event, role)), total, limit: query.limit, offset: query.offset };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events/occurrences',
      tag: TAG,
      summary: "List the occurrences of the caller's events in a time window",
      description:
        "Each recurring event expanded from its rule (on the clock of its pattern's time_zone, UTC by default), any other event once, ordered by start time. " +
        "The event's own start is always its first occurrence and counts towards COUNT (RFC 5545). " +
        "An occurrence keeps its event's duration and texts, unless the pattern's `overrides` change them; GET /events/{id} gives the event's other fields.",
      query: OccurrencesQuery,
      responses: { 200: { description: 'The occurrences in the window', schema: OccurrenceList } },
      async handler(ctx, { query, caller }) {
        const { items, truncated, unexpanded } = await events.occurrences(caller.id, query);
        ctx.body = { items: items.map(presentOccurrence), truncated, unexpanded };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events/conflicts',
      tag: TAG,
      summary: "List the caller's double bookings in a time window",
      description:
        "Pairs of occurrences (as GET /events/occurrences gives them) of two different events, the caller's own or shared with them, that overlap: " +
        'each starts before the other ends, so back-to-back events do not conflict. Ordered by the later start of each pair.',
      query: ConflictsQuery,
      responses: { 200: { description: 'The overlapping pairs in the window', schema: ConflictList } },
      async handler(ctx, { query, caller }) {
        const { pairs, truncated, unexpanded } = await events.conflicts(caller.id, query);
        ctx.body = { items: pairs.map(([first, second]) => ({ first: presentOccurrence(first), second: presentOccurrence(second) })), truncated, unexpanded };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events/{id}',
      tag: TAG,
      summary: 'Get an event, now or as it was at a time',
      description: 'With `at`, the fields, `version` and `updated_at` of its latest version made by then, from its history; 404 if it did not exist yet.',
      params: EventIdParams,
      query: EventAtQuery,
      responses: { 200: { description: 'The event', schema: EventResponse, headers: ETAG_HEADER }, 404: NOT_FOUND },
      async handler(ctx, { params, query, caller }) {
        sendEvent(ctx, query.at ? await events.asOf(caller.id, params.id, new Date(query.at)) : await events.get(caller.id, params.id));
      },
    }),
    defineRoute({
      method: 'put',
      path: '/events/{id}',
      tag: TAG,
      summary: 'Update an event (editor or owner)',
      description: 'Partial: fields left out keep their values. A change makes a new version; no change makes none.',
      params: EventIdParams,
      body: UpdateEventBody,
      requestHeaders: IF_MATCH_HEADER,
      responses: {
        200: { description: 'The event after the change', schema: EventResponse, headers: ETAG_HEADER },
        403: errorResponse('Viewers cannot edit'),
        404: NOT_FOUND,
        412: errorResponse('If-Match names an older version'),
      },
      async handler(ctx, { params, body, caller }) {
        const { change_description: description, ...patch } = body;
        const result = await events.change({ eventId: params.id, actorId: caller.id, patch, description, ifMatch: ifMatchVersions(ctx) });
        sendEvent(ctx, result);
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/events/{id}',
      tag: TAG,
      summary: 'Delete an event (owner)',
      params: EventIdParams,
      requestHeaders: IF_MATCH_HEADER,
      responses: {
        204: { description: 'Deleted, with its sharing and history' },
        403: errorResponse('Only the owner can delete'),
        404: NOT_FOUND,
        412: errorResponse('If-Match names an older version'),
      },
      async handler(ctx, { params, caller }) {
        await events.delete(caller.id, params.id, ifMatchVersions(ctx));
        ctx.status = 204;
      },
    }),
  ];
}

export function sendEvent(ctx: AppContext, { event, role }: EventWithRole, status = 200): void {
  setVersionTag(ctx, event.version);
  ctx.status = status;
  ctx.body = presentEvent(event, role);
}
