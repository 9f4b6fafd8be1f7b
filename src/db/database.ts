import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from 'pino';
import { createOrmConfig } from '../../mikro-orm.config';
import type { AppConfig } from '../config';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded';

export interface Database {
  orm: MikroORM;
  /** The connection URL in use (DATABASE_URL, or the embedded server's). */
  url: string;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL when it is unset, and brings the
 * schema up to date with the committed migrations.
 */
export async function openDatabase(config: AppConfig, logger: Logger): Promise<Database> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let url = config.databaseUrl;
  if (!url) {
    logger.info({ dataDir: config.embeddedPostgres.dataDir, port: config.embeddedPostgres.port }, 'starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      ...config.embeddedPostgres,
      persistent: true,
      stopOnSignals: false,
      onLeftover: () => logger.warn('stopping the embedded PostgreSQL an earlier run left running'),
    });
    url = embedded.url;
  }
  try {
    const orm = await MikroORM.init(
      createOrmConfig(url, {
        logger: (message) => logger.debug({ orm: message }),
        // knex, under the ORM, writes its warnings (a lost pooled connection, say) with console.log:
        // they go to the structured log instead.
        driverOptions: {
          // A request waits this long for a connection (knex's default is 60 s), then gets a 503.
          acquireConnectionTimeout: 5_000,
          log: {
            warn: (message: unknown) => logger.warn({ knex: message }, 'database client warning'),
            error: (message: unknown) => logger.error({ knex: message }, 'database client error'),
            deprecate: (message: unknown) => logger.debug({ knex: message }, 'database client deprecation'),
            debug: (message: unknown) => logger.debug({ knex: message }),
          },
        },
      }),
    );
    const applied = await migrate(orm, url);
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');
    return {
      orm,
      url,
      async close() {
        await orm.close();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}

/** Any number: identifies the lock that lets one process at a time run migrations. */
const MIGRATION_LOCK = 741_852_963;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so processes that start
 * together take turns instead of racing to create the same tables.
 */
async function migrate(orm: MikroORM, url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await orm.getMigrator().up();
    return applied.map((migration) => migration.name);
  } finally {
    await lock.end(); // ending the session releases the lock
  }
}
