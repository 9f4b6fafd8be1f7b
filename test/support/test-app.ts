import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import type { CollabHub } from '../../src/collab/hub';
import { loadConfig, type AppConfig } from '../../src/config';
import type { Database } from '../../src/db/database';
import { start } from '../../src/server';
import { Api } from './api';

export interface TestApp {
  baseUrl: string;
  api: Api;
  config: AppConfig;
  database: Database;
  hub: CollabHub;
  /** The database's URL, for a second server on the same data. */
  databaseUrl: string;
  close(): Promise<void>;
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
  await withAdminClient(serverUrl, (client) => client.query(`create database "${name}"`));
  return {
    url: withDatabase(serverUrl, name),
    drop: () => withAdminClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

/**
 * The real server (HTTP + collaboration hub) on a real, fresh database of its own, listening on a
 * random port: tests talk to it over HTTP and Socket.IO like any client. Pass `database` to start
 * a second server on the same data; the database is dropped when the server that made it closes.
 */
export async function startTestApp(env: Record<string, string> = {}, database?: TestDatabase): Promise<TestApp> {
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
    ...env,
  });
  const server = await start(config, pino({ level: config.logLevel }));
  return {
    baseUrl: server.url,
    api: new Api(`${server.url}/api/v1`),
    config,
    database: server.database,
    hub: server.hub,
    databaseUrl,
    async close() {
      await server.close();
      await owned?.drop();
    },
  };
}

async function withAdminClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
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
