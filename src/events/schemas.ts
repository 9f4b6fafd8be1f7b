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
    end: Time.optional().meta({ description: 'Keep events that start before this time' }),
    q: z.string().trim().min(1).max(200).optional().meta({ description: 'Search in title and description' }),
    role: z.enum(ROLES).optional().meta({ description: "Only events where the caller has this role" }),
  })
  .refine((query) => !query.start || !query.end || query.start < query.end, {
    message: 'must be after start',
    path: ['end'],
  });

export const ListEventsQuery = EventFilters.safeExtend(Pagination.shape);

/** The longest window occurrences are listed for: it bounds how far each rule is expanded. */
const MAX_OCCURRENCE_WINDOW_DAYS = 366;

export const OccurrencesQuery = z
  .object({
    start: Time.meta({ description: 'Keep occurrences that end after this time' }),
    end: Time.meta({ description: `Keep occurrences that start before this time; at most ${MAX_OCCURRENCE_WINDOW_DAYS} days after start` }),
    q: EventFilters.shape.q,
    role: EventFilters.shape.role,
    limit: z.coerce.number().int().min(1).max(2000).default(500).meta({ description: 'At most 2000; the first by start time' }),
  })
  .refine((query) => query.start < query.end, { message: 'must be after start', path: ['end'] })
  .refine((query) => Date.parse(query.end) - Date.parse(query.start) <= MAX_OCCURRENCE_WINDOW_DAYS * 86_400_000, {
    message: `must be at most ${MAX_OCCURRENCE_WINDOW_DAYS} days after start`,
    path: ['end'],
  });

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
