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
    const key = `${presence.event_id}:${presence.connection}`;
    const known = this.byProcess.get(processId);
    if (presence.state === null) known?.delete(key);
    else if (known) known.set(key, presence);
    else this.byProcess.set(processId, new Map([[key, presence]]));
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
