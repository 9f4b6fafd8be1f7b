import net from 'node:net';
import { DriverException } from '@mikro-orm/core';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import * as Y from 'yjs';
import { AuthSession, EventDocumentUpdate } from '../src/db/entities';
import { isUnreachable } from '../src/db/unreachable';
import { captureUpdate, loadDocument } from '../src/documents/mapping';
import { DocumentStore } from '../src/documents/store';
import { CollabClient } from './support/collab-client';
import { createEvent, createUser, share, type TestUser } from './support/fixtures';
import { proxyDatabase } from './support/tcp-proxy';
import { createTestDatabase, startTestApp, type TestApp } from './support/test-app';
import { waitUntil } from './support/wait';

let app: TestApp;
let owner: TestUser;
let editor: TestUser;
let viewer: TestUser;
const clients: CollabClient[] = [];

beforeAll(async () => {
  // Long timers: tests that want a version ask for one, so none appears on its own mid-test.
  app = await startTestApp({ COLLAB_QUIET_MS: '60000', COLLAB_MAX_DELAY_MS: '60000' });
  [owner, editor, viewer] = await Promise.all([createUser(app.api, 'owner'), createUser(app.api, 'editor'), createUser(app.api, 'viewer')]);
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(() => app.close());

async function connect(user: TestUser, transport?: 'websocket' | 'polling'): Promise<CollabClient> {
  const client = await CollabClient.connect(app.baseUrl, user.token, transport);
  clients.push(client);
  return client;
}

/** For tests with a server of their own: a user with an event, in its room from a client of theirs. */
async function ownerInRoom(server: TestApp, name: string): Promise<{ user: TestUser; id: number; client: CollabClient }> {
  const user = await createUser(server.api, name);
  const id = await createEvent(server.api, user);
  const client = await CollabClient.connect(server.baseUrl, user.token);
  clients.push(client);
  await client.join(id);
  return { user, id, client };
}

/** An event shared with the editor and the viewer. */
async function sharedEvent(overrides: Record<string, unknown> = {}): Promise<number> {
  const id = await createEvent(app.api, owner, overrides);
  await share(app.api, owner, id, editor, 'editor');
  await share(app.api, owner, id, viewer, 'viewer');
  return id;
}

const getEvent = async (id: number) => (await app.api.get(`/events/${id}`, { token: owner.token })).body;

describe('handshake', () => {
  it('refuses a missing, forged or expired token with a clear reason', async () => {
    await expect(CollabClient.connect(app.baseUrl)).rejects.toMatchObject({ message: 'Send an access token as auth.token', data: { code: 'unauthorized' } });
    await expect(CollabClient.connect(app.baseUrl, 'not-a-token')).rejects.toMatchObject({ message: 'Invalid access token' });
    const claims = jwt.decode(owner.token) as jwt.JwtPayload;
    const expired = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 5 }, app.config.jwt.secret);
    await expect(CollabClient.connect(app.baseUrl, expired)).rejects.toMatchObject({ message: 'Access token expired' });
    const forged = jwt.sign(claims, 'another secret, long enough to look like the real one');
    await expect(CollabClient.connect(app.baseUrl, forged)).rejects.toMatchObject({ message: 'Invalid access token' });
  });
});

describe('join', () => {
  it("answers with the role, the version and the event's document", async () => {
    const id = await sharedEvent();
    const client = await connect(viewer);
    const joined = await client.join(id);
    expect(joined).toMatchObject({ role: 'viewer', version: 1 });
    expect(client.text(id, 'title').toString()).toBe('Planning');
    expect(client.text(id, 'description').toString()).toBe('Quarterly planning');
    expect(client.map(id).get('start_time')).toBe('2026-06-01T09:00:00.000Z');
    expect(client.map(id).get('is_recurring')).toBe(false);
  });

  it('answers with the version current when it joins, and each caller its own role', async () => {
    const id = await sharedEvent();
    expect((await app.api.put(`/events/${id}`, { title: 'Replanning' }, { token: owner.token })).body.version).toBe(2);
    const [asEditor, asOwner] = await Promise.all([connect(editor), connect(owner)]);
    expect(await asEditor.join(id)).toMatchObject({ role: 'editor', version: 2 });
    expect(await asOwner.join(id)).toMatchObject({ role: 'owner', version: 2 });
  });

  it('answers connects and joins that arrive together each for its own caller', async () => {
    // Together, they are checked with shared queries: each must still get only its own answer.
    const [first, second] = [await sharedEvent(), await createEvent(app.api, owner)];
    await share(app.api, owner, second, viewer, 'editor');
    const [stranger, loggedOut] = await Promise.all([createUser(app.api, 'stranger'), createUser(app.api, 'logged-out')]);
    expect((await app.api.post('/auth/logout', undefined, { token: loggedOut.token })).status).toBe(204);

    const connecting = [owner, editor, viewer, viewer, stranger, loggedOut].map((user) => CollabClient.connect(app.baseUrl, user.token));
    const connected = await Promise.allSettled(connecting);
    const [asOwner, asEditor, asViewer, asViewerAgain, asStranger] = connected.slice(0, 5).map((outcome) => {
      expect(outcome.status).toBe('fulfilled');
      return clients[clients.push((outcome as PromiseFulfilledResult<CollabClient>).value) - 1];
    });
    expect(connected[5]).toMatchObject({ status: 'rejected', reason: { message: 'Session has ended; log in again' } });

    const joins = await Promise.allSettled([
      asOwner.join(first),
      asEditor.join(first),
      asViewer.join(first),
      asViewerAgain.join(second),
      asStranger.join(first),
      asEditor.join(second),
    ]);
    expect(joins.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.role : outcome.reason.code))).toEqual([
      'owner',
      'editor',
      'viewer',
      'editor',
      'not_found',
      'not_found',
    ]);
  });

  it('refuses a state vector that is not one, and leaves the client out of the room', async () => {
    const id = await sharedEvent();
    const client = await connect(editor);
    const refused: any = await client.socket.emitWithAck('join', { event_id: id, state_vector: new Uint8Array([0xff, 0xff, 0xff]) });
    expect(refused.error).toMatchObject({ code: 'validation_error', message: 'state_vector is not a Yjs state vector' });
    expect((await client.socket.emitWithAck('update', { event_id: id, update: new Uint8Array([0, 0]) })).error?.code).toBe('not_joined');
  });

  it('answers not_found for events that do not exist or are not shared', async () => {
    const stranger = await createUser(app.api, 'stranger');
    const id = await createEvent(app.api, owner);
    const client = await connect(stranger);
    await expect(client.join(id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(client.join(999_999)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('sends only what the client lacks when it sends its state vector', async () => {
    const id = await sharedEvent();
    const first = await connect(editor);
    await first.join(id);
    const second = await connect(editor);
    const full: any = await second.socket.emitWithAck('join', { event_id: id });
    const delta: any = await second.socket.emitWithAck('join', { event_id: id, state_vector: Y.encodeStateVector(first.doc(id)) });
    expect(delta.state.byteLength).toBeLessThan(full.state.byteLength);
    expect(delta.state.byteLength).toBeLessThanOrEqual(4);
  });
});

describe('live editing', () => {
  it('merges two editors typing into the same field at once, keeping both texts', async () => {
    const id = await sharedEvent({ description: 'Agenda' });
    const [alice, bob, watcher] = await Promise.all([connect(owner), connect(editor), connect(viewer)]);
    await Promise.all([alice.join(id), bob.join(id), watcher.join(id)]);

    // Neither waits for the other: both edit the same base concurrently.
    const acks = await Promise.all([
      alice.edit(id, (map) => (map.get('description') as Y.Text).insert(0, 'Alice: ')),
      bob.edit(id, (map) => (map.get('description') as Y.Text).insert(6, ' - Bob was here')),
    ]);
    expect(acks).toEqual([{ ok: true }, { ok: true }]);

    const expected = 'Alice: Agenda - Bob was here';
    for (const client of [alice, bob, watcher]) {
      await client.waitFor(() => client.text(id, 'description').toString() === expected, `converged description for ${client.socket.id}`);
    }
    const checkpoint = await alice.socket.emitWithAck('checkpoint', { event_id: id });
    expect(checkpoint).toEqual({ version: 2 });
    expect((await getEvent(id)).description).toBe(expected);
  });

  it('relays updates to viewers but refuses their own updates, changing nothing', async () => {
    const id = await sharedEvent();
    const [writer, reader] = await Promise.all([connect(editor), connect(viewer)]);
    await Promise.all([writer.join(id), reader.join(id)]);

    const received = reader.next('update');
    await writer.edit(id, (map) => (map.get('title') as Y.Text).insert(8, ' 2027'));
    await received;
    expect(reader.text(id, 'title').toString()).toBe('Planning 2027');

    const refused = await reader.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'HACKED '));
    expect(refused).toEqual({ error: { code: 'forbidden', message: 'Only editors and the owner can edit this event' } });
    const fresh = await connect(owner);
    await fresh.join(id);
    expect(fresh.text(id, 'title').toString()).toBe('Planning 2027');
    expect(writer.received.filter((r) => r.event === 'update')).toHaveLength(0);
  });

  it('refuses an update that would break the REST rules: every copy, the sender\'s too, is repaired', async () => {
    const id = await sharedEvent();
    const [writer, reader] = await Promise.all([connect(editor), connect(viewer)]);
    await Promise.all([writer.join(id), reader.join(id)]);
    const original = Y.encodeStateAsUpdate(writer.doc(id));
    const fieldsOf = (client: CollabClient) => ({
      title: client.text(id, 'title').toString(),
      end_time: client.map(id).get('end_time'),
      is_recurring: client.map(id).get('is_recurring'),
      keys: [...client.map(id).keys()].sort(),
      junk: client.doc(id).getMap('junk').size,
    });
    const before = fieldsOf(writer);

    const refused = await writer.edit(id, (map) => map.set('end_time', '2026-06-01T08:00:00Z'));
    expect(refused.error).toMatchObject({ code: 'validation_error', details: { fields: [{ path: 'body.end_time', message: 'must be after start_time' }] } });
    const breakers: ((map: Y.Map<unknown>) => void)[] = [
      (map) => (map.get('title') as Y.Text).delete(0, 8),
      (map) => map.set('is_recurring', 'yes'),
      (map) => map.set('admin', true),
      (map) => map.set('title', 'a plain string, not a Y.Text'),
      (map) => map.doc!.getMap('junk').set('x', 1),
    ];
    for (const breakIt of breakers) expect((await writer.edit(id, breakIt)).error).toMatchObject({ code: 'validation_error' });

    for (const client of [writer, reader]) {
      await client.waitFor(() => JSON.stringify(fieldsOf(client)) === JSON.stringify(before), `repaired copy of ${client.socket.id}`);
    }
    // The document moved on (the repairs are edits), and a valid edit goes through as usual.
    expect(Y.encodeStateAsUpdate(writer.doc(id))).not.toEqual(original);
    expect(await writer.edit(id, (map) => map.set('end_time', '2026-06-01T11:00:00.000Z'))).toEqual({ ok: true });
    const fresh = await connect(owner);
    await fresh.join(id);
    expect(fieldsOf(fresh)).toEqual({ ...before, end_time: '2026-06-01T11:00:00.000Z' });
    expect(await writer.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: 2 });
    const changelog = await app.api.get(`/events/${id}/changelog`, { token: owner.token });
    expect(changelog.body.items.filter((row: any) => row.version_number === 2).map((row: any) => row.field_name)).toEqual(['end_time']);
  });
});

describe('delivery', () => {
  it('delivers updates of every frame size intact, over WebSocket and HTTP long-polling', async () => {
    const id = await sharedEvent();
    const writer = await connect(editor);
    const readers = await Promise.all([connect(viewer), connect(viewer, 'polling')]);
    await Promise.all([writer, ...readers].map((client) => client.join(id)));
    const description = (client: CollabClient) => client.text(id, 'description').toString();
    const converged = () =>
      Promise.all(readers.map((reader) => reader.waitFor(() => description(reader) === description(writer), `description on ${reader.socket.io.engine.transport.name}`)));

    // A WebSocket frame's length takes 7 bits up to 125 bytes, 16 bits up to 64 KiB, 64 bits beyond.
    expect(await writer.edit(id, (map) => (map.get('description') as Y.Text).insert(0, 'x'))).toEqual({ ok: true });
    await converged();
    expect(await writer.edit(id, (map) => (map.get('description') as Y.Text).insert(0, '€'.repeat(9_000)))).toEqual({ ok: true });
    await converged();
    // 75 KB of text breaks the length rule: the update travels to everyone together with its repair.
    const accepted = description(writer);
    const refused = await writer.edit(id, (map) => (map.get('description') as Y.Text).insert(0, '€'.repeat(25_000)));
    expect(refused.error).toMatchObject({ code: 'validation_error' });
    expect(await writer.edit(id, (map) => (map.get('description') as Y.Text).insert(0, 'y'))).toEqual({ ok: true });
    await converged();
    expect(description(writer)).toBe(`y${accepted}`);
    for (const reader of readers) expect(reader.received.filter((r) => r.event === 'update')).toHaveLength(4);
  });
});

describe('versions from live edits', () => {
  it('records changed fields with the user who last changed each, and tells everyone', async () => {
    const id = await sharedEvent();
    const [alice, bob, watcher] = await Promise.all([connect(owner), connect(editor), connect(viewer)]);
    await Promise.all([alice.join(id), bob.join(id), watcher.join(id)]);

    await alice.edit(id, (map) => (map.get('title') as Y.Text).insert(8, ' v2'));
    await bob.edit(id, (map) => (map.get('location') as Y.Text).insert(6, 'A'));
    await alice.edit(id, (map) => map.set('end_time', '2026-06-01T10:30:00.000Z'));
    await bob.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Q3 '));

    const announced = watcher.next('version');
    expect(await bob.socket.emitWithAck('checkpoint', { event_id: id, description: 'Live session' })).toEqual({ version: 2 });
    expect(await announced).toEqual({
      event_id: id,
      version_number: 2,
      created_by: { id: editor.id, username: editor.username },
      change_description: 'Live session',
      changes: [
        { field: 'title', old_value: 'Planning', new_value: 'Q3 Planning v2' },
        { field: 'end_time', old_value: '2026-06-01T10:00:00.000Z', new_value: '2026-06-01T10:30:00.000Z' },
        { field: 'location', old_value: 'Room 1', new_value: 'Room 1A' },
      ].sort((a, b) => ['title', 'end_time', 'location'].indexOf(a.field) - ['title', 'end_time', 'location'].indexOf(b.field)),
    });

    const changelog = await app.api.get(`/events/${id}/changelog`, { token: owner.token });
    const rows = changelog.body.items.filter((row: any) => row.version_number === 2);
    expect(rows.map((row: any) => [row.field_name, row.created_by.username])).toEqual([
      ['title', editor.username],
      ['end_time', owner.username],
      ['location', editor.username],
    ]);
    expect(await bob.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: null });
  });

  it('makes a version on its own once editing pauses, and when the last client leaves; then unloads', async () => {
    const quick = await startTestApp({ COLLAB_QUIET_MS: '150', COLLAB_MAX_DELAY_MS: '60000', COLLAB_IDLE_UNLOAD_MS: '200' });
    try {
      const { user, id, client } = await ownerInRoom(quick, 'quick');
      const version = client.next('version');
      await client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Paused '));
      expect(await version).toMatchObject({ version_number: 2, created_by: { id: user.id }, changes: [{ field: 'title', new_value: 'Paused Planning' }] });

      await client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Left '));
      client.close();
      const history = async () => (await quick.api.get(`/events/${id}/history`, { token: user.token })).body;
      await waitUntil(async () => (await history()).length === 3, 'a version after the last client left');
      expect((await quick.api.get(`/events/${id}`, { token: user.token })).body.title).toBe('Left Paused Planning');
      // Then, idle, its document leaves memory.
      await waitUntil(async () => quick.hub.openRooms === 0, 'the idle document to be unloaded');
    } finally {
      await quick.close();
    }
  });

  /**
   * Holds a table's rows unread (the table locked, as a slow database would) until `release`:
   * `event_document` holds rooms' documents, `event_permission` the checks of who may join.
   */
  async function holdReads(server: TestApp, table: 'event_document' | 'event_permission' = 'event_document') {
    const lock = new pg.Client({ connectionString: server.databaseUrl });
    await lock.connect();
    await lock.query('begin');
    await lock.query(`lock table ${table} in access exclusive mode`);
    return {
      waiting: () => waitUntil(async () => ((await lock.query('select 1 from pg_locks where not granted')).rowCount ?? 0) > 0, `a read of ${table} to wait`),
      async release() {
        await lock.query('commit');
        await lock.end();
      },
    };
  }

  /** A server that unloads empty rooms quickly, and a client of an event's owner, not yet joined. */
  async function ownerOnQuickServer(name: string) {
    const quick = await startTestApp({ COLLAB_IDLE_UNLOAD_MS: '200' });
    const user = await createUser(quick.api, name);
    const id = await createEvent(quick.api, user);
    const client = await CollabClient.connect(quick.baseUrl, user.token);
    clients.push(client);
    return { quick, id, client };
  }

  it('keeps out a socket that disconnects while its join is checked, and unloads the room it opened', async () => {
    const { quick, id, client } = await ownerOnQuickServer('leaver');
    try {
      const held = await holdReads(quick);
      client.socket.emit('join', { event_id: id }, () => undefined);
      await held.waiting();
      client.socket.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 200)); // for the server to see it go
      await held.release();
      await waitUntil(async () => quick.hub.openRooms === 1, 'the document to be read');
      // Nobody is in the room, so it leaves memory as after any last leave.
      await waitUntil(async () => quick.hub.openRooms === 0, 'the empty room to be unloaded', 3_000);
    } finally {
      await quick.close();
    }
  });

  it('cancels a join when the socket leaves the event while the join is checked', async () => {
    const { quick, id, client } = await ownerOnQuickServer('hasty');
    try {
      const held = await holdReads(quick);
      const joined = client.socket.emitWithAck('join', { event_id: id });
      await held.waiting();
      // Answered before the join: the client asked in this order, and must not end up in the room.
      expect(await client.socket.emitWithAck('leave', { event_id: id })).toEqual({ ok: true });
      await held.release();
      expect(await joined).toMatchObject({ error: { code: 'join_cancelled' } });
      await waitUntil(async () => quick.hub.openRooms === 0, 'the empty room to be unloaded', 3_000);
    } finally {
      await quick.close();
    }
  });

  it('reads no document for a join cancelled while access is checked', async () => {
    const { quick, id, client } = await ownerOnQuickServer('early-leaver');
    try {
      const held = await holdReads(quick, 'event_permission');
      const joined = client.socket.emitWithAck('join', { event_id: id });
      await held.waiting();
      expect(await client.socket.emitWithAck('leave', { event_id: id })).toEqual({ ok: true });
      await held.release();
      expect(await joined).toMatchObject({ error: { code: 'join_cancelled' } });
      expect(quick.hub.openRooms).toBe(0);
    } finally {
      await quick.close();
    }
  });

  it('refuses a join when access is revoked while it is checked', async () => {
    const quick = await startTestApp();
    try {
      const [eventOwner, guest] = [await createUser(quick.api, 'owner'), await createUser(quick.api, 'guest')];
      const id = await createEvent(quick.api, eventOwner);
      await share(quick.api, eventOwner, id, guest, 'viewer');
      const client = await CollabClient.connect(quick.baseUrl, guest.token);
      clients.push(client);
      const held = await holdReads(quick);
      const joined = client.socket.emitWithAck('join', { event_id: id });
      // The join has found the guest a viewer and is reading the document when the owner revokes.
      await held.waiting();
      expect((await quick.api.delete(`/events/${id}/permissions/${guest.id}`, { token: eventOwner.token })).status).toBe(204);
      await held.release();
      expect(await joined).toMatchObject({ error: { code: 'not_found' } });
    } finally {
      await quick.close();
    }
  });

  it('saves and unloads the document when the last one in the room loses access, as when they leave', async () => {
    const quick = await startTestApp({ COLLAB_QUIET_MS: '60000', COLLAB_MAX_DELAY_MS: '60000', COLLAB_IDLE_UNLOAD_MS: '200' });
    try {
      const [owner, editor] = [await createUser(quick.api, 'owner'), await createUser(quick.api, 'editor')];
      const id = await createEvent(quick.api, owner);
      await share(quick.api, owner, id, editor, 'editor');
      const client = await CollabClient.connect(quick.baseUrl, editor.token);
      clients.push(client);
      await client.join(id);
      await client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Last '));
      expect((await quick.api.delete(`/events/${id}/permissions/${editor.id}`, { token: owner.token })).status).toBe(204);

      const history = async () => (await quick.api.get(`/events/${id}/history`, { token: owner.token })).body;
      await waitUntil(async () => (await history()).length === 2, 'a version of the edit the removed editor made');
      expect((await quick.api.get(`/events/${id}`, { token: owner.token })).body.title).toBe('Last Planning');
      await waitUntil(async () => quick.hub.openRooms === 0, 'the idle document to be unloaded');
    } finally {
      await quick.close();
    }
  });

  /**
   * Stores edits in the event's log as processes that each accepted one would have: every edit
   * made on the document as of the current version, not knowing the others.
   */
  async function storeConcurrentEdits(id: number, edits: { author: TestUser; clientId: number; change: (map: Y.Map<unknown>) => void }[]) {
    const em = app.database.orm.em.fork();
    const { state } = await new DocumentStore().read(em, id);
    const rows = edits.map(({ author, clientId, change }) => {
      const doc = loadDocument(state!);
      doc.clientID = clientId;
      return { event: id, author: author.id, update: Buffer.from(captureUpdate(doc, () => change(doc.getMap('event')))!), createdAt: new Date() };
    });
    await em.insertMany(EventDocumentUpdate, rows);
  }

  it('repairs, at the next version, an event that edits accepted at once by two processes broke together', async () => {
    const id = await sharedEvent();
    // Each valid on its own (09:00-09:15, 09:30-10:00), not together.
    await storeConcurrentEdits(id, [
      { author: editor, clientId: 1, change: (map) => map.set('end_time', '2026-06-01T09:15:00.000Z') },
      { author: owner, clientId: 2, change: (map) => map.set('start_time', '2026-06-01T09:30:00.000Z') },
    ]);

    const client = await connect(editor);
    await client.join(id);
    const version = client.next('version');
    expect(await client.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: 2 });
    // end_time, which the rule names, goes back to version 1's value; the other edit stays.
    expect((await version).changes).toEqual([{ field: 'start_time', old_value: '2026-06-01T09:00:00.000Z', new_value: '2026-06-01T09:30:00.000Z' }]);
    await client.waitFor(() => client.map(id).get('end_time') === '2026-06-01T10:00:00.000Z', 'the repair');
    expect(await getEvent(id)).toMatchObject({ start_time: '2026-06-01T09:30:00.000Z', end_time: '2026-06-01T10:00:00.000Z' });
  });

  it('keeps typing in the texts when the times have to go back further than the field the rule names', async () => {
    const id = await sharedEvent();
    // One moves the event to 10:30-11:00 while another ends it at 09:15 (and wins end_time);
    // a third types in the title.
    await storeConcurrentEdits(id, [
      { author: editor, clientId: 1, change: (map) => (map.set('start_time', '2026-06-01T10:30:00.000Z'), map.set('end_time', '2026-06-01T11:00:00.000Z')) },
      { author: owner, clientId: 2, change: (map) => map.set('end_time', '2026-06-01T09:15:00.000Z') },
      { author: editor, clientId: 3, change: (map) => (map.get('title') as Y.Text).insert(0, 'Team ') },
    ]);

    const client = await connect(editor);
    await client.join(id);
    expect(await client.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: 2 });
    // end_time back to 10:00 is not enough with the new start: start_time goes back too.
    expect(await getEvent(id)).toMatchObject({ title: 'Team Planning', start_time: '2026-06-01T09:00:00.000Z', end_time: '2026-06-01T10:00:00.000Z' });
  });
});

describe('REST and live edits: one write path', () => {
  it('merges a REST PUT into live typing and sends it to clients as an update plus a version', async () => {
    const id = await sharedEvent({ description: 'Line one\nLine two' });
    const [writer, reader] = await Promise.all([connect(editor), connect(viewer)]);
    await Promise.all([writer.join(id), reader.join(id)]);

    // Live typing at the end, not yet a version...
    await writer.edit(id, (map) => (map.get('description') as Y.Text).insert(17, '\nLine three (live)'));
    // ...while a REST client, who saw version 1, rewrites the first line.
    const version = reader.next('version');
    const put = await app.api.put(`/events/${id}`, { description: 'Line ONE\nLine two', change_description: 'REST edit' }, { token: owner.token });
    expect(put.status).toBe(200);

    const merged = 'Line ONE\nLine two\nLine three (live)';
    expect(put.body.description).toBe(merged);
    for (const client of [writer, reader]) await client.waitFor(() => client.text(id, 'description').toString() === merged, 'merged text');
    expect(await version).toMatchObject({ version_number: 2, created_by: { id: owner.id }, change_description: 'REST edit' });
  });

  it('makes no version for a PUT that sets no field, though live edits wait for their checkpoint', async () => {
    const id = await sharedEvent();
    const writer = await connect(editor);
    await writer.join(id);
    await writer.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Live '));
    const put = await app.api.put(`/events/${id}`, { change_description: 'Nothing' }, { token: owner.token });
    expect(put.status).toBe(200);
    expect(put.body.version).toBe(1);
    // The live edit is folded by its own checkpoint, credited to its author, not to the PUT.
    expect(await writer.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: 2 });
    const [latest] = (await app.api.get(`/events/${id}/history`, { token: owner.token })).body;
    expect(latest).toMatchObject({ version_number: 2, created_by: { id: editor.id }, change_description: null });
  });

  it('sends rollbacks to open documents too', async () => {
    const id = await sharedEvent();
    const client = await connect(viewer);
    await app.api.put(`/events/${id}`, { title: 'Renamed' }, { token: owner.token });
    await client.join(id);
    expect(client.text(id, 'title').toString()).toBe('Renamed');
    const version = client.next('version');
    await app.api.post(`/events/${id}/rollback/1`, undefined, { token: editor.token });
    await client.waitFor(() => client.text(id, 'title').toString() === 'Planning', 'rolled back title');
    expect(await version).toMatchObject({ version_number: 3, change_description: 'Rolled back to version 1' });
  });
});

describe('permissions, live', () => {
  it('takes a removed user out of the room at once', async () => {
    const id = await sharedEvent();
    const [client, other] = await Promise.all([connect(editor), connect(viewer)]);
    await Promise.all([client.join(id), other.join(id)]);
    const removed = client.next('removed');
    const gone = other.next('awareness');
    expect((await app.api.delete(`/events/${id}/permissions/${editor.id}`, { token: owner.token })).status).toBe(204);
    expect(await removed).toEqual({ event_id: id, reason: 'access_revoked' });
    // The others see the removed user leave.
    expect(await gone).toEqual({ event_id: id, user: { id: editor.id, username: editor.username }, connection: client.socket.id, state: null });
    const refused = await client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'x'));
    expect(refused.error.code).toBe('not_joined');
    await expect(client.join(id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('stops a demoted editor from sending another update, and lets a promoted viewer write', async () => {
    const id = await sharedEvent();
    const [demoted, promoted] = await Promise.all([connect(editor), connect(viewer)]);
    await Promise.all([demoted.join(id), promoted.join(id)]);

    const demotion = demoted.next('permission');
    await app.api.put(`/events/${id}/permissions/${editor.id}`, { role: 'viewer' }, { token: owner.token });
    expect(await demotion).toEqual({ event_id: id, role: 'viewer' });
    expect((await demoted.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'x'))).error.code).toBe('forbidden');

    const promotion = promoted.next('permission');
    await app.api.put(`/events/${id}/permissions/${viewer.id}`, { role: 'editor' }, { token: owner.token });
    expect(await promotion).toEqual({ event_id: id, role: 'editor' });
    expect(await promoted.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'OK '))).toEqual({ ok: true });
  });

  it('tells everyone in the room when the event is deleted', async () => {
    const id = await sharedEvent();
    const [a, b] = await Promise.all([connect(editor), connect(viewer)]);
    await Promise.all([a.join(id), b.join(id)]);
    const removedA = a.next('removed');
    const removedB = b.next('removed');
    expect((await app.api.delete(`/events/${id}`, { token: owner.token })).status).toBe(204);
    expect(await removedA).toEqual({ event_id: id, reason: 'event_deleted' });
    expect(await removedB).toEqual({ event_id: id, reason: 'event_deleted' });
  });
});

describe('malformed messages', () => {
  it('answer with an error and never crash the process or corrupt the document', async () => {
    const id = await sharedEvent();
    const client = await connect(editor);
    await client.join(id);
    const emit = (event: string, payload: unknown) => (client.socket as any).emitWithAck(event, payload);

    expect((await emit('update', { event_id: id, update: 'not binary' })).error).toMatchObject({ code: 'validation_error' });
    expect((await emit('update', { event_id: id })).error).toMatchObject({ code: 'validation_error' });
    expect((await emit('update', { event_id: 'abc', update: new Uint8Array([1]) })).error).toMatchObject({ code: 'validation_error' });
    expect((await emit('update', null)).error).toMatchObject({ code: 'validation_error' });
    expect((await emit('join', { event_id: -1 })).error).toMatchObject({ code: 'validation_error' });
    expect((await emit('update', { event_id: 424242, update: new Uint8Array([0, 0]) })).error).toMatchObject({ code: 'not_joined' });
    for (const garbage of [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), new Uint8Array(64).fill(255), Buffer.from('{"json": true}')]) {
      expect((await emit('update', { event_id: id, update: garbage })).error).toMatchObject({ code: expect.stringMatching(/invalid_update|validation_error/) });
    }
    const huge = new Uint8Array(1024 * 1024 + 1);
    expect((await emit('update', { event_id: id, update: huge })).error).toMatchObject({ code: 'payload_too_large' });
    expect((await emit('awareness', { event_id: id, state: { blob: 'x'.repeat(5000) } })).error).toMatchObject({ code: 'validation_error' });

    // Without an ack, the error arrives as an event.
    const error = client.next('error');
    client.socket.emit('update', { event_id: id, update: 'nope' as any });
    expect(await error).toMatchObject({ event_id: id, code: 'validation_error' });

    // Still alive, document intact, edits still work.
    expect(await client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Still '))).toEqual({ ok: true });
    expect(await client.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: 2 });
    expect((await getEvent(id)).title).toBe('Still Planning');
  });
});

describe('a flood of messages', () => {
  it("is refused past the user's budget, on every socket of theirs, changing nothing and holding no one else back, until the budget refills", async () => {
    const limited = await startTestApp({ COLLAB_MESSAGE_BURST: '10', COLLAB_MESSAGE_RATE: '1' });
    try {
      // The join is the flooder's first message.
      const { user, id, client: flooder } = await ownerInRoom(limited, 'flooder');
      const colleague = await createUser(limited.api, 'calm-colleague');
      await share(limited.api, user, id, colleague, 'editor');
      const calm = await CollabClient.connect(limited.baseUrl, colleague.token);
      const secondTab = await CollabClient.connect(limited.baseUrl, user.token);
      clients.push(calm, secondTab);
      await calm.join(id);

      // Awareness answers a request for an ack too, though clients need none.
      const announce = (state: Record<string, unknown> | null) => (flooder.socket as any).emitWithAck('awareness', { event_id: id, state });
      const answers: any[] = await Promise.all(Array.from({ length: 12 }, (_, n) => announce({ n })));
      expect(answers.filter((answer) => answer.ok)).toHaveLength(9);
      expect(answers.slice(9)).toEqual(
        Array(3).fill({ error: { code: 'too_many_requests', message: 'Too many messages: send again in 1 s', details: { retry_after_seconds: 1 } } }),
      );
      expect((await flooder.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Flood '))).error).toMatchObject({ code: 'too_many_requests' });
      // Another socket of the same user spends the same budget: opening sockets does not add to it.
      expect(await secondTab.socket.emitWithAck('join', { event_id: id })).toMatchObject({ error: { code: 'too_many_requests' } });

      // Another user has a budget of their own.
      expect(await calm.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Calm '))).toEqual({ ok: true });
      expect(await calm.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: 2 });
      expect((await limited.api.get(`/events/${id}`, { token: user.token })).body.title).toBe('Calm Planning');

      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await announce(null)).toEqual({ ok: true });
    } finally {
      await limited.close();
    }
  });
});

describe('presence', () => {
  /**
   * Awareness events a client gets from its join to the answer of a request sent after it: alone,
   * the server sends presence in the turn of its event loop that acks the join, before it can read
   * that request, and a socket's events arrive in order.
   */
  const presenceOnJoin = async (client: CollabClient, id: number) => {
    const from = client.received.length;
    await client.join(id);
    await client.socket.emitWithAck('leave', { event_id: 999_999 });
    return client.received.slice(from).filter((r) => r.event === 'awareness').map((r) => r.payload);
  };

  it('relays awareness to the others in the room with who sent it', async () => {
    const id = await sharedEvent();
    const [a, b] = await Promise.all([connect(editor), connect(viewer)]);
    await Promise.all([a.join(id), b.join(id)]);
    const seen = b.next('awareness');
    a.socket.emit('awareness', { event_id: id, state: { field: 'title', cursor: 3 } });
    const from = { event_id: id, user: { id: editor.id, username: editor.username }, connection: a.socket.id };
    expect(await seen).toEqual({ ...from, state: { field: 'title', cursor: 3 } });
    const left = b.next('awareness');
    a.close();
    expect(await left).toEqual({ ...from, state: null });
  });

  it('tells a newcomer where everyone already here is, and no one who has left or not said', async () => {
    const id = await sharedEvent();
    const [a, b, c] = await Promise.all([connect(editor), connect(viewer), connect(owner)]);
    await Promise.all([a.join(id), b.join(id)]);
    const relayed = b.next('awareness');
    a.socket.emit('awareness', { event_id: id, state: { field: 'title' } });
    await relayed;

    expect(await presenceOnJoin(c, id)).toEqual([{ event_id: id, user: { id: editor.id, username: editor.username }, connection: a.socket.id, state: { field: 'title' } }]);

    const gone = b.next('awareness', (payload) => payload.user.id === editor.id && payload.state === null);
    a.close();
    await gone;
    expect(await presenceOnJoin(await connect(viewer), id)).toEqual([]);
  });

  it("keeps one user's connections apart: one tab leaving takes only its own presence away", async () => {
    const id = await sharedEvent();
    const [tab1, tab2, b] = await Promise.all([connect(editor), connect(editor), connect(viewer)]);
    await Promise.all([tab1.join(id), tab2.join(id), b.join(id)]);
    const user = { id: editor.id, username: editor.username };
    const announced = b.next('awareness', (payload) => payload.connection === tab2.socket.id);
    tab1.socket.emit('awareness', { event_id: id, state: { field: 'title' } });
    tab2.socket.emit('awareness', { event_id: id, state: { field: 'location' } });
    expect(await announced).toEqual({ event_id: id, user, connection: tab2.socket.id, state: { field: 'location' } });

    const gone = b.next('awareness', (payload) => payload.state === null);
    const tab1Id = tab1.socket.id;
    tab1.close();
    expect(await gone).toEqual({ event_id: id, user, connection: tab1Id, state: null });
    expect(await presenceOnJoin(await connect(owner), id)).toEqual([{ event_id: id, user, connection: tab2.socket.id, state: { field: 'location' } }]);
  });
});

describe('connections', () => {
  it('resyncs without loss after a dropped connection, both ways', async () => {
    const id = await sharedEvent({ description: 'start' });
    const stayer = await connect(owner);
    await stayer.join(id);
    const leaver = await connect(editor);
    await leaver.join(id);
    const offlineDoc = leaver.doc(id);
    leaver.close();

    // While it is away, the other side edits; it edits its own copy offline.
    await stayer.edit(id, (map) => (map.get('description') as Y.Text).insert(5, ' [online]'));
    offlineDoc.transact(() => (offlineDoc.getMap('event').get('description') as Y.Text).insert(0, '[offline] '));

    const back = await connect(editor);
    await back.join(id, offlineDoc);
    const expected = '[offline] start [online]';
    await back.waitFor(() => back.text(id, 'description').toString() === expected, 'rejoined copy');
    await stayer.waitFor(() => stayer.text(id, 'description').toString() === expected, 'offline edit reached the other client');
  });

  it('lets a stop end within seconds though a client never answers the WebSocket closing handshake', async () => {
    // Stopped right after its start: the cluster adapter's LISTEN may still be under way as it closes.
    const quick = await startTestApp();
    // A WebSocket whose peer reads but never answers, as when its network has gone away.
    const gone = net.connect(Number(new URL(quick.baseUrl).port), '127.0.0.1');
    try {
      const upgraded = new Promise<string>((resolve) => gone.once('data', (data) => resolve(String(data))));
      gone.write(
        'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      expect(await upgraded).toMatch(/^HTTP\/1.1 101/);
      gone.on('data', () => undefined);
      const stopping = Date.now();
      await quick.close();
      // ws alone would wait 30 s for the answer.
      expect(Date.now() - stopping).toBeLessThan(10_000);
    } finally {
      gone.destroy();
    }
  });

  it("closes a session's sockets when it logs out or its refresh token is reused, and no one else's", async () => {
    const id = await sharedEvent();
    const login = async () => (await app.api.post('/auth/login', { username: editor.username, password: editor.password })).body;
    const [first, second] = await Promise.all([login(), login()]);
    const [leaving, reused, staying] = await Promise.all([first.access_token, second.access_token, editor.token].map((token) => connect({ ...editor, token })));
    await Promise.all([leaving, reused, staying].map((client) => client.join(id)));
    const closed = (client: CollabClient) =>
      new Promise<{ reason: string; error: any }>((resolve) =>
        client.socket.once('disconnect', (reason) => resolve({ reason, error: client.received.find((r) => r.event === 'error')?.payload })),
      );
    const ended = { reason: 'io server disconnect', error: { code: 'unauthorized', message: 'Session has ended; log in again' } };

    const leavingClosed = closed(leaving);
    expect((await app.api.post('/auth/logout', {}, { token: first.access_token })).status).toBe(204);
    expect(await leavingClosed).toEqual(ended);

    const reusedClosed = closed(reused);
    expect((await app.api.post('/auth/refresh', { refresh_token: second.refresh_token })).status).toBe(200);
    expect((await app.api.post('/auth/refresh', { refresh_token: second.refresh_token })).status).toBe(401);
    expect(await reusedClosed).toEqual(ended);

    expect(staying.socket.connected).toBe(true);
    expect(await staying.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'x'))).toEqual({ ok: true });
  });

  it('closes, at its next check, a socket whose session ended without this process being told', async () => {
    // As when the notice crossed the socket's authentication, or a peer missed it reconnecting.
    const swept = await startTestApp({ COLLAB_SESSION_SWEEP_MS: '100' });
    try {
      const [ended, staying] = await Promise.all([ownerInRoom(swept, 'ended'), ownerInRoom(swept, 'staying')]);
      const closed = new Promise((resolve) => ended.client.socket.once('disconnect', resolve));
      const { sid } = jwt.decode(ended.user.token) as jwt.JwtPayload;
      await swept.database.orm.em.fork().nativeUpdate(AuthSession, { id: sid }, { revokedAt: new Date() });
      expect(await closed).toBe('io server disconnect');
      expect(ended.client.received.find((r) => r.event === 'error')?.payload).toEqual({ code: 'unauthorized', message: 'Session has ended; log in again' });
      expect(staying.client.socket.connected).toBe(true);
      expect(await staying.client.edit(staying.id, (map) => (map.get('title') as Y.Text).insert(0, 'x'))).toEqual({ ok: true });
    } finally {
      await swept.close();
    }
  });

  it('stops accepting writes once the token expires, until a fresh one is sent', async () => {
    const id = await sharedEvent();
    const claims = jwt.decode(editor.token) as jwt.JwtPayload;
    const shortLived = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) + 1 }, app.config.jwt.secret);
    const client = await connect({ ...editor, token: shortLived });
    await client.join(id);
    await waitUntil(async () => Date.now() > (claims.exp = (jwt.decode(shortLived) as jwt.JwtPayload).exp!) * 1000, 'token expiry');
    const refused = await client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'x'));
    expect(refused.error).toMatchObject({ code: 'unauthorized' });

    expect(await client.socket.emitWithAck('auth', { token: editor.token })).toMatchObject({ expires_at: expect.any(String) });
    // The refused edit is still in the client's copy: joining again with it sends it over.
    await client.join(id, client.doc(id));
    expect(await client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'y'))).toEqual({ ok: true });
    expect(await client.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: 2 });
    expect((await getEvent(id)).title).toBe('yxPlanning');
    expect((await client.socket.emitWithAck('auth', { token: owner.token }) as any).error.code).toBe('forbidden');
  });
});

describe('a lost database connection', () => {
  it('is told apart from a refused statement: only the first is retried', () => {
    const sqlError = (code: string) => Object.assign(new pg.DatabaseError('failed', 0, 'error'), { code });
    const refusedEverywhere = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')]), { code: 'ECONNREFUSED' });
    // MikroORM rethrows driver errors as its own, with the statement in front and the code copied.
    const fromOrm = (message: string, code?: string) => new DriverException(Object.assign(new Error(message), code ? { code } : {}));
    const retried = [
      new Error('Connection terminated unexpectedly'),
      refusedEverywhere,
      sqlError('08006'),
      sqlError('57P01'),
      sqlError('53300'),
      fromOrm('select 1 - Connection terminated unexpectedly'),
      fromOrm('Knex: Timeout acquiring a connection. The pool is probably full.'),
      fromOrm('select 1 - the database system is shutting down', '57P01'),
    ];
    const refused = [sqlError('23503'), sqlError('42P01'), sqlError('22P02'), new TypeError('a bug'), new Error('Query values must be an array'), fromOrm('insert - violates foreign key', '23503')];
    expect(retried.map(isUnreachable)).toEqual(retried.map(() => true));
    expect(refused.map(isUnreachable)).toEqual(refused.map(() => false));
  });

  it('holds the acks of edits made meanwhile, and stores every one once the database is back', async () => {
    const database = await createTestDatabase();
    const proxy = await proxyDatabase(database.url);
    const flaky = await startTestApp({ DATABASE_URL: proxy.url, COLLAB_QUIET_MS: '60000', COLLAB_MAX_DELAY_MS: '60000' }, { database, expectWarnings: true });
    try {
      const { user: writer, id, client } = await ownerInRoom(flaky, 'writer');

      await proxy.cut();
      const acks = ['a', 'b', 'c'].map((letter) => client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, letter)));
      let settled = false;
      void Promise.all(acks).then(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(settled).toBe(false);
      await proxy.restore();

      expect(await Promise.all(acks)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      expect(await client.socket.emitWithAck('checkpoint', { event_id: id })).toEqual({ version: 2 });
      expect((await flaky.api.get(`/events/${id}`, { token: writer.token })).body.title).toBe('cbaPlanning');
      expect(flaky.warnings.map((record) => record.msg)).toContain('database unreachable: retrying to store live edits');
    } finally {
      for (const client of clients.splice(0)) client.close();
      await flaky.close();
      await proxy.close();
      await database.drop();
    }
  });
});
