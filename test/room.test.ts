import * as Y from 'yjs';
import { Room } from '../src/collab/room';
import { captureUpdate, createDocument, loadDocument, readText } from '../src/documents/mapping';
import { sampleSnapshot } from './support/fixtures';

/**
 * What a room relays to the others, and when: a keystroke that cannot break a rule goes out
 * before the room integrates it; anything else goes out once checked, with its repair.
 */
describe('Room.applyClientUpdate', () => {
  const rooms: Room[] = [];
  afterEach(() => rooms.splice(0).forEach((room) => room.destroy()));

  /** A room holding a sample event, a client's copy of it, and what the room relays. */
  const open = () => {
    const state = Y.encodeStateAsUpdate(createDocument(sampleSnapshot()));
    const room = new Room(1, { state, updates: [] }, { quietMs: 60_000, maxDelayMs: 60_000 }, () => undefined);
    rooms.push(room);
    const client = loadDocument(state);
    const relayed: { update: Uint8Array; roomTitle: string }[] = [];
    const apply = (change: (map: Y.Map<any>) => void) => {
      const update = captureUpdate(client, () => client.transact(() => change(client.getMap('event'))))!;
      const outcome = room.applyClientUpdate(update, (accepted) => relayed.push({ update: accepted, roomTitle: roomTitle() }));
      return { update, ...outcome };
    };
    const roomTitle = () => readText(loadDocument(room.encodeState()), 'title');
    return { apply, relayed, roomTitle };
  };

  it('relays a keystroke that keeps the rules before integrating it', () => {
    const { apply, relayed, roomTitle } = open();
    const { update, accepted, repair, problem } = apply((map) => map.get('title').insert(8, '!'));
    expect({ repair, problem }).toEqual({ repair: null, problem: null });
    expect(accepted).toBe(update);
    expect(relayed).toEqual([{ update, roomTitle: 'Planning' }]);
    expect(roomTitle()).toBe('Planning!');
  });

  it('relays a keystroke that breaks a rule once checked, merged with its repair', () => {
    const { apply, relayed, roomTitle } = open();
    const { accepted, repair, problem } = apply((map) => map.get('title').delete(0, 8));
    expect(problem).toMatchObject({ code: 'validation_error' });
    expect(repair).not.toBeNull();
    expect(relayed).toEqual([{ update: accepted, roomTitle: 'Planning' }]);
    expect(roomTitle()).toBe('Planning');
  });

  it('relays a change that is not typing once tried on a copy', () => {
    const { apply, relayed } = open();
    const { update } = apply((map) => map.set('end_time', '2026-06-01T11:00:00.000Z'));
    expect(relayed).toHaveLength(1);
    expect(relayed[0].update).toBe(update);
  });
});
