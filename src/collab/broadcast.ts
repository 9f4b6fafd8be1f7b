import type { Socket as NetSocket } from 'node:net';
import { PacketType } from 'socket.io-parser';
import type { Socket } from 'socket.io';

/**
 * The parts of engine.io's connection and of its `ws` WebSocket this module relies on, left out
 * of their public types. Socket.IO's own adapter passes `wsPreEncodedFrame`, which engine.io
 * writes with the WebSocket's `_sender.sendFrame`, as this module does directly.
 */
interface EngineConnection {
  readyState: string;
  /** Packets engine.io has queued while a write of its own is in flight. */
  writeBuffer: unknown[];
  transport: {
    name: string;
    supportsBinary: boolean;
    /** False while engine.io waits for a write to complete; it queues what comes meanwhile. */
    writable: boolean;
    /** The `ws` WebSocket, for the websocket transport, and its TCP socket. */
    socket?: { readyState: number; _sender: { sendFrame(frames: Buffer[]): void }; _socket: NetSocket };
  };
  write(data: string | Buffer, options: { wsPreEncodedFrame?: Buffer[] }): void;
}

/** One server event encoded once, ready to write to any number of sockets. */
export interface EncodedEvent {
  /** Socket.IO's packets for the event: a text header, then one per binary attachment. */
  packets: (string | Buffer)[];
  /** All of them as WebSocket frames in one buffer, for one write per recipient. */
  frames: Buffer[];
}

/**
 * Encodes the `update` event once for many recipients. Socket.IO's broadcast does this only for
 * events without binary: an event carrying a Yjs update is encoded again for every recipient, as
 * two frames, and the second waits for the first's write to complete. Here every frame is built
 * once and each WebSocket recipient gets them in a single write, exactly the bytes Socket.IO would
 * have sent. The header is written out rather than run through Socket.IO's encoder (a search for
 * binary, a copy of the payload, JSON): it differs between updates only in the event id, and
 * this is the one message every keystroke sends to every viewer. Like Socket.IO's own
 * precomputed frames, this needs perMessageDeflate off (its default).
 */
export function encodeUpdate(namespace: string, eventId: number, update: Uint8Array): EncodedEvent {
  // A binary event with one attachment, as socket.io-parser writes it: `51-<namespace>,<JSON>`.
  const header = `${PacketType.BINARY_EVENT}1-${namespace},["update",{"event_id":${eventId},"update":{"_placeholder":true,"num":0}}]`;
  const attachment = Buffer.from(update.buffer, update.byteOffset, update.byteLength);
  // The text packet is an engine.io "message" (type 4); the attachment goes out as it is.
  const text = Buffer.from(`4${header}`);
  return {
    packets: [header, attachment],
    frames: [Buffer.concat([frameHeader(TEXT, text.length), text, frameHeader(BINARY, attachment.length), attachment])],
  };
}

/**
 * Writes encoded events to sockets. A socket's first event in a turn of the event loop is written
 * at once; more for it in the same turn (a burst of keystrokes read together) are held back and
 * go out together in one write as the turn ends, which saves the server and the reader a system
 * call each.
 */
export class EventWriter {
  /** TCP sockets written to in this turn, and those of them holding writes back. */
  private readonly written = new Set<NetSocket>();
  private readonly corked: NetSocket[] = [];
  private turnEnding = false;

  send(socket: Socket, encoded: EncodedEvent): void {
    const connection = socket.conn as unknown as EngineConnection;
    const { transport } = connection;
    if (transport.name !== 'websocket' || !transport.supportsBinary) {
      for (const packet of encoded.packets) connection.write(packet, {});
      return;
    }
    const ws = transport.socket;
    if (!(connection.readyState === 'open' && transport.writable && connection.writeBuffer.length === 0 && ws?.readyState === WS_OPEN)) {
      // engine.io has writes of its own waiting: queue behind them, as one engine.io packet
      // whose frame carries the header and the attachment.
      connection.write(encoded.packets[0], { wsPreEncodedFrame: encoded.frames });
      return;
    }
    // The frames go to the WebSocket directly, in order after everything before them: the same
    // write engine.io would make, without its per-packet events and write callback, which cost
    // as much as the write itself in a large room's fan-out.
    const tcp = ws._socket;
    if (this.written.has(tcp)) {
      if (!tcp.writableCorked) {
        tcp.cork();
        this.corked.push(tcp);
      }
    } else {
      this.written.add(tcp);
    }
    if (!this.turnEnding) {
      this.turnEnding = true;
      setImmediate(() => this.endTurn());
    }
    ws._sender.sendFrame(encoded.frames);
  }

  private endTurn(): void {
    for (const tcp of this.corked) tcp.uncork();
    this.corked.length = 0;
    this.written.clear();
    this.turnEnding = false;
  }
}

const WS_OPEN = 1;
const TEXT = 0x1;
const BINARY = 0x2;

/** The header of a final, unmasked WebSocket frame, as servers send them (RFC 6455, section 5.2). */
function frameHeader(opcode: typeof TEXT | typeof BINARY, length: number): Buffer {
  const header = Buffer.alloc(length < 126 ? 2 : length < 0x10000 ? 4 : 10);
  header[0] = 0x80 | opcode;
  if (length < 126) {
    header[1] = length;
  } else if (length < 0x10000) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return header;
}
