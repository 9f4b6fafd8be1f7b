import { PacketType, type Encoder } from 'socket.io-parser';
import type { Socket } from 'socket.io';

/**
 * The parts of engine.io's connection this module relies on, left out of its public types.
 * Socket.IO's own adapter uses the same: `wsPreEncodedFrame` is written to the WebSocket as is.
 */
interface EngineConnection {
  transport: { name: string; supportsBinary: boolean };
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
 * Encodes a server event once for many recipients. Socket.IO's broadcast does this only for events
 * without binary: an event carrying a Yjs update is encoded again for every recipient, as two
 * frames, and the second waits for the first's write to complete. Here every frame is built once
 * and each WebSocket recipient gets them in a single write, exactly the bytes Socket.IO would have
 * sent. Like Socket.IO's own precomputed frames, this needs perMessageDeflate off (its default).
 */
export function encodeEvent(encoder: Encoder, namespace: string, event: string, payload: unknown): EncodedEvent {
  const packets: (string | Buffer)[] = encoder.encode({ type: PacketType.EVENT, nsp: namespace, data: [event, payload] });
  // A text packet is an engine.io "message" (type 4); binary attachments go out as they are.
  const frames = packets.map((packet) => (typeof packet === 'string' ? webSocketFrame(TEXT, Buffer.from(`4${packet}`)) : webSocketFrame(BINARY, packet)));
  return { packets, frames: [Buffer.concat(frames)] };
}

export function sendEncoded(socket: Socket, encoded: EncodedEvent): void {
  const connection = socket.conn as unknown as EngineConnection;
  const { transport } = connection;
  if (transport.name === 'websocket' && transport.supportsBinary) {
    // One engine.io packet whose frame carries the header and the attachments.
    connection.write(encoded.packets[0], { wsPreEncodedFrame: encoded.frames });
    return;
  }
  for (const packet of encoded.packets) connection.write(packet, {});
}

const TEXT = 0x1;
const BINARY = 0x2;

/** A final, unmasked WebSocket frame, as servers send them (RFC 6455, section 5.2). */
function webSocketFrame(opcode: typeof TEXT | typeof BINARY, payload: Buffer): Buffer {
  const length = payload.length;
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
  return Buffer.concat([header, payload]);
}
