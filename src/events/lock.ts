import type { EntityManager } from '@mikro-orm/postgresql';
import type { Statement } from '../db/batch';
import { CalendarEvent } from '../db/entities';
import { NotFound } from '../http/errors';

export type LockMode = 'for update' | 'for no key update';

/**
 * Locks the event row for this transaction. Writers take NO KEY UPDATE, which still queues them
 * one behind the other but, unlike FOR UPDATE, lets live edits append rows referencing the event
 * meanwhile; deleting the row takes FOR UPDATE.
 */
export async function lockEvent(tx: EntityManager, eventId: number, mode: LockMode): Promise<CalendarEvent> {
  // One round trip: the locked row itself becomes the managed entity, fresh as of the lock.
  const { sql, params } = lockStatement(eventId, mode);
  const [row] = await tx.execute(sql, params);
  if (!row) throw new NotFound('Event not found');
  return tx.map(CalendarEvent, row);
}

/** The statement that locks the event row and reads it (no row: no such event). */
export function lockStatement(eventId: number, mode: LockMode): Statement {
  return { sql: `select * from "event" where id = ? ${mode}`, params: [eventId] };
}
