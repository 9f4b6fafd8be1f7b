import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import * as Y from 'yjs';
import { Api } from './support/api';
import { CollabClient } from './support/collab-client';
import { createEvent, createUser, share, type TestUser } from './support/fixtures';
import { buildServer, freePort, startServerProcess, type ServerProcess } from './support/server-process';
import { proxyDatabase } from './support/tcp-proxy';
import { createTestDatabase, withClient, type TestDatabase } from './support/test-app';
import { waitUntil } from './support/wait';

/**
 * Real server processes on one database: scale-out (two processes behave as one) and crash
 * safety (kill -9 loses no acknowledged edit).
 */

const JWT_SECRET = 'cluster-test-secret-long-enough-for-production';
let database: TestDatabase;
const processes: ServerProcess[] = [];
const clients: CollabClient[] = [];
const peers: PeerOnTheWire[] = [];

beforeAll(async () => {
  buildServer();
  database = await createTestDatabase();
}, 120_000);
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
  await Promise.all(processes.splice(0).map((server) => server.stop()));
});
afterAll(() => database?.drop());

async function server(env: Record<string, string> = {}): Promise<ServerProcess> {
  const started = await startServerProcess({ DATABASE_URL: database.url, JWT_SECRET, COLLAB_QUIET_MS: '60000', COLLAB_MAX_DELAY_MS: '60000', ...env });
  processes.push(started);
  return started;
}

async function connect(on: ServerProcess, user: TestUser): Promise<CollabClient> {
  const client = await CollabClient.connect(on.url, user.token);
  clients.push(client);
  return client;
}

const api = (on: ServerProcess) => new Api(`${on.url}/api/v1`);

async function listenAsPeer(): Promise<PeerOnTheWire> {
  const peer = await PeerOnTheWire.listen(database.url);
  peers.push(peer);
  return peer;
}

/** A process with the owner of an event (description '') in its room, and the test as another process. */
async function ownerBesidePeer(env: Record<string, string> = {}) {
  const a = await server(env);
  const peer = await listenAsPeer();
  const owner = await createUser(api(a), 'owner');
  const id = await createEvent(api(a), owner, { description: '' });
  const client = await connect(a, owner);
  await client.join(id);
  return { a, peer, owner, id, client };
}

/** Closes every process's connection for hearing the others, and returns once they are gone. */
type DropListeners = () => Promise<void>;

/** The database backends of the processes' LISTEN connections (not the test's own peers'). */
async function listenerPids(): Promise<number[]> {
  const { rows } = await withClient(database.url, (client) =>
    client.query(`select pid from pg_stat_activity where datname = current_database() and query like 'LISTEN %' and application_name <> $1`, [PeerOnTheWire.UID]),
  );
  return rows.map((row) => row.pid as number);
}

const dropPostgresListeners: DropListeners = async () => {
  const pids = await listenerPids();
  expect(pids.length).toBeGreaterThanOrEqual(2);
  await endBackends(pids);
};

/** Ends these database backends, and returns once they are gone. */
async function endBackends(pids: number[]): Promise<void> {
  await withClient(database.url, async (client) => {
    await client.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);
    // The adapter reconnects a second or more later: until then, nothing relayed is heard.
    while ((await client.query('select 1 from pg_stat_activity where pid = any($1)', [pids])).rowCount) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
}

const dropRedisListeners = (url: string): DropListeners => async () => {
  const client = new Redis(url);
  try {
    await client.client('KILL', 'TYPE', 'pubsub');
  } finally {
    client.disconnect();
  }
};

const ADAPTERS: [string, Record<string, string>, DropListeners][] = [
  ['PostgreSQL', {}, dropPostgresListeners],
  // The Redis adapter needs a Redis server: CI points TEST_REDIS_URL at one when it has it.
  ...(process.env.TEST_REDIS_URL
    ? [['Redis', { REDIS_URL: process.env.TEST_REDIS_URL }, dropRedisListeners(process.env.TEST_REDIS_URL)] as [string, Record<string, string>, DropListeners]]
    : []),
];

describe.each(ADAPTERS)('two processes through the %s adapter', (_name, adapterEnv, dropListeners) => {
  it('behave as one: edits, REST writes and versions reach sockets on the other process', async () => {
    const [a, b] = await Promise.all([server(adapterEnv), server(adapterEnv)]);
    const [owner, editor, viewer] = await Promise.all([createUser(api(a), 'owner'), createUser(api(a), 'editor'), createUser(api(b), 'viewer')]);
    const id = await createEvent(api(a), owner, { description: 'Notes:' });
    await share(api(a), owner, id, editor, 'editor');
    await share(api(b), owner, id, viewer, 'viewer');

    const writerOnA = await connect(a, editor);
    const readerOnB = await connect(b, viewer);
    await Promise.all([writerOnA.join(id), readerOnB.join(id)]);

    // A live edit on A reaches a viewer on B.
    expect(await writerOnA.edit(id, (map) => (map.get('description') as Y.Text).insert(6, ' from A'))).toEqual({ ok: true });
    await readerOnB.waitFor(() => readerOnB.text(id, 'description').toString() === 'Notes: from A', 'edit from A on B');

    // So does presence.
    const presence = readerOnB.next('awareness');
    writerOnA.socket.emit('awareness', { event_id: id, state: { field: 'description' } });
    expect(await presence).toMatchObject({ event_id: id, user: { id: editor.id }, state: { field: 'description' } });

    // B's own copy of the document got it too: a client joining on B now starts from it, and
    // learns where the editor on A is without the editor saying it again.
    const latecomer = await connect(b, owner);
    const presenceOnJoin = latecomer.next('awareness');
    await latecomer.join(id);
    expect(latecomer.text(id, 'description').toString()).toBe('Notes: from A');
    expect(await presenceOnJoin).toMatchObject({ event_id: id, user: { id: editor.id }, state: { field: 'description' } });

    // A REST write through B reaches the editor on A as an update and a version.
    const version = writerOnA.next('version');
    const put = await api(b).put(`/events/${id}`, { title: 'Set on B' }, { token: owner.token });
    expect(put.status).toBe(200);
    await writerOnA.waitFor(() => writerOnA.text(id, 'title').toString() === 'Set on B', 'REST edit from B on A');
    expect(await version).toMatchObject({ version_number: 2, created_by: { id: owner.id } });
  });

  /** The owner, on A, is in an event and has said where; the viewer, on B, has seen it. */
  async function presentOnA() {
    const [a, b] = await Promise.all([server(adapterEnv), server(adapterEnv)]);
    const [owner, viewer] = await Promise.all([createUser(api(a), 'owner'), createUser(api(a), 'viewer')]);
    const id = await createEvent(api(a), owner);
    await share(api(a), owner, id, viewer, 'viewer');
    const [onA, onB] = await Promise.all([connect(a, owner), connect(b, viewer)]);
    await Promise.all([onA.join(id), onB.join(id)]);
    const here = onB.next('awareness');
    onA.socket.emit('awareness', { event_id: id, state: { field: 'title' } });
    const { connection } = await here;
    const withdrawn = { event_id: id, user: { id: owner.id, username: owner.username }, connection, state: null };
    return { a, onA, onB, owner, withdrawn };
  }

  it("withdraw a stopping process's presence from the others' rooms", async () => {
    const { a, onB, withdrawn } = await presentOnA();
    // A deploy stops A gracefully: its sockets close, and B's clients must not keep showing them.
    const gone = onB.next('awareness', (payload) => payload.state === null);
    await a.stop();
    expect(await gone).toEqual(withdrawn);
  });

  it('withdraw the presence of a process killed outright, once the adapter finds it gone', async () => {
    const { a, onB, withdrawn } = await presentOnA();
    // Killed, A says nothing. The PostgreSQL adapter counts a process gone after 10 s without
    // its heartbeat; Redis as soon as its connections close.
    const killed = Date.now();
    await a.kill();
    processes.splice(processes.indexOf(a), 1);
    const presence = await onB.waitFor(() => onB.received.find((r) => r.event === 'awareness' && r.payload.state === null)?.payload, 'A withdrawn', 20_000);
    expect(presence).toEqual(withdrawn);
    expect(Date.now() - killed).toBeLessThan(15_000);
  }, 40_000);

  it('resync what one missed while it could not hear the others', async () => {
    const [a, b] = await Promise.all([server(adapterEnv), server(adapterEnv)]);
    const [owner, viewer] = await Promise.all([createUser(api(a), 'owner'), createUser(api(b), 'viewer')]);
    const id = await createEvent(api(a), owner, { description: '' });
    await share(api(a), owner, id, viewer, 'viewer');
    const writerOnA = await connect(a, owner);
    const readerOnB = await connect(b, viewer);
    await Promise.all([writerOnA.join(id), readerOnB.join(id)]);
    const description = () => readerOnB.text(id, 'description').toString();
    expect(await writerOnA.edit(id, (map) => (map.get('description') as Y.Text).insert(0, 'heard'))).toEqual({ ok: true });
    await readerOnB.waitFor(() => description() === 'heard', 'an edit from A on B');

    await dropListeners();
    // Relayed while no process listens: this one is lost on the way.
    expect(await writerOnA.edit(id, (map) => (map.get('description') as Y.Text).insert(5, ', missed'))).toEqual({ ok: true });
    await readerOnB.waitFor(() => description() === 'heard, missed', 'the missed edit, once the processes hear each other again');
  });

  it('tell each other who is here, and who left, after a time they could not hear each other', async () => {
    const { a, onA, onB, owner, withdrawn } = await presentOnA();
    const id = withdrawn.event_id;
    // The owner also has a second tab open on A, which B has heard of.
    const secondTab = await connect(a, owner);
    await secondTab.join(id);
    const secondTabId = secondTab.socket.id;
    const heard = onB.next('awareness', (payload) => payload.connection === secondTabId);
    secondTab.socket.emit('awareness', { event_id: id, state: { field: 'location' } });
    await heard;

    await dropListeners();
    // While B cannot hear A, the first tab moves to another field and the second is closed.
    onA.socket.emit('awareness', { event_id: id, state: { field: 'description' } });
    secondTab.close();
    const [moved, left] = await Promise.all([
      onB.next('awareness', (payload) => payload.connection === withdrawn.connection && payload.state?.field === 'description'),
      onB.next('awareness', (payload) => payload.connection === secondTabId && payload.state === null),
    ]);
    expect(moved).toEqual({ ...withdrawn, state: { field: 'description' } });
    expect(left).toEqual({ ...withdrawn, connection: secondTabId, state: null });
  });

  it('never write the same version twice when both checkpoint at once', async () => {
    const [a, b] = await Promise.all([server(adapterEnv), server(adapterEnv)]);
    const owner = await createUser(api(a), 'owner');
    const editor = await createUser(api(a), 'editor');
    const id = await createEvent(api(a), owner, { description: '' });
    await share(api(a), owner, id, editor, 'editor');
    const [onA, onB] = await Promise.all([connect(a, owner), connect(b, editor)]);
    await Promise.all([onA.join(id), onB.join(id)]);

    for (let round = 0; round < 5; round += 1) {
      const acks = await Promise.all([
        onA.edit(id, (map) => (map.get('description') as Y.Text).insert(0, `a${round} `)),
        onB.edit(id, (map) => {
          const location = map.get('location') as Y.Text;
          location.delete(0, location.length);
          location.insert(0, `Room ${round}`);
        }),
      ]);
      expect(acks).toEqual([{ ok: true }, { ok: true }]);
      const results = await Promise.all([
        onA.socket.emitWithAck('checkpoint', { event_id: id }),
        onB.socket.emitWithAck('checkpoint', { event_id: id }),
      ]);
      // One of them folds both edits into a version; the other finds nothing left to fold.
      expect(results.filter((result: any) => result.version !== null)).toHaveLength(1);
    }
    const history = (await api(a).get(`/events/${id}/history`, { token: owner.token })).body as { version_number: number }[];
    expect(history.map((version) => version.version_number)).toEqual([6, 5, 4, 3, 2, 1]);
    const event = (await api(b).get(`/events/${id}`, { token: owner.token })).body;
    expect(event).toMatchObject({ description: 'a4 a3 a2 a1 a0 ', location: 'Room 4', version: 6 });
  });
});

/**
 * Another process as the PostgreSQL adapter sees one: it listens on the namespace's channel and
 * publishes the adapter's messages, so a test can see what a process sends to the others.
 */
class PeerOnTheWire {
  private readonly messages: { event: string; args: any[] }[] = [];
  /** How many messages of each event `next` has returned. */
  private readonly taken = new Map<string, number>();
  /** What this peer answers to questions (server-side emits with an ack), by event. */
  private readonly replies = new Map<string, unknown>();
  /** Whether it answers a process announcing itself, as every real process does. */
  private answersAnnouncements = false;
  private closed = false;

  private constructor(private readonly client: pg.Client) {
    client.on('notification', ({ payload }) => {
      const message = JSON.parse(payload!);
      if (message.type === INITIAL_HEARTBEAT && message.uid !== PeerOnTheWire.UID && this.answersAnnouncements) {
        void this.publish({ type: HEARTBEAT });
      }
      // Server-side emits from the process under test; heartbeats and this peer's own are left out.
      if (message.type === SERVER_SIDE_EMIT && message.uid !== PeerOnTheWire.UID) {
        const [event, ...args] = message.data.packet;
        this.messages.push({ event, args });
        const { requestId } = message.data;
        if (requestId !== undefined && this.replies.has(event)) {
          // An answer that races this peer's close is dropped with its connection.
          this.publish({ type: SERVER_SIDE_EMIT_RESPONSE, data: { requestId, packet: this.replies.get(event) } }).catch((err) => {
            if (!this.closed) throw err;
          });
        }
      }
    });
  }

  static readonly UID = 'peer-on-the-wire';

  static async listen(databaseUrl: string): Promise<PeerOnTheWire> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: PeerOnTheWire.UID });
    await client.connect();
    await client.query(`LISTEN "${CHANNEL}"`);
    return new PeerOnTheWire(client);
  }

  /**
   * The next message of this event. Events are counted apart: two messages published at once
   * through different pooled connections may arrive in either order.
   */
  async next(event: string, timeoutMs = 5_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    const taken = this.taken.get(event) ?? 0;
    for (;;) {
      const message = this.messages.filter((candidate) => candidate.event === event)[taken];
      if (message) {
        this.taken.set(event, taken + 1);
        return message.args;
      }
      if (Date.now() > deadline) throw new Error(`no "${event}" from the process`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The first message of this event whose arguments match, whenever it came. */
  async find(event: string, matches: (args: any[]) => boolean, timeoutMs = 5_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.messages.find((candidate) => candidate.event === event && matches(candidate.args));
      if (message) return message.args;
      if (Date.now() > deadline) throw new Error(`no matching "${event}" from the process`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  sent(event: string): number {
    return this.messages.filter((message) => message.event === event).length;
  }

  announce(): Promise<unknown> {
    return this.publish({ type: INITIAL_HEARTBEAT });
  }

  /** From now on, answers a process announcing itself with a heartbeat, which makes it known there. */
  answerAnnouncements(): void {
    this.answersAnnouncements = true;
  }

  emit(event: string, ...args: unknown[]): Promise<unknown> {
    return this.publish({ type: SERVER_SIDE_EMIT, data: { packet: [event, ...args] } });
  }

  /** From now on, answers every question of this event with `reply`. */
  answer(event: string, reply: unknown): void {
    this.replies.set(event, reply);
  }

  close(): Promise<void> {
    this.closed = true;
    return this.client.end();
  }

  private publish(message: object): Promise<unknown> {
    return this.client.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify({ uid: PeerOnTheWire.UID, nsp: '/collab', ...message })]);
  }
}

// The adapter's channel for /collab and its message types (socket.io-adapter's MessageType).
const CHANNEL = 'socket.io#/collab';
const INITIAL_HEARTBEAT = 1;
const HEARTBEAT = 2;
const SERVER_SIDE_EMIT = 9;
const SERVER_SIDE_EMIT_RESPONSE = 10;

describe('a process alone', () => {
  it('relays no edits until another process appears, then syncs its open documents with it', async () => {
    const { a, peer, owner, id, client } = await ownerBesidePeer();
    // Opening a document asks the others for what it lacks, whether or not there are any.
    const [asked, answer] = await peer.next('doc-sync');
    expect(asked.map(([eventId]: [number]) => eventId)).toEqual([id]);
    expect(answer).toBe(false);

    expect(await client.edit(id, (map) => (map.get('description') as Y.Text).insert(0, 'alone'))).toEqual({ ok: true });
    client.socket.emit('awareness', { event_id: id, state: { field: 'description' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(peer.sent('doc-updates')).toBe(0);
    expect(peer.sent('awareness')).toBe(0);

    // Another process appears: within a second, the open document is offered to it.
    await peer.announce();
    const [offered, offerIsAnswer] = await peer.next('doc-sync');
    expect(offered.map(([eventId]: [number]) => eventId)).toEqual([id]);
    expect(offerIsAnswer).toBe(false);
    // So is the question of who is there, for it to ask back: presence said while alone went nowhere.
    expect(await peer.next('presence')).toEqual([[id], true]);

    // Asked for everything, the process answers with the edit it made alone, and asks back.
    await peer.emit('doc-sync', [[id, Buffer.from(Y.encodeStateVector(new Y.Doc())).toString('base64')]], false);
    const [[[answeredId, update]]] = await peer.next('doc-updates');
    expect(answeredId).toBe(id);
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Buffer.from(update, 'base64'));
    expect(copy.getMap('event').get('description')!.toString()).toBe('alone');
    expect((await peer.next('doc-sync'))[1]).toBe(true);

    // From now on, edits are relayed as they are made.
    expect(await client.edit(id, (map) => (map.get('description') as Y.Text).insert(5, ', then not'))).toEqual({ ok: true });
    const [[[relayedId, relayed]]] = await peer.next('doc-updates');
    expect(relayedId).toBe(id);
    Y.applyUpdate(copy, Buffer.from(relayed, 'base64'));
    expect(copy.getMap('event').get('description')!.toString()).toBe('alone, then not');
    client.socket.emit('awareness', { event_id: id, state: { field: 'title' } });
    expect(await peer.next('awareness')).toEqual([expect.objectContaining({ event_id: id, state: { field: 'title' } }), expect.any(String)]);

    // A newcomer learns at once who is here in this process, though the other never answers
    // the question of who is there (the adapter would wait 5 s for it). The question names the
    // event and nothing more, and does not ask back.
    const newcomer = await connect(a, owner);
    await newcomer.join(id);
    expect(await peer.find('presence', ([, askBack]) => !askBack)).toEqual([[id], false]);
    const presence = await newcomer.waitFor(() => newcomer.received.find((r) => r.event === 'awareness')?.payload, 'presence', 2_000);
    expect(presence).toEqual({ event_id: id, user: { id: owner.id, username: owner.username }, connection: client.socket.id, state: { field: 'title' } });
  });
});

describe('a process that could not hear the others', () => {
  it('announces itself again once it listens, so one that started meanwhile is known at once', async () => {
    const { peer, id, client } = await ownerBesidePeer();
    await peer.next('doc-sync'); // the document's opening asked, and nobody answered: it is alone
    peer.answerAnnouncements();
    const [listener] = await listenerPids();
    await endBackends([listener]);
    // While it cannot hear, another process starts and announces itself, unheard.
    await peer.announce();
    await waitUntil(async () => (await listenerPids()).length > 0, 'the process to listen again');
    // Its edits reach the other process once it knows of it: within the second of its count of
    // the others, not at the other's next heartbeat (this one never sends one).
    let edits = 0;
    await waitUntil(async () => {
      await client.edit(id, (map) => (map.get('description') as Y.Text).insert(0, `${(edits += 1)}`));
      return peer.sent('doc-updates') > 0;
    }, 'an edit relayed to the process that started meanwhile', 5_000);
  });
});

describe('updates from another process', () => {
  it('reach the sockets here once, with nothing they already have', async () => {
    const { a, peer, owner, id, client } = await ownerBesidePeer();
    // An edit made in another process, on its copy of the document.
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(client.doc(id)));
    let edit: Uint8Array | undefined;
    copy.on('update', (update: Uint8Array) => (edit = update));
    (copy.getMap('event').get('description') as Y.Text).insert(0, 'elsewhere');
    const encoded = Buffer.from(edit!).toString('base64');
    // It comes as a relay, then again inside a sync answer, which also repeats the whole document.
    await peer.emit('doc-updates', [[id, encoded]]);
    await peer.emit('doc-updates', [[id, Buffer.from(Y.encodeStateAsUpdate(copy)).toString('base64')]]);
    await client.waitFor(() => client.text(id, 'description').toString() === 'elsewhere', 'the edit');
    // A REST write after both: its update is the next the client gets, so none came in between.
    await api(a).put(`/events/${id}`, { title: 'After' }, { token: owner.token });
    await client.waitFor(() => client.text(id, 'title').toString() === 'After', 'the REST write');
    expect(client.received.filter((r) => r.event === 'update')).toHaveLength(2);
  });
});

describe('a process that died as another started', () => {
  it('has its presence withdrawn by the periodic check, though the count of processes never dropped', async () => {
    const { peer, owner, id, client } = await ownerBesidePeer({ COLLAB_PRESENCE_CHECK_MS: '500' });
    await peer.announce();
    // The peer relays the presence of a connection on a process of its own...
    const ghost = { event_id: id, user: { id: owner.id, username: owner.username }, connection: 'on-the-dead-process', state: { field: 'title' } };
    const shown = client.next('awareness');
    await peer.emit('awareness', ghost, 'dead-process');
    expect(await shown).toEqual(ghost);
    // ...which then dies, and a successor takes its place: still one other process, so the
    // adapter's count never drops. Only asking which processes are there finds the dead one.
    const replaced = Date.now();
    peer.answer('processes', 'successor-process');
    const withdrawn = await client.next('awareness', (payload) => payload.state === null);
    expect(withdrawn).toEqual({ ...ghost, state: null });
    // Well before the adapter would count the silent peer gone (10 s).
    expect(Date.now() - replaced).toBeLessThan(3_000);
  });
});

describe('a process that does not answer', () => {
  it("costs a newcomer only that process's presence, after the adapter's wait", async () => {
    const [a, b] = await Promise.all([server(), server()]);
    const [owner, viewer] = await Promise.all([createUser(api(a), 'owner'), createUser(api(a), 'viewer')]);
    const id = await createEvent(api(a), owner);
    await share(api(a), owner, id, viewer, 'viewer');
    const onB = await connect(b, owner);
    await onB.join(id);
    onB.socket.emit('awareness', { event_id: id, state: { field: 'title' } });
    const peer = await listenAsPeer();
    // A third process the adapter knows of, which never answers anything.
    await peer.announce();
    const newcomer = await connect(a, viewer);
    const joined = Date.now();
    await newcomer.join(id);
    expect(await peer.find('presence', ([, askBack]) => !askBack)).toEqual([[id], false]);
    const presence = await newcomer.waitFor(() => newcomer.received.find((r) => r.event === 'awareness')?.payload, 'presence from B', 8_000);
    expect(presence).toEqual({ event_id: id, user: { id: owner.id, username: owner.username }, connection: onB.socket.id, state: { field: 'title' } });
    // It came with the adapter's timeout (5 s): A waited for the silent process, then kept B's answer.
    expect(Date.now() - joined).toBeGreaterThanOrEqual(4_500);
  }, 30_000);
});

describe('a stop while the process cannot reach the others', () => {
  it('ends within seconds, though the database never answers its connects', async () => {
    const proxy = await proxyDatabase(database.url);
    try {
      const alone = await server({ DATABASE_URL: proxy.url });
      await waitUntil(async () => (await listenerPids()).length > 0, 'the adapter to listen');
      proxy.stall();
      // The adapter reconnects a second or more after losing its connection, and publishes a
      // heartbeat every few seconds: each takes a new connection, which now hangs.
      await waitUntil(async () => proxy.stalled > 0, 'a connect to hang');

      const stopping = Date.now();
      processes.splice(processes.indexOf(alone), 1);
      await alone.stop();
      // At most the connect timeout (5 s) and the adapter's last retry timer (3 s); before, never.
      expect(Date.now() - stopping).toBeLessThan(12_000);
    } finally {
      await proxy.close();
    }
  }, 40_000);
});

describe('a process starting beside another', () => {
  it("recovers the edits a crash left, but leaves those of rooms open in a live process to it", async () => {
    const a = await server();
    const owner = await createUser(api(a), 'owner');
    const open = await createEvent(api(a), owner, { description: '' });
    const left = await createEvent(api(a), owner, { title: 'Planning' });
    const client = await connect(a, owner);
    await client.join(open);
    expect(await client.edit(open, (map) => (map.get('description') as Y.Text).insert(0, 'typing'))).toEqual({ ok: true });
    // An edit stored by a process that then died: in the log, with no room open anywhere.
    await withClient(database.url, async (db) => {
      const { rows } = await db.query('select state from event_document where event_id = $1', [left]);
      const doc = new Y.Doc();
      Y.applyUpdate(doc, rows[0].state);
      const before = Y.encodeStateVector(doc);
      (doc.getMap('event').get('title') as Y.Text).insert(0, 'Recovered: ');
      await db.query('insert into event_document_update (event_id, author_id, "update", created_at) values ($1, $2, $3, now())', [
        left,
        owner.id,
        Buffer.from(Y.encodeStateAsUpdate(doc, before)),
      ]);
    });

    const b = await server();
    const history = async (id: number) => (await api(b).get(`/events/${id}/history`, { token: owner.token })).body as { version_number: number }[];
    await waitUntil(async () => (await history(left)).length === 2, 'the crash left behind to be recovered');
    expect((await api(b).get(`/events/${left}`, { token: owner.token })).body.title).toBe('Recovered: Planning');
    // Recovery goes in event order, so it has passed the open room: it made no version of it.
    expect(await history(open)).toHaveLength(1);
    // The process holding the room still folds its edits, when it is asked (or at its own pace).
    expect(await client.socket.emitWithAck('checkpoint', { event_id: open })).toEqual({ version: 2 });
    expect((await api(b).get(`/events/${open}`, { token: owner.token })).body.description).toBe('typing');
  });
});

describe('a crash', () => {
  it('loses no acknowledged edit: after kill -9 and a restart the document and the next version hold them all', async () => {
    const first = await server();
    const owner = await createUser(api(first), 'owner');
    const id = await createEvent(api(first), owner, { description: '' });
    const client = await connect(first, owner);
    await client.join(id);
    const words = Array.from({ length: 50 }, (_, n) => `w${n}`);
    for (const word of words) {
      const ack = await client.edit(id, (map) => {
        const text = map.get('description') as Y.Text;
        text.insert(text.length, `${word} `);
      });
      expect(ack).toEqual({ ok: true });
    }
    await first.kill();
    processes.splice(processes.indexOf(first), 1);
    client.close();

    const expected = words.map((word) => `${word} `).join('');
    const restarted = await server();
    // On start it folds the edits the crash left behind into a version.
    const history = async () => (await api(restarted).get(`/events/${id}/history`, { token: owner.token })).body as unknown[];
    const deadline = Date.now() + 10_000;
    while ((await history()).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await history()).toHaveLength(2);
    expect((await api(restarted).get(`/events/${id}`, { token: owner.token })).body.description).toBe(expected);
    const rejoined = await connect(restarted, owner);
    await rejoined.join(id);
    expect(rejoined.text(id, 'description').toString()).toBe(expected);
  });
});

describe('the embedded PostgreSQL', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    dataDir = path.join(tmpdir(), `neofi-embedded-${randomBytes(6).toString('hex')}`);
    env = { EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), JWT_SECRET, COLLAB_QUIET_MS: '60000', COLLAB_MAX_DELAY_MS: '60000' };
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((server) => server.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Makes a live edit, then `stop`s the server: the stop itself must save the edit as a version, logging no error. */
  async function expectStopToSaveAnEdit(server: ServerProcess, owner: TestUser, id: number, stop: () => Promise<void>): Promise<void> {
    const client = await connect(server, owner);
    await client.join(id);
    expect(await client.edit(id, (map) => (map.get('title') as Y.Text).insert(0, 'Saved: '))).toEqual({ ok: true });
    await stop();
    const stoppedAt = Date.now();
    expect(server.child.exitCode).toBe(0);
    expect(server.logs.filter((entry) => Number(entry.level) >= 50)).toEqual([]);

    // Version 2 was made by the stop itself, not recovered from the log by the next start.
    const next = await startServerProcess(env);
    processes.push(next);
    const history = (await api(next).get(`/events/${id}/history`, { token: owner.token })).body;
    expect(history.map((version: any) => version.version_number)).toEqual([2, 1]);
    expect(Date.parse(history[0].created_at)).toBeLessThan(stoppedAt);
    expect((await api(next).get(`/events/${id}`, { token: owner.token })).body.title).toBe('Saved: Planning');
  }

  it('is stopped by a graceful stop, after live edits are saved with it', async () => {
    const server = await startServerProcess(env);
    processes.push(server);
    const owner = await createUser(api(server), 'owner');
    const id = await createEvent(api(server), owner);
    await expectStopToSaveAnEdit(server, owner, id, () => server.stop());
  });

  it('is taken over when a killed server left it running, and outlives a Ctrl-C until live edits are saved', async () => {
    const killed = await startServerProcess(env);
    const owner = await createUser(api(killed), 'owner');
    const id = await createEvent(api(killed), owner);
    // Killed outright, it stops nothing: its PostgreSQL keeps running on the data directory.
    await killed.kill();

    const server = await startServerProcess(env, { processGroup: true });
    processes.push(server);
    expect(server.logs.map((entry) => entry.msg)).toContain('stopping the embedded PostgreSQL an earlier run left running');
    // Ctrl-C reaches the whole process group; PostgreSQL, in a session of its own, waits for the server.
    await expectStopToSaveAnEdit(server, owner, id, () => server.interrupt());
  });
});
