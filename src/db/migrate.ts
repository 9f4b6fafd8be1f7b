import path from 'node:path';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { openDatabase } from './database';

/**
 * `npm run migrate`: applies pending migrations (openDatabase does that) and exits.
 * `npm run migration:create`: also writes a migration for whatever the entities changed.
 */
async function main(): Promise<void> {
  const { config } = loadConfig();
  const logger = createLogger(config);
  const database = await openDatabase(config, logger);
  try {
    if (process.argv.includes('create')) {
      const migrator = database.orm.getMigrator();
      const result = await migrator.createMigration(path.resolve(__dirname, '../../../src/db/migrations'));
      if (result.diff.up.length === 0) logger.info('entities match the schema: no migration needed');
      else logger.info({ file: result.fileName }, 'migration written: add it to src/db/migrations/index.ts');
    }
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
