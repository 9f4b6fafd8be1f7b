import { IsolationLevel } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EventDocument, EventDocumentUpdate } from '../db/entities';

export interface StoredUpdate {
  id: number;
  authorId: number;
  update: Uint8Array;
}

export interface StoredDocument {
  /** The document as of the event's current version; null for events older than documents. */
  state: Uint8Array | null;
  /** Acknowledged live edits since then, oldest first. */
  updates: StoredUpdate[];
}

/** Where event documents live in PostgreSQL: a state per version plus a log of live edits since. */
export class DocumentStore {
  /** The state and the updates since, read together so a concurrent version cannot fall between them. */
  async read(em: EntityManager, eventId: number): Promise<StoredDocument> {
    const readBoth = async (tx: EntityManager): Promise<StoredDocument> => {
      const [document, updates] = await Promise.all([
        tx.findOne(EventDocument, { event: eventId }, { fields: ['state'] }),
        tx.find(EventDocumentUpdate, { event: eventId }, { fields: ['id', 'author', 'update'], orderBy: { id: 'asc' } }),
      ]);
      return {
        state: document?.state ?? null,
        updates: updates.map((row) => ({ id: row.id, authorId: row.author.id, update: row.update })),
      };
    };
    return em.isInTransaction()
      ? readBoth(em)
      : em.transactional(readBoth, { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true });
  }

  /** Events with live edits not yet folded into a version: after a crash, those to recover. */
  async eventsWithUnfoldedUpdates(em: EntityManager): Promise<number[]> {
    const rows = await em.execute<{ event_id: number }[]>('select distinct event_id from event_document_update');
    return rows.map((row) => row.event_id);
  }

  /**
   * Stores the document as of a new version and deletes the updates folded into it. Rows are
   * deleted by id, never by range: an edit committed meanwhile was not folded in and must stay.
   */
  async saveState(tx: EntityManager, eventId: number, state: Uint8Array, foldedUpdateIds: number[]): Promise<void> {
    await tx.upsert(EventDocument, { event: eventId, state: Buffer.from(state), updatedAt: new Date() });
    if (foldedUpdateIds.length) await tx.nativeDelete(EventDocumentUpdate, { id: { $in: foldedUpdateIds } });
  }
}
