import { z } from 'zod';
import { ROLES, type CalendarEvent, type Role } from '../db/entities';
import { DateTime, pageOf, Pagination } from '../http/schemas';
import { RecurrencePattern } from './recurrence';

/** Input times may carry any offset; they are stored and returned in UTC. */
const Time = DateTime.transform((text) => new Date(text).toISOString());

/** The longest each text may be, in UTF-16 code units (JavaScript's string length, and Yjs's). */
export const TEXT_MAX_LENGTH = { title: 200, description: 10_000, location: 500 } as const;

const atMost = (field: keyof typeof TEXT_MAX_LENGTH) => [TEXT_MAX_LENGTH[field], `must be at most ${TEXT_MAX_LENGTH[field]} characters`] as const;
const Title = z.string().trim().min(1, 'must not be empty').max(...atMost('title'));
const Description = z.string().max(...atMost('description'));
const Location = z
  .string()
  .trim()
  .max(...atMost('location'))
  .nullable()
  .transform((text) => text || null);

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

export const ListEventsQuery = Pagination.extend({
  start: Time.optional().meta({ description: 'Keep events that end after this time; a recurring event, while its last occurrence does (for ever without one)' }),
  end: Time.optional().meta({ description: 'Keep events that start before this time' }),
  q: z.string().trim().min(1).max(200).optional().meta({ description: 'Search in title and description' }),
  role: z.enum(ROLES).optional().meta({ description: "Only events where the caller has this role" }),
}).refine((query) => !query.start || !query.end || query.start < query.end, {
  message: 'must be after start',
  path: ['end'],
});

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

export type CreateEventInput = z.output<typeof CreateEventBody>;
export type UpdateEventInput = z.output<typeof UpdateEventBody>;
export type ListEventsInput = z.output<typeof ListEventsQuery>;
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
