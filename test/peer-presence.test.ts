import { PeerPresence } from '../src/collab/peer-presence';
import type { Presence } from '../src/collab/protocol';

const presence = (eventId: number, connection: string, state: Presence['state'] = { field: 'title' }): Presence => ({
  event_id: eventId,
  user: { id: 1, username: 'ann' },
  connection,
  state,
});

describe('PeerPresence', () => {
  it('withdraws what gone processes relayed, each once, and keeps what the living ones did', () => {
    const peers = new PeerPresence();
    peers.note('alive', presence(1, 'a1'));
    peers.note('gone', presence(1, 'g1'));
    peers.note('gone', presence(2, 'g2'));
    peers.note('gone', presence(2, 'g2', { field: 'location' }));
    expect(peers.processIds()).toEqual(['alive', 'gone']);
    expect(peers.withdraw(['gone'])).toEqual([presence(1, 'g1', null), presence(2, 'g2', null)]);
    expect(peers.withdraw(['gone', 'never-seen'])).toEqual([]);
    expect(peers.processIds()).toEqual(['alive']);
    expect(peers.withdraw(['alive'])).toEqual([presence(1, 'a1', null)]);
  });

  it('forgets a connection that left, and an event whose room closed here', () => {
    const peers = new PeerPresence();
    peers.note('gone', presence(1, 'left'));
    peers.note('gone', presence(1, 'left', null));
    peers.note('gone', presence(2, 'closed'));
    peers.note('gone', presence(3, 'kept'));
    peers.forgetEvent(2);
    expect(peers.withdraw(['gone'])).toEqual([presence(3, 'kept', null)]);
  });
});
