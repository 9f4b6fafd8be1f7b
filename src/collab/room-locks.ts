import pg from 'pg';
import type { Logger } from 'pino';
import { OPEN_ROOM_LOCK } from '../documents/store';

const RETRY_MS = 1_000;

/**
 * Tells every process which events' rooms this one holds open, through PostgreSQL: a shared
 * advisory lock per open room, on a connection of its own. The database drops a connection's locks
 * with it, so a process that is killed holds none. Start-up recovery leaves alone the events still
 * locked: their live edits are a live process's to fold into versions, at its own pace.
 *
 * The locks follow the rooms in the background: a room is never held back by them. While the
 * connection is down, another process starting may fold a room's edits early, as it would without
 * locks; a new connection takes the locks again.
 */
export class RoomLocks {
  /** Events whose rooms are open here, and those the current connection has locked. */
  private readonly open = new Set<number>();
  private readonly locked = new Set<number>();
  private client: pg.Client | null = null;
  /** Whether a run is bringing the locks in line, and whether they may have changed since it looked. */
  private syncing = false;
  private changed = false;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  hold(eventId: number): void {
    this.open.add(eventId);
    this.sync();
  }

  release(eventId: number): void {
    this.open.delete(eventId);
    this.sync();
  }

  /** Drops every lock: call once the rooms are saved. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    // Fails a query in flight; a connection still being made is ended as it opens.
    await this.client?.end().catch(() => {});
  }

  /** Brings the connection's locks in line with the open rooms: one run at a time, which looks again while they change. */
  private sync(): void {
    this.changed = true;
    if (this.syncing || this.closed) return;
    this.syncing = true;
    void this.lockOpenRooms();
  }

  private async lockOpenRooms(): Promise<void> {
    try {
      while (this.changed && !this.closed) {
        this.changed = false;
        const take = [...this.open].filter((eventId) => !this.locked.has(eventId));
        const drop = [...this.locked].filter((eventId) => !this.open.has(eventId));
        if (!take.length && !drop.length) continue;
        const client = await this.connection();
        if (take.length) await client.query('select pg_advisory_lock_shared($1, id) from unnest($2::int[]) as id', [OPEN_ROOM_LOCK, take]);
        if (drop.length) await client.query('select pg_advisory_unlock_shared($1, id) from unnest($2::int[]) as id', [OPEN_ROOM_LOCK, drop]);
        // A connection lost meanwhile took its locks with it, and has been counted out.
        if (this.client !== client) continue;
        take.forEach((eventId) => this.locked.add(eventId));
        drop.forEach((eventId) => this.locked.delete(eventId));
      }
    } catch (err) {
      // Start again on a new connection: this one's locks are unknown, and ending it drops them.
      const client = this.client;
      this.client = null;
      this.locked.clear();
      void client?.end().catch(() => {});
      if (this.closed) return;
      this.logger.warn({ err, retryInMs: RETRY_MS }, 'could not update the locks of open rooms');
      this.retry = setTimeout(() => this.sync(), RETRY_MS).unref();
    } finally {
      this.syncing = false;
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      // The database released this connection's locks with it.
      this.client = null;
      this.locked.clear();
      if (this.closed) return;
      this.logger.warn({ err }, 'the locks of open rooms lost their database connection');
      this.sync();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    if (this.closed) {
      await client.end();
      throw new Error('The open-room locks are closed');
    }
    this.client = client;
    return client;
  }
}
