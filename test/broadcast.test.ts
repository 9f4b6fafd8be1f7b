import { Encoder, PacketType } from 'socket.io-parser';
import { encodeUpdate } from '../src/collab/broadcast';

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
