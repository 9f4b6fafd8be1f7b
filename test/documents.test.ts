import * as Y from 'yjs';
import { captureUpdate, createDocument, keepsTextsValid, loadDocument, typedFields, type Typing } from '../src/documents/mapping';
import { sampleSnapshot } from './support/fixtures';

/**
 * Which updates the hub may apply straight to a room's document (typing) and which must be tried
 * on a copy first: a wrong "typing" here would let an update reach the document unchecked.
 */
describe('typedFields', () => {
  const server = createDocument(sampleSnapshot());
  /** A client's copy of the server's document. */
  const client = () => loadDocument(Y.encodeStateAsUpdate(server));
  const edit = (doc: Y.Doc, change: (map: Y.Map<any>) => void) => captureUpdate(doc, () => doc.transact(() => change(doc.getMap('event'))))!;
  const classifyUpdate = (update: Uint8Array) => {
    const typing = typedFields(server, update);
    return typing && Object.fromEntries(typing);
  };
  const classify = (change: (map: Y.Map<any>) => void) => classifyUpdate(edit(client(), change));
  const fieldsOf = (typing: Typing | null) => typing && [...typing.keys()];

  it('names the texts that keystrokes insert into or delete from, and how much they insert', () => {
    expect(classify((map) => map.get('description').insert(6, '!'))).toEqual({ description: { inserted: 1, deletes: false } });
    expect(classify((map) => map.get('title').insert(0, 'Q3 '))).toEqual({ title: { inserted: 3, deletes: false } });
    expect(classify((map) => map.get('title').delete(0, 8))).toEqual({ title: { inserted: 0, deletes: true } });
    // An empty text has no characters to build on: the insert names the text itself.
    expect(classify((map) => map.get('location').insert(0, 'Room 4'))).toEqual({ location: { inserted: 6, deletes: false } });
    expect(
      classify((map) => {
        map.get('title').insert(8, ' v2');
        map.get('description').delete(0, 1);
      }),
    ).toEqual({ title: { inserted: 3, deletes: false }, description: { inserted: 0, deletes: true } });
  });

  it('follows keystrokes that build on each other within one update', () => {
    const doc = client();
    const text = doc.getMap('event').get('description') as Y.Text;
    const updates = ['a', 'b', 'c'].map((letter) => captureUpdate(doc, () => text.insert(0, letter))!);
    expect(classifyUpdate(Y.mergeUpdates(updates))).toEqual({ description: { inserted: 3, deletes: false } });
  });

  it('leaves everything else to the full check', () => {
    const others: [string, (map: Y.Map<any>) => void][] = [
      ['a plain value', (map) => map.set('end_time', '2026-06-01T11:00:00.000Z')],
      ['a text replaced', (map) => map.set('title', new Y.Text('New'))],
      ['a text removed', (map) => map.delete('location')],
      ['an unknown key', (map) => map.set('admin', true)],
      ['another root', (map) => map.doc!.getMap('junk').set('x', 1)],
      ['formatting', (map) => map.get('title').format(0, 2, { bold: true })],
      ['an embed', (map) => map.get('description').insertEmbed(0, { image: 'x.png' })],
    ];
    for (const [name, change] of others) expect([name, classify(change)]).toEqual([name, null]);
  });

  it('leaves a character placed between two different texts to the full check', () => {
    // No Yjs client makes this; a forged update can. Its right neighbour is in another text.
    const doc = client();
    const map = doc.getMap('event');
    const inDescription = (map.get('description') as Y.Text)._start!.id;
    const forge = (transaction: Y.Transaction) => {
      for (const struct of transaction.doc.store.clients.get(doc.clientID)!) if (struct instanceof Y.Item) struct.rightOrigin = inDescription;
    };
    doc.on('beforeObserverCalls', forge);
    const forged = captureUpdate(doc, () => (map.get('title') as Y.Text).insert(8, '!'))!;
    expect(Y.decodeUpdate(forged).structs[0]).toMatchObject({ rightOrigin: inDescription });
    expect(typedFields(server, forged)).toBeNull();
  });

  it('leaves updates that are not Yjs, or build on changes the server lacks, to the full check', () => {
    expect(typedFields(server, new Uint8Array([1, 2, 3, 250, 7]))).toBeNull();
    const here = client();
    const doc = client();
    const text = doc.getMap('event').get('description') as Y.Text;
    const first = captureUpdate(doc, () => text.insert(0, 'first'))!;
    const second = captureUpdate(doc, () => text.insert(5, ' second'))!;
    expect(typedFields(here, second)).toBeNull();
    // Typing after a known character, but after an unseen edit of the same client elsewhere.
    expect(typedFields(here, captureUpdate(doc, () => (doc.getMap('event').get('title') as Y.Text).insert(8, '!'))!)).toBeNull();
    Y.applyUpdate(here, first);
    expect(fieldsOf(typedFields(here, second))).toEqual(['description']);
    // Deleting characters `here` has never seen, of a client it knows.
    expect(typedFields(here, captureUpdate(doc, () => text.delete(6, 3))!)).toBeNull();
    expect(fieldsOf(typedFields(here, captureUpdate(doc, () => text.delete(0, 1))!))).toEqual(['description']);
  });
});

/** Which keystrokes the hub may relay before integrating them: those that cannot break a rule. */
describe('keepsTextsValid', () => {
  const server = createDocument(sampleSnapshot({ description: 'x'.repeat(9_998) }));
  const typing = (change: (map: Y.Map<any>) => void) => {
    const doc = loadDocument(Y.encodeStateAsUpdate(server));
    return typedFields(server, captureUpdate(doc, () => change(doc.getMap('event')))!)!;
  };

  it('holds for inserts that keep every text within its limit', () => {
    expect(keepsTextsValid(server, typing((map) => map.get('title').insert(8, ' v2')))).toBe(true);
    expect(keepsTextsValid(server, typing((map) => map.get('description').insert(0, 'ab')))).toBe(true);
    expect(keepsTextsValid(server, typing((map) => map.get('location').insert(0, '   ')))).toBe(true);
  });

  it('does not hold for deletions, which may blank a title, or for a text grown past its limit', () => {
    expect(keepsTextsValid(server, typing((map) => map.get('title').delete(0, 1)))).toBe(false);
    expect(keepsTextsValid(server, typing((map) => map.get('description').delete(0, 1)))).toBe(false);
    expect(keepsTextsValid(server, typing((map) => map.get('description').insert(0, 'abc')))).toBe(false);
    expect(keepsTextsValid(server, typing((map) => map.get('title').insert(0, 'y'.repeat(193))))).toBe(false);
  });
});

