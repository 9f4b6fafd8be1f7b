import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import * as Y from 'yjs';
import { CalendarEvent, EventDocument, EventPermission, EventVersion, User, type Role } from '../db/entities';
import { BatchedTransaction, type Row, type Statement } from '../db/batch';
import { escapeLike } from '../db/like';
import { applyPatch, applyTracked, captureUpdate, createDocument, loadDocument, readEvent, repairFrom, TEXT_FIELDS } from '../documents/mapping';
import type { DocumentStore } from '../documents/store';
import { AppError, NotFound, PreconditionFailed } from '../http/errors';
import { RateLimiter, type Rate } from '../http/rate-limit';
import { accessByKey, accessKey, accessStatement, assertAccess, authorize } from '../permissions/access';
import type { EventFeed, VersionNotice } from './feed';
import { lockEvent, lockStatement } from './lock';
import { applySnapshot, changedFields, snapshotOf, type EventField, type EventRow, type EventSnapshot } from './fields';
import { changedEvent, recordChangeStatement, recordVersionStatement } from './history';
import { assertValidEvent } from './rules';
import { Expander, type ExpandedOccurrence } from './occurrences';
import { seriesPattern } from './recurrence';
import { MAX_OCCURRENCES, type ConflictsInput, type CreateEventInput, type EventFiltersInput, type ListEventsInput, type OccurrencesInput } from './schemas';
import { overlappingPairs } from './conflicts';

export interface EventWithRole {
  event: CalendarEvent;
  role: Role;
}

export interface EventOccurrence extends EventWithRole, ExpandedOccurrence {}

/** An event to insert: its fields, and the UID of the iCalendar event it comes from, if any. */
interface NewEvent {
  fields: EventSnapshot;
  icalUid?: string | null;
}

export interface ImportedEvent extends NewEvent {
  icalUid: string | null;
}

export interface ChangeRequest {
  eventId: number;
  actorId: number;
  /** The fields to set; the others keep their values. */
  patch: Partial<EventSnapshot>;
  description?: string | null;
  /** From If-Match: refuse the change unless the event is at one of these versions. */
  ifMatch?: number[];
}

export interface CheckpointRequest {
  eventId: number;
  /** Who asked, checked for editor rights; none for the hub's own timers. */
  actorId?: number;
  description?: string | null;
}

interface CommitResult {
  /** The event's row as stored after the commit, for a REST response to map into an entity. */
  event: Row;
  role: Role | null;
  /** The number of the version the commit made, or null when it changed nothing. */
  version: number | null;
  notice: VersionNotice | null;
  update: Uint8Array | null;
}

interface CommitInput {
  eventId: number;
  actor?: { id: number; minimumRole: Role; action: string };
  /** The fields to set, or a function that says them given the event as locked. */
  patch?: Partial<EventSnapshot> | ((event: CalendarEvent) => Partial<EventSnapshot>);
  description: string | null;
  ifMatch?: number[];
}

/** A commit worked out from what its reads returned: the statements to send, and what they make. */
interface PlannedCommit {
  writes: Statement[];
  /** The commit's result, from the rows its writes returned. */
  result(written: Row[][]): CommitResult;
}

/** What importing gave an event the caller had already: the change, or the error that refused it. */
export interface RepeatedImport {
  draft: ImportedEvent;
  eventId: number;
  outcome: ChangeResult | AppError;
}

export interface ChangeResult extends EventWithRole {
  /** The number of the version the change made, or null when it changed nothing. */
  version: number | null;
}

export class EventsService {
  /** The time each user may spend expanding rules, in milliseconds. */
  private readonly expansionTime: RateLimiter<number>;

  constructor(
    private readonly orm: MikroORM,
    private readonly documents: DocumentStore,
    private readonly feed: EventFeed,
    expansionRate: Rate,
  ) {
    this.expansionTime = new RateLimiter(expansionRate, 'milliseconds of recurrence expansion');
  }

  private get em(): EntityManager {
    return this.orm.em;
  }

  /** A new event, its owner permission, its document and version 1, all or nothing. */
  async create(actorId: number, input: CreateEventInput): Promise<EventWithRole> {
    const [created] = await this.createMany(actorId, [input]);
    return created;
  }

  /**
   * New events, each as `create` makes it, in one transaction: all or none. A batch request's
   * problems are reported under `body.events.<index>`.
   */
  async createMany(actorId: number, inputs: CreateEventInput[], { batch = false } = {}): Promise<EventWithRole[]> {
    inputs.forEach((input, index) => assertValidEvent(input, batch ? `body.events.${index}` : 'body'));
    return this.em.transactional((tx) => insertEvents(tx, actorId, inputs.map((fields) => ({ fields })), 'Created'));
  }

  /**
   * Events read from an iCalendar file, all in one transaction. One the caller already has by its
   * UID (an earlier import gave an event that UID, or `idOfUid` says it is one of this server's, in
   * a file this server exported), their own or shared with them, is not made again: it takes the
   * file's fields through the write path, as any edit would (a viewer's is refused, and listed).
   * `fileChanges` says which of them differ from the event as locked.
   */
  async importMany(
    actorId: number,
    drafts: ImportedEvent[],
    idOfUid: (uid: string) => number | null,
    fileChanges: (event: CalendarEvent, fields: EventSnapshot) => Partial<EventSnapshot>,
  ): Promise<{ created: EventWithRole[]; repeated: RepeatedImport[] }> {
    drafts.forEach(({ fields }) => assertValidEvent(fields));
    const commits: { eventId: number; result: CommitResult }[] = [];
    const imported = await this.em.transactional(async (tx) => {
      // Two imports of one file at once would each find the other's events missing.
      await tx.execute('select pg_advisory_xact_lock(?, ?)', [IMPORT_LOCK, actorId]);
      const again = await knownEvents(tx, actorId, drafts, idOfUid);
      const created = await insertEvents(tx, actorId, drafts.filter((draft) => !again.has(draft)), 'Imported');
      const repeated: RepeatedImport[] = [];
      const changing: { draft: ImportedEvent; eventId: number }[] = [];
      for (const [draft, { event, role }] of again) {
        try {
          // The same as read is left alone, with no lock or write: a change made since comes after
          // this import. One that differs is compared again once locked.
          if (Object.keys(fileChanges(event, draft.fields)).length) changing.push({ draft, eventId: event.id });
          else repeated.push({ draft, eventId: event.id, outcome: { event, role, version: null } });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          repeated.push({ draft, eventId: event.id, outcome: err });
        }
      }
      // Locked in the order of the events' ids, as every import locks them: two importers of shared
      // events then queue rather than each hold a lock the other waits for.
      changing.sort((a, b) => a.eventId - b.eventId);
      const inputs = changing.map(({ draft, eventId }) => ({ eventId, actor: editorOf(actorId), patch: (locked: CalendarEvent) => fileChanges(locked, draft.fields), description: 'Imported' }));
      const outcomes = await BatchedTransaction.within(tx, (batch) => this.commitAllIn(batch, inputs));
      outcomes.forEach((outcome, index) => {
        const { draft, eventId } = changing[index];
        // One refused (a rule the merged event would break, a viewer's copy) wrote nothing; the rest go on.
        if (outcome instanceof AppError) return repeated.push({ draft, eventId, outcome });
        commits.push({ eventId, result: outcome });
        return repeated.push({ draft, eventId, outcome: this.changeResult(outcome) });
      });
      return { created, repeated };
    });
    for (const { eventId, result } of commits) this.announce(eventId, result);
    return imported;
  }

  async get(actorId: number, eventId: number): Promise<EventWithRole> {
    const permission = await this.em.findOne(EventPermission, { event: eventId, user: actorId }, { populate: ['event'] });
    if (!permission) throw new NotFound('Event not found');
    return withRole(permission);
  }

  /**
   * The event as it was at `at`: the fields of its latest version made by then, with that
   * version's number (NotFound if it did not exist yet). Whoever may read it now may read its past.
   */
  async asOf(actorId: number, eventId: number, at: Date): Promise<EventWithRole> {
    const { event, role } = await this.get(actorId, eventId);
    const version = await this.em.findOne(EventVersion, { event: eventId, createdAt: { $lte: at } }, { orderBy: { versionNumber: 'desc' } });
    if (!version) throw new NotFound(`Event ${eventId} did not exist yet at ${at.toISOString()}`);
    // A copy, not managed: the event itself stays as it is.
    const past = Object.assign(new CalendarEvent(), { id: event.id, owner: event.owner, createdAt: event.createdAt, updatedAt: version.createdAt, version: version.versionNumber });
    applySnapshot(past, version.data);
    return { event: past, role };
  }

  /** The caller's events, by start time; filters combine. */
  async list(actorId: number, query: ListEventsInput): Promise<{ items: EventWithRole[]; total: number }> {
    const [permissions, total] = await this.em.findAndCount(EventPermission, visibleTo(actorId, query), {
      populate: ['event'],
      orderBy: BY_START,
      limit: query.limit,
      offset: query.offset,
    });
    return { items: permissions.map(withRole), total };
  }

  /** Every one of the caller's events that matches the filters, by start time. */
  async all(actorId: number, filters: EventFiltersInput): Promise<EventWithRole[]> {
    const permissions = await this.em.find(EventPermission, visibleTo(actorId, filters), { populate: ['event'], orderBy: BY_START });
    return permissions.map(withRole);
  }

  /**
   * The occurrences of the caller's events that overlap the window, by start time: a recurring
   * event's expanded from its rule, any other event's once.
   */
  async occurrences(actorId: number, query: OccurrencesInput): Promise<{ items: EventOccurrence[]; truncated: boolean; unexpanded: number[] }> {
    const window = { start: new Date(query.start), end: new Date(query.end) };
    const expander = this.expanderFor(actorId);
    const items: EventOccurrence[] = [];
    const unexpanded: number[] = [];
    // Every series, as any may have occurrences early in the window; of the events that happen
    // once, only as many as could be listed. One more than the limit tells whether the list was cut.
    const series = await this.em.find(EventPermission, visibleTo(actorId, { ...query, isRecurring: true }), { populate: ['event'] });
    const once = await this.em.find(EventPermission, visibleTo(actorId, { ...query, isRecurring: false }), { populate: ['event'], orderBy: BY_START, limit: query.limit + 1 });
    for (const { event, role } of [...series, ...once].map(withRole)) {
      const occurrences = expander.occurrencesIn({ start: event.startTime, end: event.endTime, pattern: seriesPattern(event) }, window, query.limit + 1);
      if (occurrences) items.push(...occurrences.map((occurrence) => ({ ...occurrence, event, role })));
      else unexpanded.push(event.id);
    }
    items.sort((a, b) => a.start.getTime() - b.start.getTime() || a.event.id - b.event.id);
    return { items: items.slice(0, query.limit), truncated: items.length > query.limit, unexpanded: unexpanded.sort((a, b) => a - b) };
  }

  /**
   * The caller's occurrences in the window that overlap one of another event: double bookings,
   * by the later one's start. Looks at the first MAX_OCCURRENCES occurrences of the window.
   */
  async conflicts(actorId: number, query: ConflictsInput): Promise<{ pairs: [EventOccurrence, EventOccurrence][]; truncated: boolean; unexpanded: number[] }> {
    const { items, truncated, unexpanded } = await this.occurrences(actorId, { start: query.start, end: query.end, limit: MAX_OCCURRENCES });
    const { pairs, truncated: morePairs } = overlappingPairs(items, query.limit);
    return { pairs, truncated: truncated || morePairs, unexpanded };
  }

  /**
   * Expands rules for one request of the user's, on the time they have left: a rule that never
   * matches takes the whole of a rule's budget each time it is asked for, and the user chooses
   * the rules. TooManyRequests when none is left.
   */
  expanderFor(userId: number): Expander {
    const time = this.expansionTime.bucketOf(userId);
    time.ensureAvailable();
    return new Expander(time);
  }

  /** A REST update or a rollback: the patch becomes an edit of the event's document. */
  async change(request: ChangeRequest): Promise<ChangeResult> {
    const patch = { ...request.patch };
    // Turning recurrence off needs no second field to say the rule goes too.
    if (patch.is_recurring === false && patch.recurrence_pattern === undefined) patch.recurrence_pattern = null;
    const result = await this.commit({
      eventId: request.eventId,
      actor: editorOf(request.actorId),
      patch,
      description: request.description ?? null,
      ifMatch: request.ifMatch,
    });
    return this.changeResult(result);
  }

  /** Folds the live edits made since the last version into a new one (if they changed a field). */
  async checkpoint(request: CheckpointRequest): Promise<number | null> {
    const actor = request.actorId === undefined ? undefined : { id: request.actorId, minimumRole: 'editor' as const, action: 'save a version' };
    const result = await this.commit({ eventId: request.eventId, actor, description: request.description ?? null });
    return result.version;
  }

  /** Deletes the event with its permissions, document, versions and changelog (owner only). */
  async delete(actorId: number, eventId: number, ifMatch?: number[]): Promise<void> {
    await this.em.transactional(async (tx) => {
      const event = await lockEvent(tx, eventId, 'for update');
      await authorize(tx, event.id, actorId, 'owner', 'delete this event');
      assertVersion(event, ifMatch);
      // The foreign keys cascade to everything that belongs to the event.
      await tx.nativeDelete(CalendarEvent, { id: event.id });
    });
    this.feed.emit('deleted', { eventId });
  }

  /**
   * The one write path after creation: REST updates, rollbacks and live checkpoints all end
   * here. In one transaction it locks the event row, so writers queue and none is lost; rebuilds
   * the document from its state and the live edits since; applies the patch, if any, as an edit;
   * checks the result with the REST rules; and, if a field changed, appends version n+1 with a
   * changelog row per changed field naming who last changed it. The document's new state is
   * stored and the folded edits deleted in the same transaction.
   *
   * Live checkpoints come every few seconds per room being typed into, so this takes two round
   * trips to the database: the lock with the reads (the caller's access, the document), then every
   * write with the commit (see BatchedTransaction, and history.ts for the writes).
   */
  private async commit(input: CommitInput): Promise<CommitResult> {
    const [outcome] = await BatchedTransaction.run(this.orm, (tx) => this.commitAllIn(tx, [input]));
    if (outcome instanceof AppError) throw outcome;
    this.announce(input.eventId, outcome);
    return outcome;
  }

  /**
   * Commits in a transaction: every one's lock and reads in one round trip, in the order given,
   * then every write in another. Each outcome is the commit's result, or the AppError that refused
   * it before it wrote anything (the others go on). The caller announces the results once the
   * transaction has committed.
   */
  private async commitAllIn(tx: BatchedTransaction, inputs: CommitInput[]): Promise<(CommitResult | AppError)[]> {
    const reads = inputs.map((input) => this.commitReads(input));
    const rows = await tx.send(reads.flat());
    let read = 0;
    const plans = inputs.map((input, index) => {
      const own = rows.slice(read, (read += reads[index].length));
      try {
        return this.planCommit(input, own);
      } catch (err) {
        if (err instanceof AppError) return err;
        throw err;
      }
    });
    const written = await tx.send(plans.flatMap((plan) => (plan instanceof AppError ? [] : plan.writes)), { commit: true });
    let wrote = 0;
    return plans.map((plan) => (plan instanceof AppError ? plan : plan.result(written.slice(wrote, (wrote += plan.writes.length)))));
  }

  /** A commit's lock and reads: the event row, its document, and the caller's access. */
  private commitReads(input: CommitInput): Statement[] {
    return [
      lockStatement(input.eventId, 'for no key update'),
      this.documents.readStatement(input.eventId),
      ...(input.actor ? [accessStatement([accessKey(input.eventId, input.actor.id)])] : []),
    ];
  }

  /** What a commit writes, worked out from what its reads returned; throws an AppError that refuses it. */
  private planCommit(input: CommitInput, [locked, documentRows, accessRows = []]: Row[][]): PlannedCommit {
    const { documents } = this;
    if (!locked.length) throw new NotFound('Event not found');
    const event = this.eventRow(locked[0]);
    const role = input.actor ? assertAccess(accessByKey(accessRows).get(accessKey(input.eventId, input.actor.id)), input.actor.minimumRole, input.actor.action).role : null;
    assertVersion(event, input.ifMatch);
    const unchanged = (update: Uint8Array | null) => ({ event: locked[0], role, version: null, notice: null, update });
    const patch = typeof input.patch === 'function' ? input.patch(this.em.map(CalendarEvent, locked[0])) : input.patch;
    if (patch && !Object.keys(patch).length) return { writes: [], result: () => unchanged(null) };

    const before = snapshotOf(event);
    const stored = documents.storedDocument(documentRows);
    const state = stored.state ?? Y.encodeStateAsUpdate(createDocument(before));
    const doc = loadDocument(state);
    // Who last touched each field, most recent last.
    const authors = new Map<EventField, number>();
    const credit = (fields: Iterable<EventField>, authorId: number) => {
      for (const field of fields) {
        authors.delete(field);
        authors.set(field, authorId);
      }
    };
    for (const row of stored.updates) credit(applyTracked(doc, row.update), row.authorId);
    // Live edits that different processes accepted at the same moment were each valid where they
    // were checked, yet together they can break a rule (one moved the start past the end another
    // set). The fields at fault go back to this version's values, an edit every copy receives.
    const edits = stored.updates.length ? [repairFrom(doc, loadDocument(state))] : [];
    if (patch && input.actor) {
      edits.push(editDocument(doc, state, patch));
      credit(Object.keys(patch) as EventField[], input.actor.id);
    }
    const made = edits.filter((edit): edit is Uint8Array => edit !== null);
    const update = made.length ? Y.mergeUpdates(made) : null;

    const after = readEvent(doc);
    const changes = changedFields(before, after);
    const saved = () => ({ eventId: event.id, state: Y.encodeStateAsUpdate(doc), foldedUpdateIds: stored.updates.map((row) => row.id) });
    if (!changes.length) {
      const writes = update || stored.updates.length || !stored.state ? [documents.saveStateStatement(saved())] : [];
      return { writes, result: () => unchanged(update) };
    }
    const credited = changes.map((change) => ({ ...change, authorId: authors.get(change.field) ?? input.actor?.id ?? event.owner_id }));
    const versionAuthor = [...authors].reverse().find(([field]) => changes.some((change) => change.field === field))?.[1];
    const authorId = versionAuthor ?? credited[0].authorId;
    const version = event.version + 1;
    return {
      writes: [recordChangeStatement({ eventId: event.id, versionNumber: version, snapshot: after, authorId, changes: credited, description: input.description }, saved())],
      result([written]) {
        const recorded = changedEvent(written);
        const notice = { version_number: version, created_by: { id: authorId, username: recorded.username }, change_description: input.description, changes };
        return { event: recorded.event, role, version, notice, update };
      },
    };
  }

  /** Tells the hub and the version feed what a commit made, once it is committed. */
  private announce(eventId: number, result: CommitResult): void {
    if (result.notice || result.update) this.feed.emit('committed', { eventId, version: result.notice, update: result.update });
  }

  private changeResult(result: CommitResult): ChangeResult {
    return { event: this.em.map(CalendarEvent, result.event), role: result.role!, version: result.version };
  }

  /** The event's row as the ORM's connection returns it, its times (text) parsed as the ORM parses them. */
  private eventRow(row: Row): EventRow {
    const platform = this.orm.em.getPlatform();
    return { ...(row as unknown as EventRow), start_time: platform.parseDate(row.start_time as string), end_time: platform.parseDate(row.end_time as string) };
  }
}

/**
 * Makes the patch an edit of the document and returns it as one Yjs update. Text edits are made
 * against the document as of the current version, which is what the REST client's values
 * replace, so live typing since then merges in rather than being overwritten; plain values are
 * set on the latest document, so the REST write wins over earlier live edits of them.
 */
function editDocument(doc: Y.Doc, versionState: Uint8Array, patch: Partial<EventSnapshot>): Uint8Array | null {
  const textPatch: Partial<EventSnapshot> = {};
  const valuePatch: Partial<EventSnapshot> = {};
  for (const [field, value] of Object.entries(patch)) {
    Object.assign((TEXT_FIELDS as readonly string[]).includes(field) ? textPatch : valuePatch, { [field]: value });
  }
  const versionDoc = loadDocument(versionState);
  const textEdit = captureUpdate(versionDoc, () => applyPatch(versionDoc, textPatch));
  if (textEdit) Y.applyUpdate(doc, textEdit);
  const valueEdit = captureUpdate(doc, () => applyPatch(doc, valuePatch));
  const edits = [textEdit, valueEdit].filter((edit): edit is Uint8Array => edit !== null);
  return edits.length ? Y.mergeUpdates(edits) : null;
}

function assertVersion(event: { version: number }, ifMatch: number[] | undefined): void {
  if (ifMatch && !ifMatch.includes(event.version)) {
    throw new PreconditionFailed(`The event has changed: it is now at version ${event.version}`, { current_version: event.version });
  }
}

const BY_START = { event: { startTime: 'asc', id: 'asc' } } as const;

function editorOf(actorId: number): CommitInput['actor'] {
  return { id: actorId, minimumRole: 'editor', action: 'edit this event' };
}

/** The first key of the advisory lock an import holds on its user (the second is the user's id). */
const IMPORT_LOCK = 0x1ca1;

/**
 * Inserts events, each with its owner permission, document and version 1 (`description`), in the
 * caller's transaction; the events were checked with the event rules before.
 */
async function insertEvents(tx: EntityManager, actorId: number, drafts: NewEvent[], description: string): Promise<EventWithRole[]> {
  const owner = tx.getReference(User, actorId);
  const events = drafts.map(({ fields, icalUid = null }) => {
    const event = new CalendarEvent();
    event.owner = owner;
    event.icalUid = icalUid;
    applySnapshot(event, fields);
    tx.persist(event);
    tx.create(EventPermission, { event, user: owner, role: 'owner' });
    tx.create(EventDocument, { event, state: Buffer.from(Y.encodeStateAsUpdate(createDocument(fields))) });
    return event;
  });
  await tx.flush();
  const versions = events.map((event, index) => {
    const snapshot = drafts[index].fields;
    const changes = changedFields(null, snapshot).map((change) => ({ ...change, authorId: actorId }));
    return recordVersionStatement({ eventId: event.id, versionNumber: event.version, snapshot, authorId: actorId, changes, description });
  });
  await BatchedTransaction.within(tx, (batch) => batch.send(versions));
  return events.map((event) => ({ event, role: 'owner' as const }));
}

/**
 * The events the caller can see, their own or shared with them, that drafts name by UID: the UID
 * an import gave an event, or one of this server's (`idOfUid`). Of two with one UID, the caller's own.
 */
async function knownEvents(tx: EntityManager, actorId: number, drafts: ImportedEvent[], idOfUid: (uid: string) => number | null): Promise<Map<ImportedEvent, EventWithRole>> {
  const uids = drafts.flatMap(({ icalUid }) => (icalUid ? [icalUid] : []));
  if (!uids.length) return new Map();
  const ids = uids.flatMap((uid) => idOfUid(uid) ?? []);
  const named = { $or: [{ icalUid: { $in: uids } }, { id: { $in: ids } }] };
  // Roles sort as declared, the owner's first.
  const known = await tx.find(EventPermission, { user: actorId, event: named }, { populate: ['event'], orderBy: { role: 'asc', event: { id: 'asc' } } });
  const byId = new Map(known.map((permission) => [permission.event.id, withRole(permission)]));
  const byUid = new Map<string, EventWithRole>();
  for (const permission of known) if (permission.event.icalUid && !byUid.has(permission.event.icalUid)) byUid.set(permission.event.icalUid, withRole(permission));
  return new Map(
    drafts.flatMap((draft) => {
      const found = draft.icalUid ? (byUid.get(draft.icalUid) ?? byId.get(idOfUid(draft.icalUid) ?? Number.NaN)) : undefined;
      return found ? [[draft, found] as const] : [];
    }),
  );
}

function withRole(permission: EventPermission): EventWithRole {
  return { event: permission.event, role: permission.role };
}

/**
 * The caller's permissions on events that match the filters. A window keeps an event any of
 * whose occurrences (a moved one too) can start before its end and end after its start.
 */
function visibleTo(actorId: number, filters: { start?: string; end?: string; q?: string; role?: Role; isRecurring?: boolean }): FilterQuery<EventPermission> {
  const event: FilterQuery<CalendarEvent> = filters.isRecurring === undefined ? {} : { isRecurring: filters.isRecurring };
  if (filters.start) event.$and = [{ $or: [{ seriesEnd: null }, { seriesEnd: { $gt: new Date(filters.start) } }] }];
  if (filters.end) event.seriesStart = { $lt: new Date(filters.end) };
  if (filters.q) {
    const pattern = `%${escapeLike(filters.q)}%`;
    event.$or = [{ title: { $ilike: pattern } }, { description: { $ilike: pattern } }];
  }
  return { user: actorId, ...(filters.role ? { role: filters.role } : {}), event };
}
