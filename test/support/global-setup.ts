import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embedded';
import { freePort } from './server-process';

declare global {
  var embeddedPostgres: EmbeddedPostgresHandle | undefined;
}

/**
 * One PostgreSQL server for the whole run: TEST_DATABASE_URL when set, else an embedded one in a
 * temporary directory. Each test file creates its own database on it (see test-app.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  const started = Date.now();
  globalThis.embeddedPostgres = await startEmbeddedPostgres({
    // Directly under the temp dir: PostgreSQL runs as its own user, which must reach the folder.
    dataDir: path.join(tmpdir(), `neofi-test-pg-${randomBytes(6).toString('hex')}`),
    port: await freePort(),
    persistent: false,
  });
  process.env.TEST_DATABASE_URL = globalThis.embeddedPostgres.url;
  console.log(`\nembedded PostgreSQL up in ${Date.now() - started} ms`);
}
