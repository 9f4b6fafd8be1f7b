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
    // The adapter keeps one client checked out for LISTEN and handles its 'end' (it reconnects),
    // but not its 'error': without a listener, a database restart would crash the process.
    pool.on('connect', (client) => client.on('error', errorHandler));
    return {
      adapter: createPostgresAdapter(pool, { tableName: 'socket_io_attachments', errorHandler }),
      close: () => pool.end(),
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
