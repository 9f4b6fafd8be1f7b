import type { Row, Statement } from '../db/batch';
import { SAVE_STATE, saveStateParams, type SavedState } from '../documents/store';
import { seriesEndOf, seriesStartOf, type EventSnapshot, type FieldChange } from './fields';

/*
 * How versions and changelog rows are written, in plain SQL: every write of an event makes one
 * (live checkpoints every few seconds per room being typed into), and an ORM flush of the version
 * and each changelog row took several statements and as much CPU as the rest of the write. The
 * tables are the EventVersion and EventChangeLog entities'.
 */

export interface NewVersion {
  eventId: number;
  versionNumber: number;
  /** The event's fields as of this version. */
  snapshot: EventSnapshot;
  /** Who made the version: the author of its latest change. */
  authorId: number;
  /** One changelog row each, in this order, naming who last changed the field. */
  changes: (FieldChange & { authorId: number })[];
  description: string | null;
}

/**
 * Appends a new event's first version and its changelog rows, as one statement. Sent many at once
 * (BatchedTransaction), the statements of a batch of new events take one round trip.
 */
export function recordVersionStatement(version: NewVersion): Statement {
  return { sql: `with ${VERSION_ROWS} select 1`, params: versionParams(version) };
}

/**
 * The write of a change to an existing event, as one statement: its row takes the version's
 * fields and number, the version is appended with its changelog (as in recordVersionStatement),
 * and the document's new state is saved. `changedEvent` reads its one row.
 */
export function recordChangeStatement(version: NewVersion, document: SavedState): Statement {
  const { snapshot } = version;
  return {
    sql: `with changed as (
            update "event" set title = ?, description = ?, start_time = ?::timestamptz, end_time = ?::timestamptz, location = ?,
              is_recurring = ?, recurrence_pattern = ?::jsonb, series_start = ?::timestamptz, series_end = ?::timestamptz, version = ?,
              updated_at = now()
            where id = ? returning *
          ), ${VERSION_ROWS}, ${SAVE_STATE}
          select changed.*, (select username from "user" where id = ?) as version_author from changed`,
    params: [
      snapshot.title,
      snapshot.description,
      snapshot.start_time,
      snapshot.end_time,
      snapshot.location,
      snapshot.is_recurring,
      json(snapshot.recurrence_pattern),
      seriesStartOf(snapshot).toISOString(),
      seriesEndOf(snapshot)?.toISOString() ?? null,
      version.versionNumber,
      version.eventId,
      ...versionParams(version),
      ...saveStateParams(document),
      version.authorId,
    ],
  };
}

/** The event's row as recordChangeStatement stored it, and the version author's username. */
export function changedEvent([row]: Row[]): { event: Row; username: string } {
  const { version_author: username, ...event } = row;
  return { event, username: username as string };
}

/** Common table expressions inserting a version and its changelog rows; parameters from versionParams. */
const VERSION_ROWS = `
  version as (
    insert into event_version (event_id, version_number, data, created_by_id, created_at, change_description)
    values (?, ?, ?::jsonb, ?, now(), ?) returning id
  ),
  changelog as (
    insert into event_change_log (event_id, version_id, field_name, old_value, new_value, created_by_id, created_at)
    select ?, version.id, change.field_name, change.old_value, change.new_value, change.author_id, now()
    from version, rows from (jsonb_to_recordset(?::jsonb) as (field_name text, old_value jsonb, new_value jsonb, author_id int))
      with ordinality as change(field_name, old_value, new_value, author_id, position)
    order by change.position
  )`;

function versionParams(version: NewVersion): unknown[] {
  const changes = version.changes.map((change) => ({
    field_name: change.field,
    old_value: change.old_value,
    new_value: change.new_value,
    author_id: change.authorId,
  }));
  return [version.eventId, version.versionNumber, json(version.snapshot), version.authorId, version.description, version.eventId, JSON.stringify(changes)];
}

/** A JSON column's value as the ORM stores it: null stays SQL NULL. */
function json(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}
