/**
 * What a checkpoint costs our server: the CPU time to fold a room's live edits into a version, on
 * the write path every REST write takes too. All the rooms checkpoint at once, as rooms typed into
 * together reach their 10 s limit together. Runs this checkout's build and, with BENCH_BASELINE,
 * another checkout's build in the same run, alternating, and prints the ratio.
 *
 *   npm run bench:checkpoint
 *   BENCH_BASELINE=/path/to/other/checkout BENCH_ROOMS=100 BENCH_EDITS=50 BENCH_ROUNDS=5 npm run bench:checkpoint
 */
import { io } from 'socket.io-client';
import * as Y from 'yjs';
import { BASELINE_ROOT, ourApi, ROOT, startDatabase, startOurServer } from './servers';

const ROOMS = Number(process.env.BENCH_ROOMS ?? 100);
const EDITS = Number(process.env.BENCH_EDITS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Server CPU time per checkpoint (ms), for the build in `root`, on a fresh server and database. */
async function measure(databaseUrl: string, root: string): Promise<number> {
  // Versions only when asked: no pause or deadline may fold the edits first.
  const server = await startOurServer(databaseUrl, root, { COLLAB_QUIET_MS: '600000', COLLAB_MAX_DELAY_MS: '600000' });
  // Connected once the editor has logged in.
  const socket = io(`${server.url}/collab`, { transports: ['websocket'], forceNew: true, reconnection: false, autoConnect: false });
  try {
    const api = ourApi(server.url);
    const editor = await api.login('editor');
    socket.auth = { token: editor.token };
    socket.connect();
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
    const eventIds: number[] = [];
    for (let n = 0; n < ROOMS; n += 1) {
      const event = await api.post('/events', { title: `Room ${n}`, description: '', start_time: '2026-06-01T09:00:00Z', end_time: '2026-06-01T10:00:00Z' }, editor.token);
      eventIds.push(event.id);
    }
    const rooms = await Promise.all(
      eventIds.map(async (eventId) => {
        const joined = await socket.emitWithAck('join', { event_id: eventId });
        const doc = new Y.Doc();
        Y.applyUpdate(doc, new Uint8Array(joined.state));
        let update: Uint8Array | null = null;
        doc.on('update', (made: Uint8Array) => (update = made));
        const text = doc.getMap('event').get('description') as Y.Text;
        const type = () => {
          text.insert(text.length, 'x');
          return update!;
        };
        return { eventId, type };
      }),
    );
    /** Every room gets EDITS keystrokes, each acknowledged (stored) before the next; then all checkpoint at once. */
    const typeAndCheckpoint = async () => {
      await Promise.all(
        rooms.map(async (room) => {
          for (let n = 0; n < EDITS; n += 1) {
            const ack = await socket.emitWithAck('update', { event_id: room.eventId, update: room.type() });
            if (!ack.ok) throw new Error(`update refused: ${JSON.stringify(ack)}`);
          }
        }),
      );
      const before = server.cpuMs();
      const acks = await Promise.all(rooms.map((room) => socket.emitWithAck('checkpoint', { event_id: room.eventId })));
      if (acks.some((ack) => typeof ack.version !== 'number')) throw new Error(`a checkpoint made no version: ${JSON.stringify(acks)}`);
      // The versions' broadcasts follow the acks.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return server.cpuMs() - before;
    };
    // The first pass warms the server up (its code compiled, as in a server that has run a while).
    await typeAndCheckpoint();
    return (await typeAndCheckpoint()) / ROOMS;
  } finally {
    socket.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const database = await startDatabase();
  const builds = [{ name: 'ours', root: ROOT }, ...(BASELINE_ROOT ? [{ name: 'baseline', root: BASELINE_ROOT }] : [])];
  const figures = builds.map(() => [] as number[]);
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const [index, build] of builds.entries()) {
        figures[index].push(await measure(database.url, build.root));
        console.error(`  round ${round} of ${ROUNDS}, ${build.name}: ${figures[index].at(-1)!.toFixed(2)} ms per checkpoint`);
      }
    }
  } finally {
    await database.stop();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const [ours, baseline] = figures.map(median);
  console.log(`\n${ROOMS} rooms checkpointing at once, ${EDITS} live edits each; server CPU per checkpoint, median of ${ROUNDS} rounds`);
  console.log(`ours: ${ours.toFixed(2)} ms`);
  if (baseline !== undefined) console.log(`baseline (${BASELINE_ROOT}): ${baseline.toFixed(2)} ms; ratio ours / baseline ${(ours / baseline).toFixed(2)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
