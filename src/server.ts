import 'reflect-metadata';
import type { Server } from 'node:http';
import dotenv from 'dotenv';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './db/database';
import { createLogger } from './logger';

/** Start-up: config -> database (embedded or DATABASE_URL, migrated) -> app -> listen. */
async function main(): Promise<void> {
  // A .env file, when present, fills in what the environment leaves unset.
  dotenv.config({ quiet: true });
  let loaded;
  try {
    loaded = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const { config, warnings } = loaded;
  const logger = createLogger(config);
  for (const warning of warnings) logger.warn(warning);

  const database = await openDatabase(config, logger);
  const app = createApp({ config, orm: database.orm, logger });
  const server: Server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  logger.info({ url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`, docs: '/docs' }, 'listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Reverse order of start-up: stop taking requests, let running ones finish, then close the database.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.close();
    logger.info('stopped');
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
