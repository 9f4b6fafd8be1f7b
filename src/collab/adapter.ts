import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import type { AppConfig } from '../config';

export interface ClusterAdapter {
  adapter: Parameters<Server['adapter']>[0];
  close(): Promise<void>;
}

/**
 * How the processes of one deployment reach each other: Socket.IO's official PostgreSQL adapter
 * (LISTEN/NOTIFY on the database we already have) by default, Redis pub/sub when configured.
 */
export async function createClusterAdapter(config: AppConfig['collab'], databaseUrl: string, logger: Logger): Promise<ClusterAdapter | undefined> {
  const errorHandler = (err: Error) => logger.error({ err }, 'cluster adapter error');
  if (config.adapter === 'postgres') {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    pool.on('error', errorHandler);
    // The adapter keeps one client checked out for LISTEN. When its connection is lost it takes a
    // new one, but it neither listens for the old one's 'error' (without a listener, a database
    // restart would crash the process) nor gives it back, which would leave pool.end() waiting
    // for it for ever: those dead clients are handed back at close.
    const checkedOut = new Set<pg.PoolClient>();
    const lost = new WeakSet<pg.PoolClient>();
    pool.on('connect', (client) => {
      client.on('error', errorHandler);
      client.once('end', () => lost.add(client));
    });
    pool.on('acquire', (client) => checkedOut.add(client));
    pool.on('release', (_err, client) => checkedOut.delete(client));
    return {
      adapter: createPostgresAdapter(pool, { tableName: 'socket_io_attachments', errorHandler }),
      async close() {
        for (const client of checkedOut) if (lost.has(client)) client.release(true);
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
      async close() {
        publisher.disconnect();
        subscriber.disconnect();
      },
    };
  }
  return undefined;
}
