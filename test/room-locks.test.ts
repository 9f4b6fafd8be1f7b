import pg from 'pg';
import pino from 'pino';
import { RoomLocks } from '../src/collab/room-locks';
import { OPEN_ROOM_LOCK } from '../src/documents/store';
import { createTestDatabase, type TestDatabase } from './support/test-app';
import { waitUntil } from './support/wait';

/** The locks that tell a starting process which rooms are open elsewhere, on a real PostgreSQL. */

let database: TestDatabase;
let admin: pg.Client;
beforeAll(async () => {
  database = await createTestDatabase();
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await database?.drop();
});

/** The open-room locks held in the database: event id and the backend holding it. */
async function held(): Promise<{ eventId: number; pid: number }[]> {
  const { rows } = await admin.query(
    `select objid::int as "eventId", pid from pg_locks
     where locktype = 'advisory' and classid = $1 and objsubid = 2 and mode = 'ShareLock' and granted order by objid`,
    [OPEN_ROOM_LOCK],
  );
  return rows;
}

const heldIds = async () => (await held()).map((lock) => lock.eventId);
const sameIds = (expected: number[]) => async () => JSON.stringify(await heldIds()) === JSON.stringify(expected);

it('holds one lock per open room, takes them again after losing its connection, and drops them on release and close', async () => {
  const locks = new RoomLocks(database.url, pino({ level: 'silent' }));
  try {
    locks.hold(1);
    locks.hold(2);
    await waitUntil(sameIds([1, 2]), 'both rooms locked');
    const [{ pid }] = await held();
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await waitUntil(async () => (await held()).length === 2 && (await held()).every((lock) => lock.pid !== pid), 'the locks taken again on a new connection');

    locks.release(1);
    await waitUntil(sameIds([2]), 'the released room unlocked');
    // A room held again is locked once: one release frees it.
    locks.hold(2);
    locks.hold(3);
    await waitUntil(sameIds([2, 3]), 'the new room locked');
    locks.release(2);
    await waitUntil(sameIds([3]), 'the room held twice unlocked by one release');
  } finally {
    await locks.close();
  }
  await waitUntil(sameIds([]), 'every lock dropped with the connection');
});

it('is what recovery reads: an exclusive try on a held lock fails, and succeeds once released', async () => {
  const locks = new RoomLocks(database.url, pino({ level: 'silent' }));
  const tryExclusive = async (eventId: number) =>
    (await admin.query('select pg_try_advisory_xact_lock($1, $2) as free', [OPEN_ROOM_LOCK, eventId])).rows[0].free as boolean;
  try {
    locks.hold(7);
    await waitUntil(sameIds([7]), 'the room locked');
    expect(await tryExclusive(7)).toBe(false);
    expect(await tryExclusive(8)).toBe(true);
    locks.release(7);
    await waitUntil(sameIds([]), 'the room unlocked');
    expect(await tryExclusive(7)).toBe(true);
  } finally {
    await locks.close();
  }
});
