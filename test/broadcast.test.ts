import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { Encoder, PacketType } from 'socket.io-parser';
import { encodeUpdate, EventWriter } from '../src/collab/broadcast';

/** The fan-out writes its own header for `update` events: it must be what Socket.IO would send. */
describe('encodeUpdate', () => {
  it('encodes the packets as Socket.IO does, framed for WebSocket with every length class', () => {
    // WebSocket frame lengths take 7 bits up to 125 bytes, 16 bits up to 64 KiB, 64 bits beyond.
    for (const size of [1, 125, 126, 65_535, 65_536]) {
      const update = new Uint8Array(size).fill(7);
      const encoded = encodeUpdate('/collab', 42, update);
      const expected = new Encoder().encode({ type: PacketType.EVENT, nsp: '/collab', data: ['update', { event_id: 42, update: Buffer.from(update) }] });
      expect(encoded.packets).toEqual(expected);

      const [frames] = encoded.frames;
      const text = Buffer.from(`4${expected[0]}`);
      expect(frames.subarray(0, 2)).toEqual(Buffer.from([0x81, text.length]));
      expect(frames.subarray(2, 2 + text.length)).toEqual(text);
      const binary = frames.subarray(2 + text.length);
      expect(binary[0]).toBe(0x82);
      const headerLength = size < 126 ? 2 : size < 0x10000 ? 4 : 10;
      const length = size < 126 ? binary[1] : size < 0x10000 ? binary.readUInt16BE(2) : Number(binary.readBigUInt64BE(2));
      expect(length).toBe(size);
      expect(binary.subarray(headerLength)).toEqual(Buffer.from(update));
    }
  });
});

/** The writer bypasses engine.io when it can: what a client receives must keep the order it was sent in. */
describe('EventWriter', () => {
  let io: Server;
  let url: string;
  const writer = new EventWriter();

  beforeAll(async () => {
    const httpServer = createServer();
    io = new Server(httpServer);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  });
  afterAll(() => io.close());

  /** Connects a client, lets `serve` write to it once it is ready, and returns what it received, in order. */
  async function received(transports: string[], count: number, serve: (socket: ServerSocket) => void): Promise<unknown[]> {
    io.once('connection', (socket) => socket.once('ready', () => serve(socket)));
    const client = ioClient(url, { transports, forceNew: true });
    // With polling first, ready once upgraded: then the WebSocket is the transport.
    if (transports.length > 1) client.io.on('open', () => client.io.engine.once('upgrade', () => client.emit('ready')));
    else client.on('connect', () => client.emit('ready'));
    const events: unknown[] = [];
    await new Promise<void>((resolve) => {
      client.on('update', ({ update }: { update: Buffer }) => events.push(update[0]) === count && resolve());
      client.on('note', (note: string) => events.push(note) === count && resolve());
    });
    client.close();
    return events;
  }

  const update = (n: number) => encodeUpdate('/', 1, new Uint8Array([n]));

  it('writes at once, holds back the rest of a turn, and keeps the order of every event', async () => {
    let corkedAfterFirst = -1;
    let corkedAfterSecond = -1;
    const events = await received(['websocket'], 5, (socket) => {
      const tcp = (socket.conn as unknown as { transport: { socket: { _socket: Socket } } }).transport.socket._socket;
      writer.send(socket, update(1));
      corkedAfterFirst = tcp.writableCorked;
      writer.send(socket, update(2));
      corkedAfterSecond = tcp.writableCorked;
      socket.emit('note', 'a');
      // engine.io's write is in flight now: these queue behind it.
      writer.send(socket, update(3));
      socket.emit('note', 'b');
    });
    expect(corkedAfterFirst).toBe(0);
    expect(corkedAfterSecond).toBe(1);
    expect(events).toEqual([1, 2, 'a', 3, 'b']);
  });

  it('sends through engine.io on HTTP long-polling, and after an upgrade', async () => {
    const serve = (socket: ServerSocket) => {
      writer.send(socket, update(1));
      socket.emit('note', 'a');
      writer.send(socket, update(2));
    };
    expect(await received(['polling'], 3, serve)).toEqual([1, 'a', 2]);
    expect(await received(['polling', 'websocket'], 3, serve)).toEqual([1, 'a', 2]);
  });
});
