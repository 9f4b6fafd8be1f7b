/**
 * Real-time fan-out benchmark: this server's /collab hub against Hocuspocus 3 (the leading Yjs
 * server), the same load in the same run, each server in a process of its own.
 *
 * Scenarios: one room with 1 editor and 50, 200 and 500 viewers; 100 rooms of 5 clients
 * (1 editor, 4 viewers). For each: fan-out latency (editor's keystroke -> its update frame reaches
 * a viewer) p50/p99 at a steady typing rate, and its p50 to the first viewer of the room to have it
 * (the rest of the spread is the server's writes and this process reading them, one viewer after
 * another); updates per second through a burst, and the server's memory. Also how long a viewer
 * takes to connect and join while the room's other viewers do the same (a reconnect storm after a
 * deploy), and the server's CPU per client joined; with the embedded PostgreSQL, also the
 * database's CPU per update: what storing every update costs beyond our own process. Our figures
 * are durable (every update in PostgreSQL before its ack); Hocuspocus runs with its defaults
 * (documents in memory only).
 *
 * Editors are full clients (socket.io-client + Yjs; HocuspocusProvider). Viewers are minimal
 * WebSocket readers of each server's wire protocol that note when an update frame arrives: with
 * hundreds of viewers in one process, full client libraries would measure their own decoding
 * (which a browser does once, for one connection) more than the server's fan-out.
 *
 * Each scenario runs BENCH_ROUNDS times (default 3), the two servers alternating, and the table
 * shows each figure's median over the rounds, with the range of the ratios round by round: one run
 * on a shared machine can be off by 20 %.
 *
 *   npm run bench:realtime                    all scenarios
 *   BENCH_SCENARIOS=1x50,100x5 BENCH_ROUNDS=5 npm run bench:realtime
 *   BENCH_DATABASE_URL=postgres://... npm run bench:realtime    (default: an embedded PostgreSQL)
 *   BENCH_BASELINE=/path/to/other/checkout npm run bench:realtime
 *   BENCH_EXPLAIN=1 npm run bench:realtime
 *   BENCH_WARMUP_SECONDS=6 npm run bench:realtime    (rooms' 10 s checkpoint limit inside the latency phase)
 *   BENCH_STORING_HOCUSPOCUS=1 npm run bench:realtime
 *
 * BENCH_BASELINE adds a third server to every round: this project as built in another checkout
 * (after `npm run build` there), to compare a change with the code before it side by side.
 * BENCH_STORING_HOCUSPOCUS adds Hocuspocus storing every update in PostgreSQL as it arrives, as
 * ours does (it has no acks, so no client waits for it): what that durability costs it.
 * BENCH_EXPLAIN traces each server's GC pauses and event-loop stalls (bench/server-trace.ts) and,
 * after each latency phase, tells how many of the deliveries behind the p99 waited through one.
 */
import { performance } from 'node:perf_hooks';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { io, type Socket } from 'socket.io-client';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import type { Pause } from './server-trace';
import { BASELINE_ROOT, createDatabase, ourApi, ROOT, spawnServer, startDatabase, startOurServer, type ServerProcess } from './servers';

interface Scenario {
  name: string;
  rooms: number;
  viewersPerRoom: number;
  /** Keystrokes per second per room during the latency phase. */
  rate: number;
  /** Keystrokes per room in the burst. */
  burst: number;
}

const SCENARIOS: Scenario[] = [
  { name: '1x50', rooms: 1, viewersPerRoom: 50, rate: 20, burst: 2000 },
  { name: '1x200', rooms: 1, viewersPerRoom: 200, rate: 20, burst: 1000 },
  { name: '1x500', rooms: 1, viewersPerRoom: 500, rate: 20, burst: 500 },
  { name: '100x5', rooms: 100, viewersPerRoom: 4, rate: 5, burst: 50 },
];
const LATENCY_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Adds Hocuspocus storing every update in PostgreSQL as it arrives (bench/hocuspocus-server.ts) to every round. */
const STORING_HOCUSPOCUS = Boolean(process.env.BENCH_STORING_HOCUSPOCUS);

// ---------------------------------------------------------------------------------------------
// Clients: an editor typing one character per update, viewers recording when each arrives

interface Room {
  /** When each keystroke was sent, by index. */
  sentAt: number[];
  type(): void;
  /** Durable-ack latencies (ours only). */
  ackLatencies: number[];
  /** Each viewer's time from opening its connection to having joined the room. */
  joinLatencies: number[];
  viewersAt(length: number): boolean;
  close(): void;
}

/** Takes one delivery's latency; `firstViewer` when no other viewer of the room had it before. */
type Recorder = (latencyMs: number, firstViewer: boolean) => void;

/** Runs `work`, adding how long it took to `durations`. */
async function timed<T>(work: () => Promise<T>, durations: number[]): Promise<T> {
  const started = performance.now();
  const result = await work();
  durations.push(performance.now() - started);
  return result;
}

interface Target {
  name: string;
  /** Whether the server stores updates in the benchmark's database, whose CPU is then measured. */
  storesUpdates: boolean;
  start(): Promise<ServerProcess>;
  openRoom(server: ServerProcess, index: number, viewers: number, record: Recorder): Promise<Room>;
  prepare?(server: ServerProcess, rooms: number): Promise<void>;
}

/** A room's keystrokes: when each was sent, and how many have reached at least one viewer. */
class Keystrokes {
  readonly sentAt: number[] = [];
  reachedAnyViewer = 0;
}

/** Counts the keystrokes that reached a viewer, recording each one's latency. */
class Arrivals {
  private count = 0;

  constructor(
    private readonly keystrokes: Keystrokes,
    private readonly record: Recorder,
  ) {}

  arrived(): void {
    // Each viewer sees the keystrokes in order, so the first to see this one finds it next in line.
    const firstViewer = this.keystrokes.reachedAnyViewer === this.count;
    if (firstViewer) this.keystrokes.reachedAnyViewer += 1;
    this.record(performance.now() - this.keystrokes.sentAt[this.count], firstViewer);
    this.count += 1;
  }

  get seen(): number {
    return this.count;
  }
}

/** Opens a WebSocket with its message handler in place from the start: servers speak first. */
function openSocket(url: string, onMessage: (socket: WebSocket, data: Buffer, isBinary: boolean) => void): Promise<WebSocket> {
  const socket = new WebSocket(url);
  socket.on('message', (data: Buffer, isBinary: boolean) => onMessage(socket, data, isBinary));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * A viewer speaking Socket.IO's wire protocol directly: connect to /collab, join, then note every
 * `update` event, which arrives as a text header followed by one binary frame.
 */
async function socketIoViewer(serverUrl: string, token: string, eventId: number, arrivals: Arrivals): Promise<WebSocket> {
  let attachmentsToSkip = 0;
  let updateAttachment = false;
  let opened!: Promise<WebSocket>;
  await new Promise<void>((resolve, reject) => {
    const onMessage = (socket: WebSocket, data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        if (updateAttachment) arrivals.arrived();
        else if (attachmentsToSkip > 0 && --attachmentsToSkip === 0) resolve(); // the join ack's state
        updateAttachment = false;
        return;
      }
      const text = data.toString();
      if (text === '2') socket.send('3'); // engine.io ping
      else if (text.startsWith('0')) socket.send(`40/collab,${JSON.stringify({ token })}`);
      else if (text.startsWith('40/collab,')) socket.send(`42/collab,1${JSON.stringify(['join', { event_id: eventId }])}`);
      else if (text.startsWith('44/collab,')) reject(new Error(text));
      else if (/^46\d+-\/collab,1\[/.test(text)) attachmentsToSkip = Number(/^46(\d+)-/.exec(text)![1]);
      else if (text.startsWith('43/collab,1')) reject(new Error(`join failed: ${text}`));
      else if (/^45\d+-\/collab,\["update"/.test(text)) updateAttachment = true;
    };
    opened = openSocket(`${serverUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, onMessage);
    opened.catch(reject);
  });
  return opened;
}

/**
 * A viewer speaking Hocuspocus's wire protocol directly: authenticate, sync step 1, then note
 * every sync `update` message.
 */
async function hocuspocusViewer(serverUrl: string, name: string, arrivals: Arrivals): Promise<WebSocket> {
  const message = (socket: WebSocket, type: number, write: (encoder: encoding.Encoder) => void) => {
    const encoder = encoding.createEncoder();
    encoding.writeVarString(encoder, name);
    encoding.writeVarUint(encoder, type);
    write(encoder);
    socket.send(encoding.toUint8Array(encoder));
  };
  let opened!: Promise<WebSocket>;
  await new Promise<void>((resolve, reject) => {
    const onMessage = (socket: WebSocket, data: Buffer) => {
      const decoder = decoding.createDecoder(new Uint8Array(data));
      decoding.readVarString(decoder);
      const type = decoding.readVarUint(decoder);
      if (type === HOCUSPOCUS_AUTH) {
        message(socket, HOCUSPOCUS_SYNC, (encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc()));
      } else if (type === HOCUSPOCUS_SYNC) {
        const syncType = decoding.readVarUint(decoder);
        if (syncType === syncProtocol.messageYjsSyncStep2) resolve();
        else if (syncType === syncProtocol.messageYjsUpdate) arrivals.arrived();
      }
    };
    opened = openSocket(serverUrl, onMessage);
    // Authenticate with an empty token: Hocuspocus without an onAuthenticate hook accepts it.
    opened.then(
      (socket) =>
        message(socket, HOCUSPOCUS_AUTH, (encoder) => {
          encoding.writeVarUint(encoder, 0);
          encoding.writeVarString(encoder, '');
        }),
      reject,
    );
  });
  return opened;
}

const HOCUSPOCUS_SYNC = 0;
const HOCUSPOCUS_AUTH = 2;

class Ours implements Target {
  readonly storesUpdates = true;
  private editorToken!: string;
  private viewerToken!: string;
  private eventIds: number[] = [];

  /** `root` is the checkout whose build runs: this one, or BENCH_BASELINE. */
  constructor(
    private readonly serverUrl: string,
    readonly name = 'ours',
    private readonly root = ROOT,
  ) {}

  start(): Promise<ServerProcess> {
    return startOurServer(this.serverUrl, this.root);
  }

  async prepare(server: ServerProcess, rooms: number): Promise<void> {
    const { post: api, login } = ourApi(server.url);
    const editor = await login('editor');
    const viewer = await login('viewer');
    this.editorToken = editor.token;
    this.viewerToken = viewer.token;
    this.eventIds = [];
    for (let n = 0; n < rooms; n += 1) {
      const event = await api('/events', { title: `Room ${n}`, description: '', start_time: '2026-06-01T09:00:00Z', end_time: '2026-06-01T10:00:00Z' }, editor.token);
      await api(`/events/${event.id}/share`, { user_id: viewer.id, role: 'viewer' }, editor.token);
      this.eventIds.push(event.id);
    }
  }

  async openRoom(server: ServerProcess, index: number, viewers: number, record: Recorder): Promise<Room> {
    const eventId = this.eventIds[index];
    const keystrokes = new Keystrokes();
    const { sentAt } = keystrokes;
    const ackLatencies: number[] = [];
    const socket: Socket = io(`${server.url}/collab`, { auth: { token: this.editorToken }, transports: ['websocket'], forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
    const doc = new Y.Doc();
    const joined: any = await socket.emitWithAck('join', { event_id: eventId });
    Y.applyUpdate(doc, new Uint8Array(joined.state));
    const text = doc.getMap('event').get('description') as Y.Text;
    const arrivals = Array.from({ length: viewers }, () => new Arrivals(keystrokes, record));
    const joinLatencies: number[] = [];
    const sockets = await Promise.all(arrivals.map((viewer) => timed(() => socketIoViewer(server.url, this.viewerToken, eventId, viewer), joinLatencies)));
    let pending: Uint8Array | null = null;
    doc.on('update', (update: Uint8Array) => (pending = update));
    return {
      sentAt,
      ackLatencies,
      joinLatencies,
      type() {
        const sent = performance.now();
        sentAt.push(sent);
        text.insert(text.length, 'x');
        socket.emit('update', { event_id: eventId, update: pending! }, () => ackLatencies.push(performance.now() - sent));
      },
      viewersAt: (length) => arrivals.every((viewer) => viewer.seen >= length),
      close() {
        socket.close();
        for (const viewer of sockets) viewer.close();
      },
    };
  }
}

class Hocuspocus implements Target {
  /** `storeUrl`: a PostgreSQL server in whose database of its own it stores every update. */
  constructor(
    readonly name = 'hocuspocus',
    private readonly storeUrl?: string,
  ) {}

  get storesUpdates(): boolean {
    return this.storeUrl !== undefined;
  }

  async start(): Promise<ServerProcess> {
    return spawnServer('dist/bench/hocuspocus-server.js', this.storeUrl ? { HOCUSPOCUS_STORE_URL: await createDatabase(this.storeUrl) } : {});
  }

  async openRoom(server: ServerProcess, index: number, viewers: number, record: Recorder): Promise<Room> {
    const name = `room-${index}`;
    const keystrokes = new Keystrokes();
    const { sentAt } = keystrokes;
    const doc = new Y.Doc();
    const websocketProvider = new HocuspocusProviderWebsocket({ url: server.url, WebSocketPolyfill: WebSocket });
    const provider = new HocuspocusProvider({ websocketProvider, name, document: doc });
    provider.attach();
    await new Promise<void>((resolve) => provider.on('synced', () => resolve()));
    const text = doc.getText('description');
    const arrivals = Array.from({ length: viewers }, () => new Arrivals(keystrokes, record));
    const joinLatencies: number[] = [];
    const sockets = await Promise.all(arrivals.map((viewer) => timed(() => hocuspocusViewer(server.url, name, viewer), joinLatencies)));
    return {
      sentAt,
      ackLatencies: [],
      joinLatencies,
      type() {
        sentAt.push(performance.now());
        text.insert(text.length, 'x');
      },
      viewersAt: (length) => arrivals.every((viewer) => viewer.seen >= length),
      close() {
        provider.destroy();
        websocketProvider.destroy();
        for (const viewer of sockets) viewer.close();
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Result {
  p50: number;
  p99: number;
  /** Latency to the first viewer of the room that has a keystroke: the server's part of the fan-out. */
  firstViewerP50: number;
  ackP50?: number;
  ackP99?: number;
  updatesPerSecond: number;
  /** Server CPU time per update received, through the steady-typing phase. */
  cpuPerUpdateUs: number;
  /**
   * The client process's CPU time per delivery in that phase (editors' work included): what each
   * server's wire format costs its readers, who share the 2 cores with it.
   */
  clientCpuPerDeliveryUs: number;
  /** The database's CPU time per update (all of PostgreSQL's processes), for servers that store them. */
  databaseCpuPerUpdateUs?: number;
  /** A viewer's connect-and-join time, all of a room's viewers joining at once. */
  joinP50: number;
  joinP99: number;
  /** Server CPU time per client (editor or viewer) connected and joined. */
  cpuPerJoinUs: number;
  rssMiB: number;
  rssPerRoomMiB: number;
}

async function measure(target: Target, scenario: Scenario, databaseCpuMs?: () => number): Promise<Result> {
  const server = await target.start();
  try {
    await target.prepare?.(server, scenario.rooms);
    await settle();
    const baseline = server.rssMiB();
    const latencies: number[] = [];
    const arrivals: number[] = [];
    const firstViewerLatencies: number[] = [];
    let recording = false;
    const record: Recorder = (latency, firstViewer) => {
      if (!recording) return;
      latencies.push(latency);
      arrivals.push(performance.timeOrigin + performance.now());
      if (firstViewer) firstViewerLatencies.push(latency);
    };
    const rooms: Room[] = [];
    const cpuBeforeJoins = server.cpuMs();
    for (let n = 0; n < scenario.rooms; n += 1) rooms.push(await target.openRoom(server, n, scenario.viewersPerRoom, record));
    const cpuPerJoinUs = ((server.cpuMs() - cpuBeforeJoins) * 1000) / (scenario.rooms * (scenario.viewersPerRoom + 1));
    const joinLatencies = rooms.flatMap((room) => room.joinLatencies);
    progress(`${target.name}: ${scenario.rooms * (scenario.viewersPerRoom + 1)} clients in`);

    // Warm up, then type at a steady rate in every room, offsets spread across the interval.
    await typeSteadily(rooms, scenario.rate, WARMUP_SECONDS);
    await waitFor(() => rooms.every((room) => room.viewersAt(room.sentAt.length)));
    for (const room of rooms) room.ackLatencies.length = 0;
    recording = true;
    const cpuBefore = server.cpuMs();
    const clientCpuBefore = process.cpuUsage();
    const databaseCpuBefore = target.storesUpdates ? databaseCpuMs?.() : undefined;
    await typeSteadily(rooms, scenario.rate, LATENCY_SECONDS);
    await waitFor(() => rooms.every((room) => room.viewersAt(room.sentAt.length)));
    const updates = Math.round(scenario.rate * LATENCY_SECONDS) * rooms.length;
    const cpuPerUpdateUs = ((server.cpuMs() - cpuBefore) * 1000) / updates;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const clientCpuPerDeliveryUs = (clientCpu.user + clientCpu.system) / latencies.length;
    const databaseCpuPerUpdateUs = databaseCpuBefore === undefined ? undefined : ((databaseCpuMs!() - databaseCpuBefore) * 1000) / updates;
    recording = false;
    const ackLatencies = rooms.flatMap((room) => room.ackLatencies);
    const rssMiB = server.rssMiB();
    progress(`${target.name}: latency phase done (${latencies.length} deliveries)`);
    if (server.pauses) progress(`${target.name}: ${explainP99(latencies, arrivals, server.pauses())}`);

    // Burst: every editor types `burst` keystrokes back to back; time until every viewer has all.
    const started = performance.now();
    for (let n = 0; n < scenario.burst; n += 1) for (const room of rooms) room.type();
    await waitFor(() => rooms.every((room) => room.viewersAt(room.sentAt.length)), 120_000);
    const elapsed = (performance.now() - started) / 1000;
    progress(`${target.name}: burst of ${scenario.burst * scenario.rooms} updates done in ${elapsed.toFixed(2)} s`);

    for (const room of rooms) room.close();
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      firstViewerP50: percentile(firstViewerLatencies, 50),
      ...(ackLatencies.length ? { ackP50: percentile(ackLatencies, 50), ackP99: percentile(ackLatencies, 99) } : {}),
      updatesPerSecond: (scenario.burst * scenario.rooms) / elapsed,
      cpuPerUpdateUs,
      clientCpuPerDeliveryUs,
      ...(databaseCpuPerUpdateUs === undefined ? {} : { databaseCpuPerUpdateUs }),
      joinP50: percentile(joinLatencies, 50),
      joinP99: percentile(joinLatencies, 99),
      cpuPerJoinUs,
      rssMiB,
      rssPerRoomMiB: (rssMiB - baseline) / scenario.rooms,
    };
  } finally {
    await server.stop();
  }
}

async function typeSteadily(rooms: Room[], ratePerRoom: number, seconds: number): Promise<void> {
  const interval = 1000 / ratePerRoom;
  const total = Math.round(ratePerRoom * seconds);
  await Promise.all(
    rooms.map(async (room, index) => {
      await sleep((interval * index) / rooms.length);
      const start = performance.now();
      for (let n = 0; n < total; n += 1) {
        room.type();
        await sleep(start + (n + 1) * interval - performance.now());
      }
    }),
  );
}

/** Each figure's median over the rounds. */
function medians(results: Result[]): Result {
  const median = (pick: (result: Result) => number | undefined) => percentile(results.map(pick).filter((value): value is number => value !== undefined), 50);
  return {
    p50: median((result) => result.p50),
    p99: median((result) => result.p99),
    firstViewerP50: median((result) => result.firstViewerP50),
    ...(results[0].ackP50 === undefined ? {} : { ackP50: median((result) => result.ackP50), ackP99: median((result) => result.ackP99) }),
    updatesPerSecond: median((result) => result.updatesPerSecond),
    cpuPerUpdateUs: median((result) => result.cpuPerUpdateUs),
    clientCpuPerDeliveryUs: median((result) => result.clientCpuPerDeliveryUs),
    ...(results[0].databaseCpuPerUpdateUs === undefined ? {} : { databaseCpuPerUpdateUs: median((result) => result.databaseCpuPerUpdateUs) }),
    joinP50: median((result) => result.joinP50),
    joinP99: median((result) => result.joinP99),
    cpuPerJoinUs: median((result) => result.cpuPerJoinUs),
    rssMiB: median((result) => result.rssMiB),
    rssPerRoomMiB: median((result) => result.rssPerRoomMiB),
  };
}

/**
 * How many of the deliveries at or above the p99 waited through a GC pause of the server, or
 * through another stall of its event loop (a long task, or the process not scheduled); the rest
 * were late elsewhere (the reading client, the network stack).
 */
function explainP99(latencies: number[], arrivals: number[], pauses: Pause[]): string {
  const p99 = percentile(latencies, 99);
  const late = latencies.flatMap((ms, index) => (ms >= p99 ? [{ sent: arrivals[index] - ms, arrived: arrivals[index] }] : []));
  // Arrivals are recorded in order; the phase begins with the earliest keystroke among them.
  const phaseStart = latencies.reduce((earliest, ms, index) => Math.min(earliest, arrivals[index] - ms), Infinity);
  const phaseEnd = arrivals[arrivals.length - 1];
  const inPhase = pauses.filter((pause) => pause.at + pause.ms >= phaseStart && pause.at <= phaseEnd);
  const waitedThrough = (delivery: (typeof late)[number], kinds: Pause['kind'][]) =>
    inPhase.some((pause) => kinds.includes(pause.kind) && pause.at <= delivery.arrived && pause.at + pause.ms >= delivery.sent);
  const inGc = late.filter((delivery) => waitedThrough(delivery, ['minor', 'major'])).length;
  const inStall = late.filter((delivery) => !waitedThrough(delivery, ['minor', 'major']) && waitedThrough(delivery, ['stall'])).length;
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const summary = (kind: Pause['kind'], what: string) => {
    const found = inPhase.filter((pause) => pause.kind === kind);
    const ms = found.map((pause) => pause.ms);
    const busy = kind === 'stall' && sum(ms) ? `; process CPU meanwhile ${((100 * sum(found.map((pause) => pause.cpuMs ?? 0))) / sum(ms)).toFixed(0)} % of their length` : '';
    return `${found.length} ${what} (longest ${Math.max(0, ...ms).toFixed(1)} ms, ${sum(ms).toFixed(0)} ms in all${busy})`;
  };
  return (
    `p99 ${p99.toFixed(2)} ms; of the ${late.length} deliveries at or above it, ${inGc} waited through a GC pause, ` +
    `${inStall} through another event-loop stall, ${late.length - inGc - inStall} through neither. In the phase: ` +
    `${summary('minor', 'young-generation GCs')}, ${summary('major', 'full-GC pauses')}, ${summary('stall', 'stalls over 2 ms, GCs included')}`
  );
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out waiting for deliveries');
    await sleep(2);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const settle = () => sleep(500);
const progress = (message: string) => console.error(`  ${new Date().toISOString().slice(11, 19)} ${message}`);

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const wanted = process.env.BENCH_SCENARIOS?.split(',');
  const scenarios = SCENARIOS.filter((scenario) => !wanted || wanted.includes(scenario.name));
  const database = await startDatabase();
  const ours = new Ours(database.url);
  // Each server ours is compared with: its column's label, and what the table's ratios are.
  const others: { target: Target; label: string; heading: string; rows: string[] }[] = [
    {
      target: new Hocuspocus(),
      label: 'Hocuspocus 3.4.4',
      heading: `Node ${process.version}, ${LATENCY_SECONDS} s of steady typing per scenario, medians of ${ROUNDS} rounds; ratio = ours / Hocuspocus`,
      rows: [],
    },
    ...(BASELINE_ROOT ? [{ target: new Ours(database.url, 'baseline', BASELINE_ROOT), label: 'baseline', heading: `The same against the baseline, ${BASELINE_ROOT}; ratio = ours / baseline`, rows: [] }] : []),
    ...(STORING_HOCUSPOCUS
      ? [{ target: new Hocuspocus('hocuspocus+pg', database.url), label: 'Hocuspocus storing every update', heading: 'The same against Hocuspocus storing every update; ratio = ours / hocuspocus+pg', rows: [] }]
      : []),
  ];
  const targets: Target[] = [others[0].target, ours, ...others.slice(1).map((other) => other.target)];
  try {
    for (const scenario of scenarios) {
      console.error(`scenario ${scenario.name}: ${scenario.rooms} room(s) x (1 editor + ${scenario.viewersPerRoom} viewers)`);
      const runs: Result[][] = [];
      for (let round = 1; round <= ROUNDS; round += 1) {
        progress(`round ${round} of ${ROUNDS}`);
        const results: Result[] = [];
        for (const target of targets) results.push(await measure(target, scenario, database.cpuMs));
        runs.push(results);
      }
      const byRound = (target: Target) => runs.map((results) => results[targets.indexOf(target)]);
      for (const other of others) other.rows.push(...compare(scenario.name, byRound(ours), byRound(other.target)));
    }
  } finally {
    await database.stop();
  }
  for (const other of others) {
    console.log(`\n${other.heading}\n`);
    printTable(other.label, other.rows);
  }
}

/**
 * Table rows comparing our figures with another server's: the ratio of the medians, and the range
 * of the ratios round by round (the servers ran back to back in each), to show what is noise.
 */
function compare(scenario: string, oursByRound: Result[], otherByRound: Result[]): string[] {
  const [ours, other] = [medians(oursByRound), medians(otherByRound)];
  const row = (metric: string, pick: (result: Result) => number, digits = 2, lowerIsBetter = true) => {
    const ratios = oursByRound.map((result, round) => pick(result) / pick(otherByRound[round]));
    const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    return `| ${scenario} | ${metric} | ${pick(ours).toFixed(digits)} | ${pick(other).toFixed(digits)} | ${(pick(ours) / pick(other)).toFixed(2)}${lowerIsBetter ? '' : ' (higher is better)'} | ${range} |`;
  };
  const oursOnly = (metric: string, figure: string) => `| ${scenario} | ${metric}, ours only | ${figure} | - | - | - |`;
  return [
    row('fan-out p50 (ms)', (result) => result.p50),
    row('fan-out p99 (ms)', (result) => result.p99),
    row('fan-out p50 to the first viewer (ms)', (result) => result.firstViewerP50),
    row('updates/s (burst)', (result) => result.updatesPerSecond, 0, false),
    row('server CPU per update (µs)', (result) => result.cpuPerUpdateUs, 0),
    ...(ours.databaseCpuPerUpdateUs === undefined
      ? []
      : other.databaseCpuPerUpdateUs === undefined
        ? [oursOnly('database CPU per update (µs)', ours.databaseCpuPerUpdateUs.toFixed(0))]
        : [row('database CPU per update (µs)', (result) => result.databaseCpuPerUpdateUs!, 0)]),
    row('client process CPU per delivery (µs)', (result) => result.clientCpuPerDeliveryUs, 1),
    row("viewer connect + join p50 (ms), the room's viewers at once", (result) => result.joinP50),
    row("viewer connect + join p99 (ms), the room's viewers at once", (result) => result.joinP99),
    row('server CPU per client joined (µs)', (result) => result.cpuPerJoinUs, 0),
    row('server RSS (MiB)', (result) => result.rssMiB, 1),
    row('RSS per room (MiB)', (result) => result.rssPerRoomMiB, 2),
    other.ackP50 === undefined
      ? oursOnly('durable ack p50 / p99 (ms)', `${ours.ackP50?.toFixed(2)} / ${ours.ackP99?.toFixed(2)}`)
      : row('durable ack p50 (ms)', (result) => result.ackP50!),
  ];
}

function printTable(other: string, rows: string[]): void {
  console.log(`| scenario | metric | ours | ${other} | ratio | ratio by round |`);
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
