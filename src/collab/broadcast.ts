import { PacketType } from 'socket.io-parser';
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
