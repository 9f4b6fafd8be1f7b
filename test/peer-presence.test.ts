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

  it("takes an answer as all that a process holds in the events asked about, but a relay heard since stands", () => {
    const peers = new PeerPresence();
    peers.note('other', presence(1, 'stays'));
    peers.note('other', presence(1, 'left-unheard'));
    peers.note('other', presence(1, 'moved-since'));
    peers.note('other', presence(1, 'left-since'));
    peers.note('other', presence(2, 'not-asked-about'));
    peers.note('third', presence(1, 'elsewhere'));
    const asked = peers.notedIn([1]);
    // Relays that overtake the answer: newer than it.
    peers.note('other', presence(1, 'moved-since', { field: 'location' }));
    peers.note('other', presence(1, 'left-since', null));
    peers.note('other', presence(1, 'came-since'));

    const answer = [presence(1, 'stays', { field: 'description' }), presence(1, 'moved-since'), presence(1, 'left-since'), presence(1, 'new')];
    expect(peers.answered('other', asked, answer)).toEqual({
      held: [presence(1, 'stays', { field: 'description' }), presence(1, 'new')],
      left: [presence(1, 'left-unheard', null)],
    });
    expect(peers.notedIn([1]).get('1:moved-since')).toEqual(presence(1, 'moved-since', { field: 'location' }));
    expect(peers.withdraw(['other']).map((withdrawn) => withdrawn.connection)).toEqual(['stays', 'moved-since', 'not-asked-about', 'came-since', 'new']);
    expect(peers.processIds()).toEqual(['third']);
  });

  it('keeps no entry for a process whose answer holds nothing', () => {
    const peers = new PeerPresence();
    expect(peers.answered('empty', peers.notedIn([1]), [])).toEqual({ held: [], left: [] });
    expect(peers.processIds()).toEqual([]);
  });
});
