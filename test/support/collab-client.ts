import { io, type Socket } from 'socket.io-client';
import * as Y from 'yjs';
import type { ClientToServerEvents, JoinResult, ServerToClientEvents } from '../../src/collab/protocol';

type ServerEvent = keyof ServerToClientEvents;

export interface Received {
  event: ServerEvent;
  payload: any;
}

const REMOTE = Symbol('remote');

/**
 * A collaborating client as a browser would run it: a Socket.IO connection to /collab and a Yjs
 * document per joined event, kept in sync both ways.
 */
export class CollabClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly docs = new Map<number, Y.Doc>();
  /** Every server event, in order. */
  readonly received: Received[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(socket: Socket<ServerToClientEvents, ClientToServerEvents>) {
    this.socket = socket;
    for (const event of ['update', 'awareness', 'version', 'permission', 'removed', 'error'] as const) {
      socket.on(event, (payload: any) => {
        if (event === 'update') this.docs.get(payload.event_id) && Y.applyUpdate(this.docs.get(payload.event_id)!, new Uint8Array(payload.update), REMOTE);
        this.received.push({ event, payload });
        for (const wake of this.waiters) wake();
      });
    }
  }

  static connect(baseUrl: string, token?: string, transport: 'websocket' | 'polling' = 'websocket'): Promise<CollabClient> {
    const socket = io(`${baseUrl}/collab`, {
      auth: token === undefined ? {} : { token },
      transports: [transport],
      forceNew: true,
      reconnection: false,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new CollabClient(socket)));
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
  }

  /** Joins, syncing a fresh document, or the client's own one (sending what the server lacks). */
  async join(eventId: number, doc = new Y.Doc()): Promise<JoinResult> {
    const stateVector = doc.store.clients.size ? Y.encodeStateVector(doc) : undefined;
    const result: any = await this.socket.emitWithAck('join', { event_id: eventId, ...(stateVector ? { state_vector: stateVector } : {}) });
    if (result.error) throw Object.assign(new Error(result.error.message), result.error);
    Y.applyUpdate(doc, new Uint8Array(result.state), REMOTE);
    this.docs.set(eventId, doc);
    const missing = Y.encodeStateAsUpdate(doc, new Uint8Array(result.state_vector));
    if (missing.byteLength > 2) await this.send(eventId, missing);
    return result;
  }

  map(eventId: number): Y.Map<unknown> {
    return this.doc(eventId).getMap('event');
  }

  text(eventId: number, field: 'title' | 'description' | 'location'): Y.Text {
    return this.map(eventId).get(field) as Y.Text;
  }

  doc(eventId: number): Y.Doc {
    const doc = this.docs.get(eventId);
    if (!doc) throw new Error(`not joined to ${eventId}`);
    return doc;
  }

  /** Makes a local edit and sends it; resolves with the server's ack. */
  edit(eventId: number, change: (map: Y.Map<unknown>) => void): Promise<any> {
    const doc = this.doc(eventId);
    const updates: Uint8Array[] = [];
    const collect = (update: Uint8Array, origin: unknown) => origin !== REMOTE && updates.push(update);
    doc.on('update', collect);
    doc.transact(() => change(doc.getMap('event')));
    doc.off('update', collect);
    return this.send(eventId, Y.mergeUpdates(updates));
  }

  send(eventId: number, update: Uint8Array): Promise<any> {
    return this.socket.emitWithAck('update', { event_id: eventId, update });
  }

  /** Resolves when the condition holds, re-checking whenever the server sends something. */
  waitFor<T>(condition: () => T | undefined | false, what = 'condition', timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = condition();
        if (value) {
          cleanup();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.received.map((r) => r.event))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The first server event of this kind matching the filter, waiting for it if need be. */
  next(event: ServerEvent, filter: (payload: any) => boolean = () => true): Promise<any> {
    const seen = this.received.length;
    return this.waitFor(() => this.received.slice(seen).find((r) => r.event === event && filter(r.payload))?.payload, `"${event}"`);
  }

  close(): void {
    this.socket.close();
  }
}
