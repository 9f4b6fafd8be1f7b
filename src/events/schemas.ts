import { z } from 'zod';
import { ROLES, type CalendarEvent, type Role } from '../db/entities';
import { pageOf, Pagination, UtcTime } from '../http/schemas';
import type { ExpandedOccurrence } from './occurrences';
import { RecurrencePattern } from './recurrence';
import { Description, Location, Title } from './text-fields';

/** Input times may carry any offset; they are stored and returned in UTC. */
const Time = UtcTime;

export const CreateEventBody = z
  .strictObject({
    title: Title,
    description: Description.default(''),
    start_time: Time,
    end_time: Time,
    location: Location.default(null),
    is_recurring: z.boolean().default(false),
    recurrence_pattern: RecurrencePattern.nullable().default(null),
  })
  .meta({ id: 'CreateEventRequest' });

/** The most events one batch creates. */
export const MAX_BATCH = 100;

export const CreateEventsBody = z
  .strictObject({
    events: z.array(CreateEventBody).min(1).max(MAX_BATCH, `must hold at most ${MAX_BATCH} events`),
  })
  .meta({ id: 'CreateEventsRequest' });

export const UpdateEventBody = z
  .strictObject({
    title: Title.optional(),
    description: Description.optional(),
    start_time: Time.optional(),
    end_time: Time.optional(),
    location: Location.optional(),
    is_recurring: z.boolean().optional().meta({ description: 'Setting false also clears recurrence_pattern' }),
    recurrence_pattern: RecurrencePattern.nullable().optional(),
    change_description: z.string().trim().max(500).optional().meta({ description: 'Recorded on the new version' }),
  })
  .meta({ id: 'UpdateEventRequest' });

/** Which of the caller's events a list or an export holds. */
export const EventFilters = z
  .object({
    start: Time.optional().meta({ description: 'Keep events that end after this time; a recurring event, while its last occurrence does (for ever without one)' }),
    end: Time.optional().meta({ description: 'Keep events that start before this time; a recurring event, if any of its occurrences does (a moved one too)' }),
    q: z.string().trim().min(1).max(200).optional().meta({ description: 'Search in title and description' }),
    role: z.enum(ROLES).optional().meta({ description: "Only events where the caller has this role" }),
  })
  .refine((query) => !query.start || !query.end || query.start < query.end, {
    message: 'must be after start',
    path: ['end'],
  });

export const ListEventsQuery = EventFilters.safeExtend(Pagination.shape);

export const EventAtQuery = z.object({
  at: Time.optional().meta({ description: 'The event as it was at this time: its latest version made by then' }),
});

/** The longest window occurrences are listed for: it bounds how far each rule is expanded. */
const MAX_OCCURRENCE_WINDOW_DAYS = 366;
/** The most occurrences one request works out. */
export const MAX_OCCURRENCES = 2000;

/** The times of a window that occurrences are worked out in. */
const WINDOW = {
  start: Time.meta({ description: 'Keep occurrences that end after this time' }),
  end: Time.meta({ description: `Keep occurrences that start before this time; at most ${MAX_OCCURRENCE_WINDOW_DAYS} days after start` }),
};

/** The window's own rules: its end after its start, and not too far after. */
function bounded<S extends z.ZodType<{ start: string; end: string }>>(query: S): S {
  return query
    .refine((window) => window.start < window.end, { message: 'must be after start', path: ['end'] })
    .refine((window) => Date.parse(window.end) - Date.parse(window.start) <= MAX_OCCURRENCE_WINDOW_DAYS * 86_400_000, {
      message: `must be at most ${MAX_OCCURRENCE_WINDOW_DAYS} days after start`,
      path: ['end'],
    });
}

export const OccurrencesQuery = bounded(
  z.object({
    ...WINDOW,
    q: EventFilters.shape.q,
    role: EventFilters.shape.role,
    limit: z.coerce.number().int().min(1).max(MAX_OCCURRENCES).default(500).meta({ description: `At most ${MAX_OCCURRENCES}; the first by start time` }),
  }),
);

export const ConflictsQuery = bounded(
  z.object({
    ...WINDOW,
    limit: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: 'At most 1000 pairs; the first by the later start' }),
  }),
);

export const OccurrenceResponse = z
  .object({
    event_id: z.number().int(),
    recurrence_id: z.string().nullable().meta({
      description:
        "The start the series gave this occurrence, which names it in `exdates` and `overrides`: start_time unless an override moved it. Null for an event that happens once.",
    }),
    title: z.string(),
    location: z.string().nullable(),
    start_time: z.string(),
    end_time: z.string(),
    is_recurring: z.boolean(),
    role: z.enum(ROLES).meta({ description: "The caller's role" }),
  })
  .meta({ id: 'Occurrence' });

export const OccurrenceList = z
  .object({
    items: z.array(OccurrenceResponse),
    truncated: z.boolean().meta({ description: 'More occurrences fall in the window than `limit`: ask for a shorter one' }),
    unexpanded: z.array(z.number().int()).meta({
      description: 'Events whose recurrence rule took too long to expand (one that rarely or never matches); their occurrences are missing',
    }),
  })
  .meta({ id: 'OccurrenceList' });

export const ConflictList = z
  .object({
    items: z.array(z.object({ first: OccurrenceResponse, second: OccurrenceResponse }).meta({ description: 'Two occurrences of different events that overlap; `first` starts no later' })),
    truncated: z.boolean().meta({
      description: `There may be more: more pairs than \`limit\`, or more occurrences in the window than the ${MAX_OCCURRENCES} looked at (ask for a shorter one)`,
    }),
    unexpanded: OccurrenceList.shape.unexpanded,
  })
  .meta({ id: 'ConflictList' });

/** An event's own fields as responses give them: what every version keeps a snapshot of. */
export const EventSnapshotResponse = z
  .object({
    title: z.string(),
    description: z.string(),
    start_time: z.string(),
    end_time: z.string(),
    location: z.string().nullable(),
    is_recurring: z.boolean(),
    recurrence_pattern: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'EventSnapshot' });

export const EventResponse = z
  .object({
    id: z.number().int(),
    ...EventSnapshotResponse.shape,
    owner_id: z.number().int(),
    version: z.number().int().meta({ description: 'Current version number; also the ETag' }),
    role: z.enum(ROLES).meta({ description: "The caller's role" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Event' });

export const EventPage = pageOf(EventResponse).meta({ id: 'EventPage' });

export const EventList = z.object({ items: z.array(EventResponse) }).meta({ id: 'EventList' });

export type CreateEventInput = z.output<typeof CreateEventBody>;
export type UpdateEventInput = z.output<typeof UpdateEventBody>;
export type ListEventsInput = z.output<typeof ListEventsQuery>;
export type EventFiltersInput = z.output<typeof EventFilters>;
export type OccurrencesInput = z.output<typeof OccurrencesQuery>;
export type ConflictsInput = z.output<typeof ConflictsQuery>;
export type EventResponse = z.infer<typeof EventResponse>;

export function presentEvent(event: CalendarEvent, role: Role): EventResponse {
  return {
    id: event.id,
    title: event.title,
    description: event.description,
    start_time: event.startTime.toISOString(),
    end_time: event.endTime.toISOString(),
    location: event.location,
    is_recurring: event.isRecurring,
    recurrence_pattern: event.recurrencePattern,
    owner_id: event.owner.id,
    version: event.version,
    role,
    created_at: event.createdAt.toISOString(),
    updated_at: event.updatedAt.toISOString(),
  };
}

/** An occurrence with its event's texts, or those its pattern gives it in their place. */
export function presentOccurrence({ event, role, start, end, recurrenceId, change }: ExpandedOccurrence & { event: CalendarEvent; role: Role }): z.infer<typeof OccurrenceResponse> {
  return {
    event_id: event.id,
    recurrence_id: recurrenceId?.toISOString() ?? null,
    title: change?.title ?? event.title,
    location: change?.location !== undefined ? change.location : event.location,
    start_time: start.toISOString(),
    end_time: end.toISOString(),
    is_recurring: event.isRecurring,
    role,
  };
}
