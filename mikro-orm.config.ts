import 'reflect-metadata';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { ReflectMetadataProvider } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './src/db/entities';
import { MIGRATIONS } from './src/db/migrations';

/**
 * The one ORM configuration, used by the server, `npm run migrate` and the tests.
 * Migrations are listed explicitly so the same list runs from TypeScript (tests) and compiled JS.
 */
export function createOrmConfig(clientUrl: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl,
    entities: ENTITIES,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      path: 'src/db/migrations',
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
    },
    // Owned by @socket.io/postgres-adapter and rate-limiter-flexible, created by migrations; not entities.
    schemaGenerator: { skipTables: ['socket_io_attachments', 'login_failure'] },
    forceUtcTimezone: true,
    // Entities are never loaded outside a request or an explicit fork.
    allowGlobalContext: false,
    pool: { min: 0, max: 10 },
    ...overrides,
  });
}
