import { EventEmitter } from 'node:events';
import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Namespace, Server } from 'socket.io';
import type { AppConfig } from '../config';

export interface ClusterAdapter {
  adapter: Parameters<Server['adapter']>[0];
  /**
   * Calls `listener` each time this process listens to the others again after its connection
   * for that was lost: what they sent in between never arrived. With PostgreSQL it names the
   * namespace that listens again; with Redis, the subscription of every namespace is back.
   */
  onResubscribed(listener: (namespace?: string) => void): void;
  close(): Promise<void>;
}

/**
 * How the processes of one deployment reach each other: Socket.IO's official PostgreSQL adapter
 * (LISTEN/NOTIFY on the database we already have) by default, Redis pub/sub when configured.
 */
export async function createClusterAdapter(config: AppConfig['collab'], databaseUrl: string, logger: Logger): Promise<ClusterAdapter | undefined> {
  const errorHandler = (err: Error) => logger.error({ err }, 'cluster adapter error');
  if (config.adapter === 'postgres') {
    // Bounded connects: a stop must not wait for ever on a database that accepts but never answers.
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 5_000 });
    pool.on('error', errorHandler);
    // The adapter keeps one client checked out for LISTEN. When its connection is lost it takes a
    // new one, but it does not listen for the old one's 'error' (without a listener, a database
    // restart would crash the process).
    pool.on('connect', (client) => client.on('error', errorHandler));
    const listening = new EventEmitter();
    // Each namespace's adapter announces this process to the others as the namespace opens,
    // which may be before its LISTEN is in place: their answers would go unheard, and they would
    // be learnt of only at their next heartbeat, up to 5 s on, relaying nothing meanwhile. So
    // each adapter announces again once its namespace is listened to, there and after a reconnect.
    const adapters = new Map<string, { init(): unknown }>();
    const facade = listenerPool(pool, (namespace, again) => {
      void adapters.get(namespace)?.init();
      if (again) listening.emit('resubscribed', namespace);
    });
    const createAdapter = createPostgresAdapter(facade.pool, { tableName: 'socket_io_attachments', errorHandler });
    return {
      // Socket.IO calls it with `new`, which an arrow function refuses.
      adapter: function (nsp: Namespace) {
        const adapter = createAdapter(nsp);
        adapters.set(nsp.name, adapter);
        return adapter;
      },
      onResubscribed: (listener) => listening.on('resubscribed', listener),
      async close() {
        facade.close();
        // A stop's last messages (who is leaving, the last versions) may still wait for a
        // connection, and pool.end() drops what waits: they go first, for a few seconds at most.
        await facade.sent(5_000);
        facade.dropListeners();
        await pool.end();
      },
    };
  }
  if (config.adapter === 'redis') {
    const publisher = new Redis(config.redisUrl!, { lazyConnect: true });
    const subscriber = publisher.duplicate();
    await Promise.all([publisher.connect(), subscriber.connect()]);
    publisher.on('error', errorHandler);
    subscriber.on('error', errorHandler);
    return {
      adapter: createRedisAdapter(publisher, subscriber),
      // ioredis subscribes again by itself when it reconnects; 'ready' follows each connection.
      onResubscribed: (listener) => subscriber.on('ready', () => listener()),
      async close() {
        publisher.disconnect();
        subscriber.disconnect();
      },
    };
  }
  return undefined;
}

/**
 * The pool as the PostgreSQL adapter uses it: `query` to publish, and `connect` only for the client
 * it keeps for LISTEN, taking another when that one's connection is lost. Each LISTEN is reported
 * once in place, with its namespace (the channel is `socket.io#<namespace>`) and whether a
 * replacement made it. `sent` waits for the queries under way, publishes among them.
 *
 * Once closed, `connect` never answers, and a client that connects after the close is dropped:
 * the adapter would otherwise keep such a client checked out (and `pool.end()` would wait for it
 * for ever), or retry a refused connect every few seconds, keeping the process alive.
 * `dropListeners`, once the adapter is closed, ends the LISTEN clients it has not handed back:
 * one whose connection was lost (it took another), or one whose LISTEN was still under way as
 * its last namespace closed (it hands back only the client it has finished setting up).
 */
function listenerPool(
  pool: pg.Pool,
  listened: (namespace: string, again: boolean) => void,
): { pool: pg.Pool; close(): void; sent(withinMs: number): Promise<void>; dropListeners(): void } {
  /** The clients handed to the adapter for LISTEN, until it gives them back. */
  const listeners = new Set<pg.PoolClient>();
  pool.on('release', (_err, client) => listeners.delete(client));
  const underWay = new Set<Promise<unknown>>();
  const query = (...args: Parameters<pg.Pool['query']>) => {
    const result = (pool.query as (...queryArgs: unknown[]) => Promise<unknown>)(...args);
    underWay.add(result);
    const done = () => underWay.delete(result);
    result.then(done, done);
    return result;
  };
  let first = true;
  let closed = false;
  const never = new Promise<never>(() => undefined);
  const connect = async () => {
    if (closed) return never;
    const client = await pool.connect();
    if (closed) {
      client.release(true);
      return never;
    }
    listeners.add(client);
    const again = !first;
    first = false;
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
    client.query = (async (...args: unknown[]) => {
      const result = await query(...args);
      const channel = typeof args[0] === 'string' ? /^LISTEN "[^#]*#(.*)"$/.exec(args[0]) : null;
      if (channel) listened(channel[1], again);
      return result;
    }) as typeof client.query;
    return client;
  };
  return {
    pool: { query, connect } as unknown as pg.Pool,
    close: () => {
      closed = true;
    },
    dropListeners() {
      for (const client of listeners) client.release(true);
    },
    async sent(withinMs) {
      let givingUp = false;
      let timer: NodeJS.Timeout | undefined;
      const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs))).then(() => (givingUp = true));
      // A message with an attachment is two queries, the second sent when the first is done.
      while (underWay.size && !givingUp) await Promise.race([Promise.allSettled([...underWay]), givenUp]);
      clearTimeout(timer);
    },
  };
}
