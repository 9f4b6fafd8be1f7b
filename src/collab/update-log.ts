import pg from 'pg';
import type { Logger } from 'pino';
import { isUnreachable } from '../db/unreachable';

/** An acknowledged live edit, as the log stores it. */
export interface NewUpdate {
  eventId: number;
  authorId: number;
  update: Uint8Array;
}

interface Pending {
  row: NewUpdate;
  resolve(): void;
  reject(err: Error): void;
}

const MAX_BATCH = 500;
const MAX_RETRY_DELAY_MS = 5_000;

/**
 * Every keystroke passes here, so it is one prepared statement on a connection of its own, not an
 * ORM query: the same text for any batch size, rows kept in the order they were acknowledged.
 * The table is the EventDocumentUpdate entity's.
 */
const APPEND = {
  name: 'append-live-edits',
  text: `insert into event_document_update (event_id, author_id, "update", created_at)
         select edit.event_id, edit.author_id, edit.update, now()
         from unnest($1::int[], $2::int[], $3::bytea[]) with ordinality as edit(event_id, author_id, update, position)
         order by edit.position`,
};

export class EventGone extends Error {}

/**
 * Appends acknowledged edits to PostgreSQL with group commit: while one insert is in flight, new
 * edits queue and go together in the next one, so a burst costs a few round trips, not one each.
 * An edit is not dropped when the database is unreachable: it is retried until stored (the
 * editor's ack waits for it) or the log closes. An edit of a deleted event fails with EventGone.
 */
export class UpdateLog {
  private readonly pool: pg.Pool;
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;

  constructor(
    databaseUrl: string,
    private readonly logger: Logger,
  ) {
    // Bounded waits: a database that stops answering is retried like one that refuses connections.
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
    // A connection lost while idle is dropped from the pool; without listeners it would crash us.
    const onError = (err: Error) => logger.warn({ err }, 'update log lost its database connection');
    this.pool.on('error', onError);
    this.pool.on('connect', (client) => client.on('error', onError));
  }

  append(row: NewUpdate): Promise<void> {
    if (this.closed) return Promise.reject(new Error('The update log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
    });
  }

  /** Stores what is queued, then refuses more; gives up retrying an unreachable database. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
    await this.pool.end();
  }

  private async drain(): Promise<void> {
    let delay = 50;
    while (this.queue.length) {
      const batch = this.queue.slice(0, MAX_BATCH);
      try {
        await this.insert(batch);
        this.queue.splice(0, batch.length);
        delay = 50;
      } catch (err) {
        if (!isUnreachable(err) || this.closed) {
          this.logger.error({ err }, 'could not store live edits');
          for (const pending of this.queue.splice(0, batch.length)) pending.reject(err as Error);
          continue;
        }
        this.logger.warn({ err, retryInMs: delay }, 'database unreachable: retrying to store live edits');
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
  }

  private async insert(batch: Pending[]): Promise<void> {
    try {
      await this.store(batch.map((pending) => pending.row));
      for (const pending of batch) pending.resolve();
    } catch (err) {
      if (!isForeignKeyViolation(err)) throw err;
      // Some event in the batch was deleted meanwhile: store the others one by one.
      for (const pending of batch) {
        try {
          await this.store([pending.row]);
          pending.resolve();
        } catch (rowError) {
          if (!isForeignKeyViolation(rowError)) throw rowError;
          pending.reject(new EventGone(`Event ${pending.row.eventId} no longer exists`));
        }
      }
    }
  }

  private async store(rows: NewUpdate[]): Promise<void> {
    await this.pool.query({
      ...APPEND,
      values: [rows.map((row) => row.eventId), rows.map((row) => row.authorId), rows.map((row) => Buffer.from(row.update.buffer, row.update.byteOffset, row.update.byteLength))],
    });
  }
}

function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof pg.DatabaseError && err.code === '23503';
}
