import 'reflect-metadata';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { BatchedTransaction } from '../src/db/batch';
import { openDatabase, type Database } from '../src/db/database';
import { createTestDatabase, type TestDatabase } from './support/test-app';

/** The transactions the event write path sends several statements at a time, on a real PostgreSQL. */

let testDatabase: TestDatabase;
let database: Database;
beforeAll(async () => {
  testDatabase = await createTestDatabase();
  const { config } = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'test-secret-that-is-long-enough-for-production-use', DATABASE_URL: testDatabase.url });
  database = await openDatabase(config, pino({ level: 'silent' }));
  await database.orm.em.getConnection().execute('create table note (id int primary key, body text not null)');
});
afterAll(async () => {
  await database?.close();
  await testDatabase?.drop();
});
beforeEach(() => database.orm.em.getConnection().execute('truncate note'));

const bodies = async () => (await database.orm.em.getConnection().execute<{ body: string }[]>('select body from note order by id')).map((row) => row.body);
const insert = (id: number, body: string) => ({ sql: 'insert into note (id, body) values (?, ?) returning body', params: [id, body] });

it("returns each statement's rows in order, with values quoted as MikroORM quotes them, and commits", async () => {
  const tricky = `it's a \\ backslash, a ? and "quotes"`;
  const rows = await BatchedTransaction.run(database.orm, (tx) =>
    tx.send([insert(1, tricky), insert(2, 'second'), { sql: 'select count(*)::int as n from note', params: [] }]),
  );
  expect(rows).toEqual([[{ body: tricky }], [{ body: 'second' }], [{ n: 2 }]]);
  expect(await bodies()).toEqual([tricky, 'second']);
});

it('rolls back what was sent when the work throws, and the connection serves the next transaction', async () => {
  await expect(
    BatchedTransaction.run(database.orm, async (tx) => {
      await tx.send([insert(1, 'sent')]);
      throw new Error('changed its mind');
    }),
  ).rejects.toThrow('changed its mind');
  await expect(BatchedTransaction.run(database.orm, (tx) => tx.send([insert(1, 'later'), insert(1, 'duplicate')], { commit: true }))).rejects.toThrow(
    /duplicate key/,
  );
  expect(await bodies()).toEqual([]);
  // The pool is small: a connection left in an aborted transaction would fail this.
  for (let n = 0; n < 12; n += 1) await BatchedTransaction.run(database.orm, (tx) => tx.send([insert(n, `note ${n}`)]));
  expect(await bodies()).toHaveLength(12);
});

it('reads sent after a row lock see what the previous holder of the lock committed', async () => {
  await BatchedTransaction.run(database.orm, (tx) => tx.send([insert(1, 'before')]));
  let releaseFirst!: () => void;
  const firstHoldsLock = new Promise<void>((resolve) => {
    void BatchedTransaction.run(database.orm, async (tx) => {
      await tx.send([{ sql: 'select * from note where id = ? for update', params: [1] }]);
      resolve();
      await new Promise<void>((release) => (releaseFirst = release));
      await tx.send([{ sql: `update note set body = 'after' where id = ?`, params: [1] }], { commit: true });
    });
  });
  await firstHoldsLock;
  const second = BatchedTransaction.run(database.orm, (tx) =>
    tx.send([
      { sql: 'select body from note where id = ? for update', params: [1] },
      { sql: 'select body from note where id = ?', params: [1] },
    ]),
  );
  await new Promise((resolve) => setTimeout(resolve, 100)); // the second waits for the lock meanwhile
  releaseFirst();
  const [locked, read] = await second;
  expect(locked).toEqual([{ body: 'after' }]);
  expect(read).toEqual([{ body: 'after' }]);
});
