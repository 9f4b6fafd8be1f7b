import type { EntityManager } from '@mikro-orm/postgresql';
import type { Row, Statement } from '../db/batch';

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

/** A document's state as of a new version, and the logged updates folded into it. */
export interface SavedState {
  eventId: number;
  state: Uint8Array;
  foldedUpdateIds: number[];
}

/**
 * Common table expressions that store the state and delete the folded updates, for a statement
 * of its own or one that writes a version too; parameters from saveStateParams. Rows are deleted
 * by id, never by range: an edit committed meanwhile was not folded in and must stay.
 */
export const SAVE_STATE = `
  saved_state as (
    insert into event_document (event_id, state, updated_at) values (?, ?, now())
    on conflict (event_id) do update set state = excluded.state, updated_at = excluded.updated_at
  ),
  folded_updates as (delete from event_document_update where id = any(?::bigint[]))`;

export function saveStateParams({ eventId, state, foldedUpdateIds }: SavedState): unknown[] {
  // An array literal: the query builder would spread an array into a list, empty when none were folded.
  return [eventId, Buffer.from(state.buffer, state.byteOffset, state.byteLength), `{${foldedUpdateIds.join(',')}}`];
}

/** The first key of the advisory locks that mark an event's room open in some process (see RoomLocks). */
export const OPEN_ROOM_LOCK = 0x45564e54; // 'EVNT'

/** Where event documents live in PostgreSQL: a state per version plus a log of live edits since. */
export class DocumentStore {
  /**
   * The state and the updates since. One statement sees one snapshot, so a version committed
   * meanwhile cannot fall between the two, without a transaction of its own; plain SQL, as every
   * room that opens and every write to an event reads it.
   */
  async read(em: EntityManager, eventId: number): Promise<StoredDocument> {
    const { sql, params } = this.readStatement(eventId);
    return this.storedDocument(await em.execute(sql, params));
  }

  /** The statement `read` runs, for a transaction that sends it with others; storedDocument reads its rows. */
  readStatement(eventId: number): Statement {
    return {
      sql: `select 0 as part, null::bigint as id, null::int as author_id, state as data from event_document where event_id = ?
            union all
            select 1, id, author_id, "update" from event_document_update where event_id = ?
            order by part, id`,
      params: [eventId, eventId],
    };
  }

  storedDocument(rows: Row[]): StoredDocument {
    const parts = rows as { part: 0 | 1; id: string | null; author_id: number | null; data: Buffer }[];
    const state = parts[0]?.part === 0 ? parts.shift()!.data : null;
    return { state, updates: parts.map((row) => ({ id: Number(row.id), authorId: row.author_id!, update: row.data })) };
  }

  /** Stores the document as of a new version and deletes the updates folded into it, in one statement. */
  saveStateStatement(saved: SavedState): Statement {
    return { sql: `with ${SAVE_STATE} select 1`, params: saveStateParams(saved) };
  }

  /**
   * Events with live edits not yet folded into a version whose room no process holds open: after
   * a crash, those to recover. A process with a room open holds a shared lock on OPEN_ROOM_LOCK and
   * the event id; the exclusive lock tried here fails for those, and the statement's end releases it.
   */
  async eventsToRecover(em: EntityManager): Promise<number[]> {
    const rows = await em.execute<{ event_id: number }[]>(
      `select event_id from (select distinct event_id from event_document_update) as unfolded
       where pg_try_advisory_xact_lock(?, event_id) order by event_id`,
      [OPEN_ROOM_LOCK],
    );
    return rows.map((row) => row.event_id);
  }
}
