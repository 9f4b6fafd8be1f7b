import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import type { CollabHub } from '../../src/collab/hub';
import { loadConfig, type AppConfig } from '../../src/config';
import type { Database } from '../../src/db/database';
import { start } from '../../src/server';
import { Api } from './api';
import { TEST_LIMITS } from './server-process';

export interface TestApp {
  baseUrl: string;
  api: Api;
  config: AppConfig;
  database: Database;
  hub: CollabHub;
  /** The database's URL, for a second server on the same data. */
  databaseUrl: string;
  /** What the server logged at warn level or above, whatever TEST_LOG_LEVEL shows. */
  warnings: LogRecord[];
  /** Stops the server; fails if it logged a warning that was not expected. */
  close(): Promise<void>;
}

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the test PostgreSQL server (TEST_DATABASE_URL). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (its global setup sets it)');
  const name = `neofi_test_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`create database "${name}"`));
  return {
    url: withDatabase(serverUrl, name),
    drop: () => withClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

export interface TestAppOptions {
  /** A database to share (the server that made it drops it); by default a fresh one of its own. */
  database?: TestDatabase;
  /** The test makes the server warn (an outage, say): `close` does not count warnings as a failure. */
  expectWarnings?: boolean;
}

/**
 * The real server (HTTP + collaboration hub) on a real, fresh database of its own, listening on a
 * random port: tests talk to it over HTTP and Socket.IO like any client. A warning it logs fails
 * the test at `close` unless expected: the server warns only when something went wrong.
 */
export async function startTestApp(env: Record<string, string> = {}, { database, expectWarnings = false }: TestAppOptions = {}): Promise<TestApp> {
  const owned = database ? undefined : await createTestDatabase();
  const databaseUrl = (database ?? owned)!.url;
  const { config } = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-production-use',
    // TEST_LOG_LEVEL=debug shows the server's logs while debugging a test.
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl,
    ...TEST_LIMITS,
    ...env,
  });
  const warnings: LogRecord[] = [];
  const streams: pino.StreamEntry[] = [{ level: 'warn', stream: { write: (line: string) => warnings.push(JSON.parse(line)) } }];
  if (config.logLevel !== 'silent') streams.push({ level: config.logLevel as pino.Level, stream: process.stdout });
  const level = pino.levels.values[config.logLevel] < pino.levels.values.warn ? config.logLevel : 'warn';
  const server = await start(config, pino({ level }, pino.multistream(streams)));
  return {
    baseUrl: server.url,
    api: new Api(`${server.url}/api/v1`),
    config,
    database: server.database,
    hub: server.hub,
    databaseUrl,
    warnings,
    async close() {
      await server.close();
      await owned?.drop();
      if (warnings.length && !expectWarnings) {
        throw new Error(`The server logged ${warnings.length} unexpected warning(s):\n${warnings.map((record) => JSON.stringify(record)).join('\n')}`);
      }
    },
  };
}

/** Runs `work` on a connection of its own to the database at `url`. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
