import type { EntityManager } from '@mikro-orm/postgresql';
import { CalendarEvent } from '../db/entities';
import { NotFound } from '../http/errors';

/**
 * Locks the event row for this transaction. Writers take NO KEY UPDATE, which still queues them
 * one behind the other but, unlike FOR UPDATE, lets live edits append rows referencing the event
 * meanwhile; deleting the row takes FOR UPDATE.
 */
export async function lockEvent(tx: EntityManager, eventId: number, mode: 'for update' | 'for no key update'): Promise<CalendarEvent> {
  // One round trip: the locked row itself becomes the managed entity, fresh as of the lock.
  const [row] = await tx.execute(`select * from "event" where id = ? ${mode}`, [eventId]);
  if (!row) throw new NotFound('Event not found');
  return tx.map(CalendarEvent, row);
}
