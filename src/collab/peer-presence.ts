import type { Presence } from './protocol';

/**
 * The presence other processes relayed into rooms open here, by the process it came from. A
 * process that stops withdraws its own; one killed outright cannot, so the others withdraw it
 * for it once it is gone, rather than their clients showing its connections for ever.
 */
export class PeerPresence {
  /** By process, then by `eventId:connection`. */
  private readonly byProcess = new Map<string, Map<string, Presence>>();

  /** Notes a presence relayed from `processId`; `state: null` forgets it. */
  note(processId: string, presence: Presence): void {
    const key = keyOf(presence);
    const known = this.byProcess.get(processId);
    if (presence.state === null) known?.delete(key);
    else if (known) known.set(key, presence);
    else this.byProcess.set(processId, new Map([[key, presence]]));
  }

  /** What is noted in these events now: hand it to `answered` with the answers to a question about them. */
  notedIn(eventIds: number[]): Map<string, Presence> {
    const events = new Set(eventIds);
    const noted = [...this.byProcess.values()].flatMap((known) => [...known.entries()].filter(([, presence]) => events.has(presence.event_id)));
    return new Map(noted);
  }

  /**
   * Takes `presence` as all that `processId` held, when it answered, in the events asked about
   * (`asked`, what was noted in them as the question went out). A relay heard since the question
   * may have overtaken the answer and is newer: what it set or removed stands. Of the rest, what
   * was noted and is not in the answer has left unheard. Returns what the answer adds or changes,
   * to pass on, and what left, forgotten, each with `state: null`.
   */
  answered(processId: string, asked: Map<string, Presence>, presence: Presence[]): { held: Presence[]; left: Presence[] } {
    const known = this.byProcess.get(processId) ?? new Map<string, Presence>();
    const unchangedSince = (key: string) => known.get(key) === asked.get(key);
    const held = presence.filter((payload) => unchangedSince(keyOf(payload)));
    const answeredKeys = new Set(presence.map(keyOf));
    const left = [...known.entries()].filter(([key]) => asked.has(key) && unchangedSince(key) && !answeredKeys.has(key)).map(([, noted]) => noted);
    for (const noted of left) known.delete(keyOf(noted));
    for (const payload of held) known.set(keyOf(payload), payload);
    if (known.size) this.byProcess.set(processId, known);
    else this.byProcess.delete(processId);
    return { held, left: left.map((noted) => ({ ...noted, state: null })) };
  }

  /** Forgets what was noted in an event whose room is no longer open here. */
  forgetEvent(eventId: number): void {
    for (const known of this.byProcess.values()) {
      for (const [key, presence] of known) if (presence.event_id === eventId) known.delete(key);
    }
  }

  /** The processes whose presence is held here. */
  processIds(): string[] {
    return [...this.byProcess.keys()];
  }

  /** Forgets what these processes relayed here; returns it, each with `state: null`. */
  withdraw(processIds: string[]): Presence[] {
    return processIds.flatMap((processId) => {
      const known = this.byProcess.get(processId);
      this.byProcess.delete(processId);
      return [...(known?.values() ?? [])].map((presence) => ({ ...presence, state: null }));
    });
  }
}

function keyOf(presence: Presence): string {
  return `${presence.event_id}:${presence.connection}`;
}
