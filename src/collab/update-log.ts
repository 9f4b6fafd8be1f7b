import { ConnectionException, ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { DocumentStore, NewUpdate } from '../documents/store';

interface Pending {
  row: NewUpdate;
  resolve(): void;
  reject(err: Error): void;
}

const MAX_BATCH = 500;
const MAX_RETRY_DELAY_MS = 5_000;

export class EventGone extends Error {}

/**
 * Appends acknowledged edits to PostgreSQL with group commit: while one insert is in flight, new
 * edits queue and go together in the next one, so a burst costs a few round trips, not one each.
 * An edit is not dropped for a lost connection: it is retried until stored (the editor's ack
 * waits for it) or the log closes. An edit of a deleted event fails with EventGone.
 */
export class UpdateLog {
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly store: DocumentStore,
    private readonly logger: Logger,
  ) {}

  append(row: NewUpdate): Promise<void> {
    if (this.closed) return Promise.reject(new Error('The update log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
    });
  }

  /** Resolves once every edit appended so far is stored (or failed). */
  async flushed(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stores what is queued, then refuses more; gives up retrying a lost connection. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
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
        if (!(err instanceof ConnectionException) || this.closed) {
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
      await this.store.append(this.orm.em.fork(), batch.map((pending) => pending.row));
      for (const pending of batch) pending.resolve();
    } catch (err) {
      if (!(err instanceof ForeignKeyConstraintViolationException)) throw err;
      // Some event in the batch was deleted meanwhile: store the others one by one.
      for (const pending of batch) {
        try {
          await this.store.append(this.orm.em.fork(), [pending.row]);
          pending.resolve();
        } catch (rowError) {
          if (!(rowError instanceof ForeignKeyConstraintViolationException)) throw rowError;
          pending.reject(new EventGone(`Event ${pending.row.eventId} no longer exists`));
        }
      }
    }
  }
}
