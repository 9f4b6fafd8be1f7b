import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import dotenv from 'dotenv';
import type { Logger } from 'pino';
import { createApp, createServices } from './app';
import { createClusterAdapter } from './collab/adapter';
import { CollabHub } from './collab/hub';
import { ConfigError, loadConfig, type AppConfig } from './config';
import { openDatabase, type Database } from './db/database';
import { createLogger } from './logger';

export interface RunningServer {
  /** http://host:port, with the port actually bound. */
  url: string;
  database: Database;
  hub: CollabHub;
  /** Stops in reverse order of start: HTTP and sockets (saving live edits), then the database. */
  close(): Promise<void>;
}

/** config -> database (embedded or DATABASE_URL, migrated) -> app + collaboration hub -> listen. */
export async function start(config: AppConfig, logger: Logger): Promise<RunningServer> {
  const database = await openDatabase(config, logger);
  const services = createServices(database.orm, config);
  const httpServer = createServer(createApp({ config, orm: database.orm, logger }, services).callback());
  const cluster = await createClusterAdapter(config.collab, database.url, logger);
  const hub = new CollabHub(httpServer, {
    orm: database.orm,
    databaseUrl: database.url,
    services,
    documents: services.documents,
    logger,
    cluster,
    options: config.collab,
  });
  await new Promise<void>((resolve, reject) => httpServer.once('error', reject).listen(config.port, config.host, resolve));
  const { port } = httpServer.address() as AddressInfo;
  // Live edits a crash left unfolded become versions now, in the background.
  void hub.recover();
  return {
    url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`,
    database,
    hub,
    async close() {
      await hub.close(); // also closes the HTTP server
      await cluster?.close();
      await database.close();
    },
  };
}

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

  const server = await start(config, logger);
  logger.info({ url: server.url, docs: `${server.url}/docs`, adapter: config.collab.adapter }, 'listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await server.close();
    logger.info('stopped');
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
