/**
 * What a join storm costs below our code: server CPU per client for N clients connecting at once
 * to a bare Socket.IO server (same version as ours: a namespace, a middleware and a `join` that
 * answers at once with a small binary state, as ours answers) and to a bare `ws` server answering
 * one message, each in a process of its own. No database, no checks: the floor under
 * `bench/realtime.ts`'s "server CPU per client joined", which Socket.IO's handshake sets.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/join-floor.js       (BENCH_CLIENTS, default 500)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import WebSocket, { WebSocketServer } from 'ws';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 500);
const ROUNDS = 3;
type Kind = 'socket.io' | 'ws';

/** The server side: listens, prints its port, and answers "cpu" with its CPU time in ms. */
function serve(kind: Kind): void {
  const http = createServer();
  if (kind === 'socket.io') {
    const nsp = new Server(http, { serveClient: false, transports: ['websocket'] }).of('/collab');
    nsp.use((_socket, next) => setImmediate(next));
    nsp.on('connection', (socket) => {
      socket.on('join', async (_payload: unknown, ack: (result: unknown) => void) => {
        await socket.join('event:1');
        ack({ role: 'viewer', version: 1, state: Buffer.alloc(200, 1), state_vector: Buffer.alloc(10, 1) });
      });
    });
  } else {
    new WebSocketServer({ server: http }).on('connection', (ws) => ws.on('message', () => ws.send(Buffer.alloc(210, 1))));
  }
  http.listen(0, '127.0.0.1', () => process.send!({ port: (http.address() as AddressInfo).port }));
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send!({ cpuMs: (user + system) / 1000 });
  });
}

function next<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once('message', (message) => resolve(message as T)));
}

async function measure(kind: Kind): Promise<number[]> {
  const child = fork(__filename, [kind]);
  const { port } = await next<{ port: number }>(child);
  const cpuMs = async () => {
    const answer = next<{ cpuMs: number }>(child);
    child.send('cpu');
    return (await answer).cpuMs;
  };
  const connectOne = (): Promise<{ close(): void }> =>
    kind === 'socket.io'
      ? new Promise((resolve, reject) => {
          const socket: Socket = io(`http://127.0.0.1:${port}/collab`, { auth: { token: 'x'.repeat(200) }, transports: ['websocket'], forceNew: true, reconnection: false });
          socket.once('connect', async () => {
            await socket.emitWithAck('join', { event_id: 1 });
            resolve({ close: () => socket.close() });
          });
          socket.once('connect_error', reject);
        })
      : new Promise((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
          ws.once('open', () => {
            ws.send('x'.repeat(200));
            ws.once('message', () => resolve({ close: () => ws.close() }));
          });
        });
  const perClientUs: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const before = await cpuMs();
    const clients = await Promise.all(Array.from({ length: CLIENTS }, connectOne));
    perClientUs.push(((await cpuMs()) - before) * 1000 / CLIENTS);
    for (const client of clients) client.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill();
  return perClientUs;
}

async function main(): Promise<void> {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const [socketIo, ws] = [await measure('socket.io'), await measure('ws')];
  console.log(`${CLIENTS} clients at once, ${ROUNDS} rounds; server CPU per client (µs), median (rounds)`);
  console.log(`socket.io: ${median(socketIo).toFixed(0)} (${socketIo.map((us) => us.toFixed(0)).join(', ')})`);
  console.log(`ws:        ${median(ws).toFixed(0)} (${ws.map((us) => us.toFixed(0)).join(', ')})`);
  console.log(`ratio socket.io / ws: ${(median(socketIo) / median(ws)).toFixed(2)}`);
}

const kind = process.argv[2] as Kind | undefined;
if (kind) serve(kind);
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
