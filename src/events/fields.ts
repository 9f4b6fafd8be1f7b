import { isDeepStrictEqual } from 'node:util';
import type { CalendarEvent, EventSnapshot } from '../db/entities';
import { seriesEnd, seriesPattern, seriesStart, type RecurrencePattern } from './recurrence';

export type { EventSnapshot };
export type EventField = keyof EventSnapshot;

/** The event's own fields, the ones versions snapshot and changelogs track, in display order. */
export const EVENT_FIELDS: readonly EventField[] = [
  'title',
  'description',
  'start_time',
  'end_time',
  'location',
  'is_recurring',
  'recurrence_pattern',
];

export interface FieldChange {
  field: EventField;
  old_value: unknown;
  new_value: unknown;
}

/**
 * The event's row (the CalendarEvent entity's columns, its times parsed), as the write path reads
 * it: mapping it into the ORM's identity map cost more than the rest of a checkpoint's reads, and
 * only a REST response needs the entity.
 */
export interface EventRow {
  id: number;
  title: string;
  description: string;
  start_time: Date;
  end_time: Date;
  location: string | null;
  is_recurring: boolean;
  recurrence_pattern: Record<string, unknown> | null;
  owner_id: number;
  version: number;
}

export function snapshotOf(row: EventRow): EventSnapshot {
  return {
    title: row.title,
    description: row.description,
    start_time: row.start_time.toISOString(),
    end_time: row.end_time.toISOString(),
    location: row.location,
    is_recurring: row.is_recurring,
    recurrence_pattern: row.recurrence_pattern,
  };
}

/** The entity's fields as a snapshot: applySnapshot undone. */
export function snapshotOfEntity(event: CalendarEvent): EventSnapshot {
  return snapshotOf({
    ...event,
    start_time: event.startTime,
    end_time: event.endTime,
    is_recurring: event.isRecurring,
    recurrence_pattern: event.recurrencePattern,
    owner_id: event.owner.id,
  });
}

export function applySnapshot(event: CalendarEvent, snapshot: EventSnapshot): void {
  event.title = snapshot.title;
  event.description = snapshot.description;
  event.startTime = new Date(snapshot.start_time);
  event.endTime = new Date(snapshot.end_time);
  event.location = snapshot.location;
  event.isRecurring = snapshot.is_recurring;
  event.recurrencePattern = snapshot.recurrence_pattern;
  event.seriesStart = seriesStartOf(snapshot);
  event.seriesEnd = seriesEndOf(snapshot);
}

/** When the event's first occurrence starts, as stored beside its fields (see CalendarEvent.seriesStart). */
export function seriesStartOf(snapshot: EventSnapshot): Date {
  return seriesStart(new Date(snapshot.start_time), snapshotPattern(snapshot));
}

/** When the event's last occurrence ends, as stored beside its fields (see CalendarEvent.seriesEnd). */
export function seriesEndOf(snapshot: EventSnapshot): Date | null {
  return seriesEnd(new Date(snapshot.start_time), new Date(snapshot.end_time), snapshotPattern(snapshot));
}

/** The pattern a snapshot's occurrences follow, as seriesPattern gives an event's. */
export function snapshotPattern(snapshot: EventSnapshot): RecurrencePattern | null {
  return seriesPattern({ isRecurring: snapshot.is_recurring, recurrencePattern: snapshot.recurrence_pattern });
}

/** The fields whose values differ, in display order; `before` null means the event is new. */
export function changedFields(before: EventSnapshot | null, after: EventSnapshot): FieldChange[] {
  return EVENT_FIELDS.flatMap((field) => {
    const oldValue = before ? before[field] : null;
    const newValue = after[field];
    if (isDeepStrictEqual(oldValue, newValue) || (before === null && isEmpty(newValue))) return [];
    return [{ field, old_value: oldValue, new_value: newValue }];
  });
}

function isEmpty(value: unknown): boolean {
  return value === null || value === '' || value === false;
}
