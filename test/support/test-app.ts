import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import pino from 'pino';
import { createApp } from '../../src/app';
import { loadConfig, type AppConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/db/database';
import { Api } from './api';

export interface TestApp {
  baseUrl: string;
  api: Api;
  config: AppConfig;
  database: Database;
  close(): Promise<void>;
}

/**
 * The real app on a real, fresh database of its own, listening on a random port: tests talk to it
 * over HTTP like any client. The database is created from TEST_DATABASE_URL and dropped on close.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (its global setup sets it)');
  const databaseName = `neofi_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(serverUrl, (client) => client.query(`create database "${databaseName}"`));
  const databaseUrl = withDatabase(serverUrl, databaseName);

  const { config } = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-production-use',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    ...env,
  });
  const logger = pino({ level: config.logLevel });
  const database = await openDatabase(config, logger);
  const server: Server = createApp({ config, orm: database.orm, logger }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    api: new Api(`${baseUrl}/api/v1`),
    config,
    database,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await database.close();
      await withAdminClient(serverUrl, (client) => client.query(`drop database if exists "${databaseName}" with (force)`));
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
