import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { Server, type Namespace } from 'socket.io';
import * as Y from 'yjs';
import type { z } from 'zod';
import type { Services } from '../app';
import type { Role } from '../db/entities';
import type { DocumentStore } from '../documents/store';
import type { CommittedChange } from '../events/feed';
import { isUnreachable } from '../db/unreachable';
import { AppError, Forbidden, NotFound, ServiceUnavailable, Unauthorized } from '../http/errors';
import { RateLimiter, type Rate } from '../http/rate-limit';
import type { Caller } from '../http/route';
import { parse } from '../http/validation';
import { hasRole, type Access } from '../permissions/access';
import {
  AuthPayload,
  AwarenessPayload,
  CheckpointPayload,
  JoinPayload,
  LeavePayload,
  MAX_UPDATE_BYTES,
  UpdatePayload,
  type Ack,
  type ClientToServerEvents,
  type CollabError,
  type Presence,
  type ServerToClientEvents,
} from './protocol';
import type { ClusterAdapter } from './adapter';
import { encodeUpdate, EventWriter } from './broadcast';
import { PeerPresence } from './peer-presence';
import { channelOf, Room, type CheckpointTiming, type CollabSocket, type Member } from './room';
import { RoomLocks } from './room-locks';
import { EventGone, UpdateLog } from './update-log';

const NAMESPACE = '/collab';
/** How often the count of other processes is refreshed from the adapter. */
const PEER_COUNT_MS = 1_000;
/** Documents per `doc-sync` or answering `doc-updates` message, events per `presence` question, presences per `left`: messages stay small. */
const SYNC_BATCH = 100;
/**
 * How long a stop waits for connections to end once every socket is told to close. A client
 * whose network went away never answers the WebSocket closing handshake, and `ws` would wait
 * 30 s for it; a REST request still running gets this long to finish.
 */
const CLOSE_GRACE_MS = 3_000;

export interface HubOptions extends CheckpointTiming {
  /** How long an empty room's document stays in memory, for quick rejoins. */
  idleUnloadMs: number;
  /** How often open sockets' sessions are checked, for ends this process was not told of. */
  sessionSweepMs: number;
  /**
   * How often the presence other processes relayed here is checked against the processes still
   * there, besides whenever the adapter counts fewer: one may die as another starts, count unchanged.
   */
  presenceCheckMs: number;
  /** What each socket may send. */
  messageRate: Rate;
}

/**
 * Messages between the processes of one deployment, through the Socket.IO adapter. Yjs updates
 * travel as base64: the Redis adapter sends these messages as JSON, where binary does not survive.
 */
interface PeerEvents {
  /** Updates accepted here in one turn of the event loop, merged per event. */
  'doc-updates': (updates: [eventId: number, update: string][]) => void;
  /**
   * State vectors of documents open in the sender, asking for what it lacks: sent when a
   * document opens, and for every open document when another process appears. A process with
   * the document open answers with the difference and, unless this is itself an answer, asks back.
   */
  'doc-sync': (documents: [eventId: number, stateVector: string][], answer: boolean) => void;
  /** `from` names the sending process in this and the next two (see PeerPresence). */
  awareness: (payload: Presence, from: string) => void;
  /**
   * Asks for the presence held in the receiving process for these events' sockets; with
   * `askBack`, the receiver then asks the same of the sender, for the events it has open too.
   */
  presence: (eventIds: number[], askBack: boolean, answer: (answer: { from: string; presence: Presence[] }) => void) => void;
  /** Connections of a process that is stopping, each with `state: null`, for their rooms elsewhere. */
  left: (presence: Presence[], from: string) => void;
  /** Asks each process which it is: those that do not answer when all are asked are gone. */
  processes: (answer: (processId: string) => void) => void;
  feed: (notice: PeerNotice) => void;
}

type FeedNotice =
  | { kind: 'committed'; change: CommittedChange }
  | { kind: 'sessionsEnded'; sessionIds: string[] }
  | { kind: 'roleChanged'; eventId: number; userId: number; role: Role }
  | { kind: 'accessRemoved'; eventId: number; userId: number }
  | { kind: 'deleted'; eventId: number };

type PeerNotice = Exclude<FeedNotice, { kind: 'committed' }> | { kind: 'committed'; change: Omit<CommittedChange, 'update'> & { update: string | null } };

interface SocketData {
  caller: Caller;
  /** The events this socket has joined. */
  joined: Set<number>;
}

/** A join whose checks are running: a change of access meanwhile has them made again, a leave cancels it. */
interface JoinAttempt {
  socket: CollabSocket;
  eventId: number;
  accessChanged: boolean;
  cancelled: boolean;
}

type CollabNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, PeerEvents, SocketData>;

/**
 * The real-time hub: Socket.IO namespace `/collab`, one room per open event. Clients' Yjs updates
 * are checked, applied, relayed to the room at once, stored before the ack, and folded into
 * versions by the same write path as REST. What the services announce (new versions, role
 * changes, deletions) reaches open documents and sockets here, in every process.
 */
export class CollabHub {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents, PeerEvents, SocketData>;
  private readonly nsp: CollabNamespace;
  private readonly rooms = new Map<number, Room>();
  /** Rooms whose documents are being read, with the accepted updates that arrive meanwhile. */
  private readonly loading = new Map<number, { room: Promise<Room>; arrived: Uint8Array[] }>();
  private readonly updateLog: UpdateLog;
  /** Marks this process's open rooms in the database, for the recovery of a process starting. */
  private readonly roomLocks: RoomLocks;
  /** Updates accepted since the last message to peers, per event. */
  private readonly forPeers = new Map<number, Uint8Array[]>();
  private readonly writer = new EventWriter();
  /**
   * Checkpoints that time or a last leave calls for run one at a time. Rooms typed into together
   * come due together, and a hundred checkpoints at once held the event loop for tens of
   * milliseconds, delaying every room's updates; one at a time, an update waits for a step of one.
   */
  private readonly backgroundCheckpoints = pLimit(1);
  /** How many other processes the adapter knows of: updates and presence go to them only if any. */
  private peerCount = 0;
  /** This process, as the others know it. */
  private readonly processId = randomUUID();
  private readonly peerPresence = new PeerPresence();
  private readonly joinsBeingChecked = new Set<JoinAttempt>();
  /** What each user may send, over all of their sockets here: more sockets are not more budget. */
  private readonly messageBudgets: RateLimiter<number>;
  private lastPresenceCheck = Date.now();
  private readonly peerCheck?: NodeJS.Timeout;
  private readonly options: HubOptions;
  private readonly sessionSweep: NodeJS.Timeout;
  private closing = false;
  /** The HTTP server's connections (WebSockets among them), for a stop to cut those that linger. */
  private readonly connections = new Set<NetSocket>();

  constructor(
    httpServer: HttpServer,
    private readonly deps: {
      orm: MikroORM;
      /** For the update log's own connection. */
      databaseUrl: string;
      services: Services;
      documents: DocumentStore;
      logger: Logger;
      /** How this process reaches the others of its deployment, if it has any. */
      cluster?: ClusterAdapter;
      options: HubOptions;
    },
  ) {
    this.options = deps.options;
    this.messageBudgets = new RateLimiter(deps.options.messageRate, 'messages');
    this.io = new Server(httpServer, {
      serveClient: false,
      // Room for the largest accepted update plus framing; beyond this the transport drops the socket.
      maxHttpBufferSize: MAX_UPDATE_BYTES * 2,
      // The default, stated because the fan-out's precomputed frames (broadcast.ts) rely on it.
      perMessageDeflate: false,
      ...(deps.cluster ? { adapter: deps.cluster.adapter } : {}),
    });
    httpServer.on('connection', (connection: NetSocket) => {
      this.connections.add(connection);
      connection.once('close', () => this.connections.delete(connection));
    });
    this.nsp = this.io.of(NAMESPACE);
    this.updateLog = new UpdateLog(deps.databaseUrl, deps.logger);
    this.roomLocks = new RoomLocks(deps.databaseUrl, deps.logger);
    this.nsp.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      if (typeof token !== 'string' || !token) return next(connectError(new Unauthorized('Send an access token as auth.token')));
      deps.services.auth.authenticate(token).then(
        (caller) => {
          socket.data.caller = caller;
          socket.data.joined = new Set();
          next();
        },
        (err: unknown) => next(connectError(err instanceof AppError ? err : new Unauthorized('Invalid access token'))),
      );
    });
    this.nsp.on('connection', (socket) => this.onConnection(socket));
    this.listenToServices();
    this.listenToPeers();
    this.sessionSweep = setInterval(() => void this.sweepEndedSessions(), this.options.sessionSweepMs).unref();
    if (deps.cluster) {
      void this.countPeers();
      this.peerCheck = setInterval(() => void this.countPeers(), PEER_COUNT_MS).unref();
      // What the others relayed while this process could not hear them never arrived.
      deps.cluster.onResubscribed((namespace) => {
        if (namespace !== undefined && namespace !== NAMESPACE) return;
        this.syncWithPeers();
        this.resyncPresence();
      });
    }
  }

  /** Saves what is unsaved and closes every socket: the graceful part of shutdown. */
  async close(): Promise<void> {
    clearInterval(this.sessionSweep);
    clearInterval(this.peerCheck);
    // Edits already queued are still stored, but an unreachable database is no longer waited for.
    const logClosed = this.updateLog.close();
    await Promise.allSettled([...this.loading.values()].map((loading) => loading.room));
    await Promise.allSettled([...this.rooms.values()].map((room) => this.checkpoint(room)));
    await logClosed;
    // What the last versions changed has gone to the other processes, and so does who is leaving
    // with this process (a deploy must not leave their presence shown elsewhere); nothing goes after this.
    this.flushToPeers();
    this.withdrawPresence();
    this.closing = true;
    for (const room of this.rooms.values()) room.destroy();
    this.rooms.clear();
    await this.roomLocks.close();
    // Closing the sockets also closes the HTTP server, which waits for every connection to end.
    const cut = setTimeout(() => this.connections.forEach((connection) => connection.destroy()), CLOSE_GRACE_MS);
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    clearTimeout(cut);
  }

  /**
   * Turns live edits left in the log (by a crash) into versions. Events whose room another process
   * holds open are left to it: during a deploy, folding them here would cut versions mid-session.
   */
  async recover(): Promise<void> {
    const eventIds = await this.deps.documents.eventsToRecover(this.deps.orm.em.fork());
    for (const eventId of eventIds) {
      try {
        await this.deps.services.events.checkpoint({ eventId });
      } catch (err) {
        this.deps.logger.warn({ err, eventId }, 'could not fold recovered live edits into a version');
      }
    }
    if (eventIds.length) this.deps.logger.info({ events: eventIds.length }, 'recovered live edits left by an earlier run');
  }

  /** Documents currently held in memory. */
  get openRooms(): number {
    return this.rooms.size;
  }

  private onConnection(socket: CollabSocket): void {
    const handle = <S extends z.ZodType, R>(
      event: keyof ClientToServerEvents,
      schema: S,
      work: (payload: z.output<S>) => Promise<R>,
    ) => {
      socket.on(event, async (payload: unknown, ack?: (result: Ack<R>) => void) => {
        try {
          this.messageBudgets.spend(socket.data.caller.id);
          const result = await work(parse(schema, payload, 'payload'));
          if (typeof ack === 'function') ack(result);
        } catch (err) {
          const error = toCollabError(err, this.deps.logger);
          if (typeof ack === 'function') ack({ error });
          else socket.emit('error', { ...eventIdOf(payload), ...error });
        }
      });
    };

    handle('join', JoinPayload, (payload) => this.join(socket, payload.event_id, payload.state_vector));
    handle('leave', LeavePayload, async (payload) => {
      for (const attempt of this.joinsBeingChecked) if (attempt.socket === socket && attempt.eventId === payload.event_id) attempt.cancelled = true;
      this.leave(socket, payload.event_id);
      return { ok: true as const };
    });
    handle('update', UpdatePayload, (payload) => this.update(socket, payload.event_id, payload.update));
    handle('awareness', AwarenessPayload, async (payload) => {
      const { room } = this.memberOf(socket, payload.event_id);
      if (payload.state) room.presence.set(socket.id, payload.state);
      else room.presence.delete(socket.id);
      this.relayAwareness(presenceOf(socket, room.eventId, payload.state), socket);
      return { ok: true as const };
    });
    handle('checkpoint', CheckpointPayload, async (payload) => {
      const { room } = this.memberOf(socket, payload.event_id);
      await room.settle();
      const version = await this.deps.services.events.checkpoint({ eventId: room.eventId, actorId: socket.data.caller.id, description: payload.description });
      return { version };
    });
    handle('auth', AuthPayload, async (payload) => {
      const caller = await this.deps.services.auth.authenticate(payload.token);
      if (caller.id !== socket.data.caller.id) throw new Forbidden('The token belongs to another user');
      socket.data.caller = caller;
      return { expires_at: caller.expiresAt.toISOString() };
    });

    socket.on('disconnect', () => {
      for (const eventId of socket.data.joined) this.leave(socket, eventId);
    });
  }

  private async join(socket: CollabSocket, eventId: number, clientStateVector?: Uint8Array) {
    if (clientStateVector && clientStateVector.byteLength > MAX_UPDATE_BYTES) throw new AppError(413, 'payload_too_large', 'The state vector is too large');
    if (clientStateVector) {
      // Checked before the socket joins: a refused join must leave it out of the room.
      try {
        Y.decodeStateVector(clientStateVector);
      } catch {
        throw new AppError(422, 'validation_error', 'state_vector is not a Yjs state vector');
      }
    }
    const attempt: JoinAttempt = { socket, eventId, accessChanged: false, cancelled: false };
    this.joinsBeingChecked.add(attempt);
    const { role, version, room } = await this.admit(attempt).finally(() => this.joinsBeingChecked.delete(attempt));
    throwIfCancelled(attempt);
    room.cancelUnload();
    room.members.set(socket.id, { socket, userId: socket.data.caller.id, username: socket.data.caller.username, role });
    socket.data.joined.add(eventId);
    await socket.join(room.channel);
    const state = room.encodeState(clientStateVector);
    // After the ack, which goes out as this returns: the newcomer learns who is here once it is in.
    setImmediate(() => this.sendPresence(socket, eventId));
    return { role, version, state, state_vector: room.stateVector() };
  }

  /**
   * Checks the caller's access and opens the event's room. A role change, removal or deletion that
   * lands meanwhile would miss the socket, not yet a member, so then the checks are made again.
   */
  private async admit(attempt: JoinAttempt): Promise<Access & { room: Room }> {
    for (;;) {
      attempt.accessChanged = false;
      const access = await this.deps.services.permissions.access(attempt.socket.data.caller.id, attempt.eventId);
      // No document is read for a join that will not happen.
      throwIfCancelled(attempt);
      const room = await this.openRoom(attempt.eventId);
      if (!attempt.accessChanged) return { ...access, room };
    }
  }

  /**
   * Tells a newcomer where everyone else in the event is: those in this process at once, those in
   * others when they answer (a process that does not, within 5 s, costs only its own sockets'
   * presence). Peers answer with presence alone, not their sockets: a large room's reconnect storm
   * would otherwise carry every member's handshake across the adapter for every newcomer.
   */
  private sendPresence(socket: CollabSocket, eventId: number): void {
    const tell = (presence: Presence[]) => {
      if (!socket.data.joined.has(eventId)) return; // left meanwhile
      for (const payload of presence) if (payload.connection !== socket.id) socket.emit('awareness', payload);
    };
    tell(this.presenceHere(eventId));
    if (this.peerCount > 0) this.askPresence([eventId], false, tell);
  }

  /**
   * Asks the other processes who is in these events there. Each answer is the whole of that
   * process's presence in them: what it relayed before and no longer holds left unheard, and
   * the rooms here are told so. `heard` gets the presence each answer holds.
   */
  private askPresence(eventIds: number[], askBack: boolean, heard: (presence: Presence[]) => void): void {
    const asked = this.peerPresence.notedIn(eventIds);
    this.askPeers<{ from: string; presence: Presence[] }>('presence', [eventIds, askBack], (err, answers) => {
      if (err) this.deps.logger.warn({ err, events: eventIds.length }, 'not every other process said who is here');
      for (const { from, presence } of answers) {
        const { held, left } = this.peerPresence.answered(
          from,
          asked,
          presence.filter((payload) => this.rooms.has(payload.event_id)),
        );
        for (const payload of left) this.relayAwareness(payload);
        heard(held);
      }
    });
  }

  /**
   * Brings the presence in the open rooms in line with the others', after a time one side could
   * not hear the other, or knew of no other (and relayed nothing): each side asks the other, so
   * that, whichever of them listens last, both questions are heard.
   */
  private resyncPresence(eventIds = [...this.rooms.keys()], askBack = true): void {
    for (const batch of batchesOf(eventIds)) this.askPresence(batch, askBack, (presence) => presence.forEach((payload) => this.relayAwareness(payload)));
  }

  /** Tells the other processes that this process's connections are leaving every room they are in. */
  private withdrawPresence(): void {
    if (this.peerCount === 0) return;
    const leaving = [...this.rooms.keys()].flatMap((eventId) => this.presenceHere(eventId).map((presence) => ({ ...presence, state: null })));
    for (const batch of batchesOf(leaving)) this.toPeers('left', batch, this.processId);
  }

  /** Keeps what another process relayed into a room open here, to withdraw it if that process dies. */
  private notePeerPresence(from: string, presence: Presence): void {
    if (presence.state === null || this.rooms.has(presence.event_id)) this.peerPresence.note(from, presence);
  }

  /**
   * Withdraws, from the rooms here, the presence relayed by processes that are gone: every process
   * still there answers with its id. Only those asked about are judged by the answers: one that
   * relays its first presence meanwhile may have started after the question.
   */
  private withdrawGonePeers(): void {
    this.lastPresenceCheck = Date.now();
    const asked = this.peerPresence.processIds();
    if (!asked.length) return;
    this.askPeers<string>('processes', [], (err, alive) => {
      // One that did not answer may still be there.
      if (err) return;
      const gone = asked.filter((processId) => !alive.includes(processId));
      for (const presence of this.peerPresence.withdraw(gone)) this.relayAwareness(presence);
    });
  }

  /** The presence of the event's sockets in this process. */
  private presenceHere(eventId: number): Presence[] {
    const room = this.rooms.get(eventId);
    if (!room) return [];
    return Array.from(room.presence, ([socketId, state]) => presenceOf(room.members.get(socketId)!.socket, eventId, state));
  }

  /** Takes the socket out of the event's room, telling the others; the last one out saves the edits. */
  private leave(socket: CollabSocket, eventId: number): void {
    const room = this.dropMember(socket, eventId);
    if (!room) return;
    this.relayAwareness(presenceOf(socket, eventId, null), socket);
    if (room.members.size === 0) {
      void this.checkpointInTurn(room).finally(() => room.scheduleUnload(this.options.idleUnloadMs, () => this.unload(room)));
    }
  }

  /** Forgets the socket's membership and presence in the event; returns the room if it was in it. */
  private dropMember(socket: CollabSocket, eventId: number): Room | undefined {
    socket.data.joined.delete(eventId);
    const room = this.rooms.get(eventId);
    if (!room?.members.delete(socket.id)) return undefined;
    room.presence.delete(socket.id);
    void socket.leave(room.channel);
    return room;
  }

  /**
   * A client's edit: checked (role, token, payload, resulting event), applied, relayed to the room
   * and to other processes at once, and acknowledged once stored in PostgreSQL. An edit that
   * breaks the event's rules is stored with its repair and answered with the problem.
   */
  private async update(socket: CollabSocket, eventId: number, update: Uint8Array) {
    const { room, member } = this.memberOf(socket, eventId);
    if (socket.data.caller.expiresAt.getTime() <= Date.now()) {
      throw new Unauthorized('Access token expired: send a fresh one with `auth` before editing');
    }
    if (!hasRole(member.role, 'editor')) throw new Forbidden('Only editors and the owner can edit this event');
    if (update.byteLength > MAX_UPDATE_BYTES) throw new AppError(413, 'payload_too_large', `Updates are limited to ${MAX_UPDATE_BYTES} bytes`);

    const { accepted, repair, problem } = room.applyClientUpdate(update, (relayed) => {
      this.sendUpdate(room, relayed, socket);
      this.relayToPeers(eventId, relayed);
    });
    if (repair) socket.emit('update', { event_id: eventId, update: repair });
    const stored = this.updateLog.append({ eventId, authorId: member.userId, update: accepted });
    room.noteEdit(stored);
    try {
      await stored;
    } catch (err) {
      if (err instanceof EventGone) throw new NotFound('The event was deleted');
      throw err;
    }
    if (problem) throw problem;
    return { ok: true as const };
  }

  private memberOf(socket: CollabSocket, eventId: number): { room: Room; member: Member } {
    const room = this.rooms.get(eventId);
    const member = room?.members.get(socket.id);
    if (!room || !member) throw new AppError(409, 'not_joined', `Join event ${eventId} first`);
    return { room, member };
  }

  /** The room for an event, loading its document once however many sockets ask at the same time. */
  private async openRoom(eventId: number): Promise<Room> {
    const open = this.rooms.get(eventId);
    if (open) return open;
    let loading = this.loading.get(eventId);
    if (!loading) {
      const arrived: Uint8Array[] = [];
      loading = { arrived, room: this.loadRoom(eventId, arrived).finally(() => this.loading.delete(eventId)) };
      this.loading.set(eventId, loading);
    }
    return loading.room;
  }

  /** Reads the document; updates accepted while it was being read are applied on top. */
  private async loadRoom(eventId: number, arrived: Uint8Array[]): Promise<Room> {
    const { documents, services, orm } = this.deps;
    let stored = await documents.read(orm.em, eventId);
    if (!stored.state) {
      // An event from before documents existed: the write path gives it one.
      await services.events.checkpoint({ eventId });
      stored = await documents.read(orm.em, eventId);
    }
    const room = new Room(eventId, { ...stored, state: stored.state! }, this.options, (due) => void this.checkpointInTurn(due));
    for (const update of arrived) room.applyAcceptedUpdate(update);
    this.rooms.set(eventId, room);
    this.roomLocks.hold(eventId);
    // Empty until a join adds its socket, and unloaded if none does (it failed, or the socket left).
    room.scheduleUnload(this.options.idleUnloadMs, () => this.unload(room));
    // An update relayed before it was stored may have passed while the document was read.
    this.syncWithPeers([room]);
    return room;
  }

  /**
   * An update accepted elsewhere (another process, a REST write) reaches this process's copy of
   * the document, even one still loading. Returns the room if it is open, and what the update
   * changed in it, which is what its sockets lack.
   */
  private applyAccepted(eventId: number, update: Uint8Array): { room?: Room; changed: Uint8Array | null } {
    const room = this.rooms.get(eventId);
    if (!room) this.loading.get(eventId)?.arrived.push(update);
    return { room, changed: room?.mergeAcceptedUpdate(update) ?? null };
  }

  /** A checkpoint that time or a last leave calls for, once those ahead of it are done. */
  private checkpointInTurn(room: Room): Promise<void> {
    return this.backgroundCheckpoints(() => this.checkpoint(room));
  }

  /** Folds this process's stored edits into a version, if they changed anything. */
  private async checkpoint(room: Room): Promise<void> {
    if (!(await room.settle())) return;
    try {
      await this.deps.services.events.checkpoint({ eventId: room.eventId });
    } catch (err) {
      if (err instanceof NotFound) return; // deleted meanwhile
      const error = toCollabError(err, this.deps.logger);
      this.deps.logger.warn({ eventId: room.eventId, error }, 'live edits could not become a version');
      this.nsp.local.to(room.channel).emit('error', { event_id: room.eventId, ...error });
    }
  }

  private unload(room: Room): void {
    if (this.rooms.get(room.eventId) !== room) return;
    this.rooms.delete(room.eventId);
    this.roomLocks.release(room.eventId);
    this.peerPresence.forgetEvent(room.eventId);
    room.destroy();
  }

  /** Sends an update to the room's sockets in this process (but `except`), encoded once for all. */
  private sendUpdate(room: Room, update: Uint8Array, except?: CollabSocket): void {
    const encoded = encodeUpdate(NAMESPACE, room.eventId, update);
    for (const member of room.members.values()) if (member.socket !== except) this.writer.send(member.socket, encoded);
  }

  private relayAwareness(payload: Presence, from?: CollabSocket): void {
    const channel = channelOf(payload.event_id);
    (from ? from.to(channel) : this.nsp.to(channel)).local.emit('awareness', payload);
    if (from && this.peerCount > 0) this.toPeers('awareness', payload, this.processId);
  }

  private listenToServices(): void {
    const { feed, sessions } = this.deps.services;
    sessions.on('ended', (sessionIds) => this.publish({ kind: 'sessionsEnded', sessionIds }));
    feed.on('committed', (change) => this.publish({ kind: 'committed', change }));
    feed.on('roleChanged', (notice) => this.publish({ kind: 'roleChanged', ...notice }));
    feed.on('accessRemoved', (notice) => this.publish({ kind: 'accessRemoved', ...notice }));
    feed.on('deleted', (notice) => this.publish({ kind: 'deleted', ...notice }));
  }

  private listenToPeers(): void {
    // What peers send was checked where it came from; a failure here is logged, never thrown.
    const guarded = <A extends unknown[]>(handler: (...args: A) => void) => (...args: A) => {
      try {
        handler(...args);
      } catch (err) {
        this.deps.logger.error({ err }, 'could not apply a message from another process');
      }
    };
    // Each update on its own, so one that fails does not hold back the others of its batch.
    const applyPeerUpdate = guarded((eventId: number, encoded: string) => {
      const { room, changed } = this.applyAccepted(eventId, fromBase64(encoded));
      if (room && changed) this.sendUpdate(room, changed);
    });
    this.nsp.on(
      'doc-updates',
      guarded((updates: [number, string][]) => {
        for (const [eventId, encoded] of updates) applyPeerUpdate(eventId, encoded);
      }),
    );
    this.nsp.on(
      'doc-sync',
      guarded((documents: [number, string][], answer: boolean) => {
        void this.countPeers(); // it knows of the sender now
        const open = documents.flatMap(([eventId, stateVector]) => {
          const room = this.rooms.get(eventId);
          return room ? [{ room, stateVector: fromBase64(stateVector) }] : [];
        });
        for (const batch of batchesOf(open)) {
          this.toPeers('doc-updates', batch.map(({ room, stateVector }): [number, string] => [room.eventId, toBase64(room.encodeState(stateVector))]));
        }
        if (!answer) this.syncWithPeers(open.map(({ room }) => room), true);
      }),
    );
    const relayFromPeer = (from: string, presence: Presence) => {
      this.notePeerPresence(from, presence);
      this.relayAwareness(presence);
    };
    this.nsp.on('awareness', guarded((payload: Presence, from: string) => relayFromPeer(from, payload)));
    this.nsp.on('left', guarded((leaving: Presence[], from: string) => leaving.forEach((presence) => relayFromPeer(from, presence))));
    this.nsp.on(
      'presence',
      guarded((eventIds: number[], askBack: boolean, answer: (answer: { from: string; presence: Presence[] }) => void) => {
        const open = eventIds.filter((eventId) => this.rooms.has(eventId));
        answer({ from: this.processId, presence: open.flatMap((eventId) => this.presenceHere(eventId)) });
        if (askBack) this.resyncPresence(open, false);
      }),
    );
    this.nsp.on('processes', guarded((answer: (processId: string) => void) => answer(this.processId)));
    this.nsp.on(
      'feed',
      guarded((notice: PeerNotice) =>
        this.applyNotice(
          notice.kind === 'committed'
            ? { ...notice, change: { ...notice.change, update: notice.change.update === null ? null : fromBase64(notice.change.update) } }
            : notice,
        ),
      ),
    );
  }

  /** Acts on a service notice here and in every other process. */
  private publish(notice: FeedNotice): void {
    this.applyNotice(notice);
    this.toPeers(
      'feed',
      notice.kind === 'committed'
        ? { ...notice, change: { ...notice.change, update: notice.change.update && toBase64(notice.change.update) } }
        : notice,
    );
  }

  private applyNotice(notice: FeedNotice): void {
    if (notice.kind === 'sessionsEnded') return this.closeSessions(notice.sessionIds);
    const eventId = notice.kind === 'committed' ? notice.change.eventId : notice.eventId;
    if (notice.kind !== 'committed') {
      for (const attempt of this.joinsBeingChecked) if (attempt.eventId === eventId) attempt.accessChanged = true;
    }
    const update = notice.kind === 'committed' ? notice.change.update : null;
    const { room, changed } = update ? this.applyAccepted(eventId, update) : { room: this.rooms.get(eventId), changed: null };
    if (!room) return;
    const channel = this.nsp.local.to(room.channel);
    switch (notice.kind) {
      case 'committed': {
        if (changed) this.sendUpdate(room, changed);
        if (notice.change.version) channel.emit('version', { event_id: room.eventId, ...notice.change.version });
        return;
      }
      case 'roleChanged':
        for (const member of room.members.values()) {
          if (member.userId !== notice.userId) continue;
          member.role = notice.role;
          member.socket.emit('permission', { event_id: room.eventId, role: notice.role });
        }
        return;
      case 'accessRemoved':
        // As if the user had left: the others see them go, and the last one out saves the edits.
        for (const member of [...room.members.values()]) {
          if (member.userId !== notice.userId) continue;
          member.socket.emit('removed', { event_id: room.eventId, reason: 'access_revoked' });
          this.leave(member.socket, room.eventId);
        }
        return;
      case 'deleted':
        for (const member of [...room.members.values()]) {
          member.socket.emit('removed', { event_id: room.eventId, reason: 'event_deleted' });
          this.dropMember(member.socket, room.eventId);
        }
        this.unload(room);
        return;
    }
  }

  /**
   * Relays an accepted update to the other processes. A burst of edits costs one adapter message
   * (a NOTIFY with PostgreSQL) per turn of the event loop, not one per edit.
   */
  private relayToPeers(eventId: number, update: Uint8Array): void {
    if (this.peerCount === 0) return;
    if (this.forPeers.size === 0) setImmediate(() => this.flushToPeers());
    const queued = this.forPeers.get(eventId);
    if (queued) queued.push(update);
    else this.forPeers.set(eventId, [update]);
  }

  private flushToPeers(): void {
    if (this.forPeers.size === 0) return;
    const updates = [...this.forPeers].map(([eventId, queued]): [number, string] => [eventId, toBase64(queued.length === 1 ? queued[0] : Y.mergeUpdates(queued))]);
    this.forPeers.clear();
    this.toPeers('doc-updates', updates);
  }

  /**
   * Alone, a process relays no updates or presence: it would publish every keystroke for no
   * one. When the count of other processes rises, a newcomer may lack what went unrelayed, so
   * every open document is synced with the others, and they are told who is here.
   */
  private async countPeers(): Promise<void> {
    let count: number;
    try {
      count = (await this.nsp.adapter.serverCount()) - 1;
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not count the other processes');
      return;
    }
    const grew = count > this.peerCount;
    const shrank = count < this.peerCount;
    this.peerCount = count;
    if (grew) {
      this.syncWithPeers();
      this.resyncPresence();
    }
    if (shrank || Date.now() - this.lastPresenceCheck >= this.options.presenceCheckMs) this.withdrawGonePeers();
  }

  /** Asks the others for what the rooms (every open one by default) lack, or answers their asking. */
  private syncWithPeers(rooms = [...this.rooms.values()], answer = false): void {
    for (const batch of batchesOf(rooms)) {
      this.toPeers('doc-sync', batch.map((room): [number, string] => [room.eventId, toBase64(room.stateVector())]), answer);
    }
  }

  /**
   * Closes the sockets of sessions that ended without this process hearing of it: the notice came
   * while a socket's authentication was still running, or while this process was reconnecting to
   * the others. Without this, such a socket would stay open until its access token expired.
   */
  private async sweepEndedSessions(): Promise<void> {
    const sessionIds = [...new Set([...this.nsp.sockets.values()].map((socket) => socket.data.caller.sessionId))];
    if (!sessionIds.length) return;
    try {
      const live = await this.deps.services.auth.liveSessions(sessionIds);
      this.closeSessions(sessionIds.filter((sessionId) => !live.has(sessionId)));
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not check the sessions of open sockets');
    }
  }

  /** Closes the sockets of ended sessions at once, rather than when their access tokens expire. */
  private closeSessions(sessionIds: string[]): void {
    const ended = new Set(sessionIds);
    for (const socket of this.nsp.sockets.values()) {
      if (!ended.has(socket.data.caller.sessionId)) continue;
      socket.emit('error', { code: 'unauthorized', message: 'Session has ended; log in again' });
      socket.disconnect(true);
    }
  }

  private toPeers<E extends keyof PeerEvents>(event: E, ...args: Parameters<PeerEvents[E]>): void {
    if (this.closing || !this.deps.cluster) return;
    (this.nsp.serverSideEmit as (event: E, ...args: Parameters<PeerEvents[E]>) => boolean)(event, ...args);
  }

  /**
   * Asks every other process and hands over all the answers, or after 5 s (the adapter's limit) an
   * error with those that came (the adapters pass them along with a timeout, though their types do
   * not promise it).
   */
  private askPeers<A>(event: 'presence' | 'processes', args: unknown[], answered: (err: Error | null, answers: A[]) => void): void {
    if (this.closing || !this.deps.cluster) return answered(null, []);
    (this.nsp.serverSideEmit as (event: string, ...args: unknown[]) => boolean)(event, ...args, (err: Error | null, answers?: A[]) => answered(err, answers ?? []));
  }
}

/** Left or gone while the join was checked: the leave or 'disconnect' found it in no room, so it must not enter one. */
function throwIfCancelled(attempt: JoinAttempt): void {
  if (attempt.cancelled || attempt.socket.disconnected) throw new AppError(409, 'join_cancelled', 'The join was cancelled by a leave or a disconnect');
}

function connectError(err: AppError): Error & { data?: unknown } {
  return Object.assign(new Error(err.message), { data: { code: err.code } });
}

function toCollabError(thrown: unknown, logger: Logger): CollabError {
  const err = isUnreachable(thrown) ? new ServiceUnavailable() : thrown;
  if (err instanceof AppError) return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  logger.error({ err }, 'collab request failed');
  return { code: 'internal_error', message: 'Internal server error' };
}

function eventIdOf(payload: unknown): { event_id?: number } {
  const eventId = (payload as { event_id?: unknown } | null)?.event_id;
  return typeof eventId === 'number' ? { event_id: eventId } : {};
}

/** A socket's presence in an event, as the others get it. */
function presenceOf(socket: { id: string; data: Pick<SocketData, 'caller'> }, eventId: number, state: Record<string, unknown> | null): Presence {
  return { event_id: eventId, user: { id: socket.data.caller.id, username: socket.data.caller.username }, connection: socket.id, state };
}

function* batchesOf<T>(items: T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += SYNC_BATCH) yield items.slice(start, start + SYNC_BATCH);
}

function toBase64(update: Uint8Array): string {
  return Buffer.from(update.buffer, update.byteOffset, update.byteLength).toString('base64');
}

function fromBase64(encoded: string): Uint8Array {
  if (typeof encoded !== 'string') throw new Error(`expected a base64 update from a peer, got ${typeof encoded}`);
  return new Uint8Array(Buffer.from(encoded, 'base64'));
}
