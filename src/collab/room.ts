import type { Socket } from 'socket.io';
import * as Y from 'yjs';
import type { Role } from '../db/entities';
import {
  applyUpdateNoting,
  assertValidAfter,
  assertValidText,
  captureUpdate,
  keepsTextsValid,
  loadDocument,
  readEvent,
  readText,
  restoreFrom,
  setText,
  typedFields,
  type TextField,
  type Typing,
} from '../documents/mapping';
import type { StoredDocument } from '../documents/store';
import { AppError } from '../http/errors';
import type { ClientToServerEvents, ServerToClientEvents } from './protocol';

export type CollabSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface Member {
  socket: CollabSocket;
  userId: number;
  username: string;
  role: Role;
}

export interface CheckpointTiming {
  /** Save this long after editing pauses... */
  quietMs: number;
  /** ...but no later than this after the first unsaved edit. */
  maxDelayMs: number;
}

/**
 * One open event in this process: its document, the sockets in it, and when its edits are due to
 * become a version. Edits are applied synchronously, so they never interleave.
 */
export class Room {
  readonly channel: string;
  /** By socket id. */
  readonly members = new Map<string, Member>();
  /**
   * The presence of members that announced one (where they are, which field), by socket id, in
   * memory only. Held here so that a newcomer gets everyone's at once (other processes answer for
   * theirs) rather than each member answering each newcomer, which grows with the square of the
   * room; and apart from the members, so that telling a newcomer costs nothing for the silent.
   */
  readonly presence = new Map<string, Record<string, unknown>>();
  private doc: Y.Doc;
  private quietTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Stores of this process's edits that are still in flight. */
  private readonly appends = new Set<Promise<unknown>>();
  private destroyed = false;

  constructor(
    readonly eventId: number,
    stored: StoredDocument & { state: Uint8Array },
    private readonly timing: CheckpointTiming,
    private readonly onCheckpointDue: (room: Room) => void,
  ) {
    this.channel = channelOf(eventId);
    this.doc = loadDocument(stored.state, stored.updates.map((row) => row.update));
  }

  /**
   * Applies a client's update and hands what the room accepted to `relay`, for the others. If the
   * result would break the event's rules, the update is kept (the client has already applied it,
   * so refusing it outright would leave that client ahead of everyone) together with a repair
   * that edits the fields back: the state change is refused, and every copy, the sender's
   * included, converges on the repaired state. Throws, changing and relaying nothing, when the
   * update is not Yjs or depends on changes the server does not have.
   */
  applyClientUpdate(update: Uint8Array, relay: (accepted: Uint8Array) => void): { accepted: Uint8Array; repair: Uint8Array | null; problem: AppError | null } {
    const typing = typedFields(this.doc, update);
    if (typing && keepsTextsValid(this.doc, typing)) {
      // The common keystroke cannot break a rule: it goes out to the others before it is
      // integrated here, which gets it to them sooner, and needs no check after.
      relay(update);
      this.applyAcceptedUpdate(update);
      return { accepted: update, repair: null, problem: null };
    }
    const { repair, problem } = typing ? this.applyTyping(update, typing) : this.applyOnTrial(update);
    const accepted = repair ? Y.mergeUpdates([update, repair]) : update;
    relay(accepted);
    return { accepted, repair, problem };
  }

  /**
   * Other typing needs only the texts it touched checked, on the document itself; a text that
   * breaks a rule is edited back to what it held before.
   */
  private applyTyping(update: Uint8Array, typing: Typing): { repair: Uint8Array | null; problem: AppError | null } {
    const before = new Map([...typing.keys()].map((field) => [field, readText(this.doc, field)]));
    Y.applyUpdate(this.doc, update);
    let problem: AppError | null = null;
    const broken: TextField[] = [];
    for (const field of typing.keys()) {
      const value = readText(this.doc, field);
      try {
        assertValidText(field, value);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        problem ??= err;
        broken.push(field);
      }
    }
    const repair = broken.length ? captureUpdate(this.doc, () => broken.forEach((field) => setText(this.doc, field, before.get(field)!))) : null;
    return { repair, problem };
  }

  /**
   * Anything else is tried on a copy of the document first: it reaches the document only if the
   * copy stays a valid event, so a bad update never touches the document others see.
   */
  private applyOnTrial(update: Uint8Array): { repair: Uint8Array | null; problem: AppError | null } {
    const trial = loadDocument(Y.encodeStateAsUpdate(this.doc));
    let repair: Uint8Array | null = null;
    let problem: AppError | null = null;
    try {
      const changes = applyUpdateNoting(trial, update);
      if (trial.store.pendingStructs || trial.store.pendingDs) {
        throw new AppError(409, 'resync_required', 'The update builds on changes the server does not have: join again with your document');
      }
      try {
        assertValidAfter(trial, changes);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        problem = err;
        repair = captureUpdate(trial, () => restoreFrom(trial, this.doc));
        readEvent(trial);
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(422, 'invalid_update', 'The update is not a valid Yjs update');
    } finally {
      trial.destroy();
    }
    this.applyAcceptedUpdate(update);
    if (repair) this.applyAcceptedUpdate(repair);
    return { repair, problem };
  }

  /** Applies an update that was accepted elsewhere: by another process, or a REST write. */
  applyAcceptedUpdate(update: Uint8Array): void {
    Y.applyUpdate(this.doc, update);
  }

  /**
   * Applies an update accepted elsewhere and returns what it changed here, as an update: null if
   * nothing (it repeated what is here, or waits for changes that are not), and with any earlier
   * changes it completed. Sync answers between processes repeat much of what each already has.
   */
  mergeAcceptedUpdate(update: Uint8Array): Uint8Array | null {
    let changed: Uint8Array | null = null;
    const note = (effect: Uint8Array) => {
      changed = effect;
    };
    this.doc.on('update', note);
    try {
      Y.applyUpdate(this.doc, update);
    } finally {
      this.doc.off('update', note);
    }
    return changed;
  }

  encodeState(clientStateVector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, clientStateVector);
  }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc);
  }

  /** Tracks a store of one of this room's edits, and schedules the version that will fold it in. */
  noteEdit(append: Promise<unknown>): void {
    this.appends.add(append);
    void append.catch(() => undefined).finally(() => this.appends.delete(append));
    if (this.destroyed) return;
    // Restarting the pause timer, rather than replacing it, allocates nothing per keystroke.
    if (this.quietTimer) this.quietTimer.refresh();
    else this.quietTimer = timer(() => this.onCheckpointDue(this), this.timing.quietMs);
    this.deadlineTimer ??= timer(() => this.onCheckpointDue(this), this.timing.maxDelayMs);
  }

  get hasUnsavedEdits(): boolean {
    return this.deadlineTimer !== undefined;
  }

  /** Waits for this room's edits to be stored; returns whether any were waiting to become a version. */
  async settle(): Promise<boolean> {
    const unsaved = this.hasUnsavedEdits;
    this.clearSchedule();
    await Promise.allSettled([...this.appends]);
    return unsaved;
  }

  scheduleUnload(afterMs: number, unload: () => void): void {
    if (this.destroyed) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = timer(() => {
      if (this.members.size === 0 && !this.hasUnsavedEdits) unload();
    }, afterMs);
  }

  cancelUnload(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  destroy(): void {
    this.destroyed = true;
    this.clearSchedule();
    this.cancelUnload();
    this.doc.destroy();
  }

  private clearSchedule(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.deadlineTimer);
    this.quietTimer = undefined;
    this.deadlineTimer = undefined;
  }
}

/** The Socket.IO room of an event's sockets, whether or not its document is open here. */
export function channelOf(eventId: number): string {
  return `event:${eventId}`;
}

/** Room timers never keep the process alive on their own: the server's sockets do that. */
function timer(callback: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(callback, ms).unref();
}
