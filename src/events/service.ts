import { LockMode, type EntityManager, type FilterQuery } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CalendarEvent, EventChangeLog, EventPermission, EventVersion, User, type Role } from '../db/entities';
import { escapeLike } from '../db/like';
import { NotFound, PreconditionFailed } from '../http/errors';
import { authorize } from '../permissions/access';
import { applySnapshot, changedFields, snapshotOf, type EventSnapshot, type FieldChange } from './fields';
import { assertValidEvent } from './rules';
import type { CreateEventInput, ListEventsInput } from './schemas';

export interface EventWithRole {
  event: CalendarEvent;
  role: Role;
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

export interface ChangeResult extends EventWithRole {
  /** The version the change made, or null when it changed nothing. */
  version: EventVersion | null;
  changes: FieldChange[];
}

export class EventsService {
  constructor(private readonly orm: MikroORM) {}

  private get em(): EntityManager {
    return this.orm.em;
  }

  /** A new event, its owner permission and version 1, all or nothing. */
  async create(actorId: number, input: CreateEventInput): Promise<EventWithRole> {
    const state: EventSnapshot = { ...input };
    assertValidEvent(state);
    return this.em.transactional(async (tx) => {
      const owner = tx.getReference(User, actorId);
      const event = new CalendarEvent();
      event.owner = owner;
      applySnapshot(event, state);
      tx.persist(event);
      tx.create(EventPermission, { event, user: owner, role: 'owner' });
      recordVersion(tx, event, actorId, changedFields(null, state), 'Created');
      return { event, role: 'owner' as const };
    });
  }

  async get(actorId: number, eventId: number): Promise<EventWithRole> {
    const permission = await this.em.findOne(EventPermission, { event: eventId, user: actorId }, { populate: ['event'] });
    if (!permission) throw new NotFound('Event not found');
    return { event: permission.event, role: permission.role };
  }

  /** The caller's events, by start time; filters combine. */
  async list(actorId: number, query: ListEventsInput): Promise<{ items: EventWithRole[]; total: number }> {
    const event: FilterQuery<CalendarEvent> = {};
    if (query.start) event.endTime = { $gt: new Date(query.start) };
    if (query.end) event.startTime = { $lt: new Date(query.end) };
    if (query.q) {
      const pattern = `%${escapeLike(query.q)}%`;
      event.$or = [{ title: { $ilike: pattern } }, { description: { $ilike: pattern } }];
    }
    const [permissions, total] = await this.em.findAndCount(
      EventPermission,
      { user: actorId, ...(query.role ? { role: query.role } : {}), event },
      { populate: ['event'], orderBy: { event: { startTime: 'asc', id: 'asc' } }, limit: query.limit, offset: query.offset },
    );
    return { items: permissions.map((permission) => ({ event: permission.event, role: permission.role })), total };
  }

  /**
   * The one write path for an existing event: REST updates, rollbacks and (later) live edits all
   * end here. In one transaction it locks the event row, so concurrent writers queue and none is
   * lost, merges the patch, checks the rules, and appends version n+1 with a changelog row per
   * changed field. A change that changes nothing writes nothing.
   */
  async change(request: ChangeRequest): Promise<ChangeResult> {
    return this.em.transactional(async (tx) => {
      const event = await tx.findOne(CalendarEvent, request.eventId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!event) throw new NotFound('Event not found');
      const role = await authorize(tx, event.id, request.actorId, 'editor', 'edit this event');
      assertVersion(event, request.ifMatch);

      const before = snapshotOf(event);
      const after = mergePatch(before, request.patch);
      assertValidEvent(after);
      const changes = changedFields(before, after);
      if (changes.length === 0) return { event, role, version: null, changes };

      applySnapshot(event, after);
      event.version += 1;
      const version = recordVersion(tx, event, request.actorId, changes, request.description ?? null);
      return { event, role, version, changes };
    });
  }

  /** Deletes the event with its permissions, versions and changelog (owner only). */
  async delete(actorId: number, eventId: number, ifMatch?: number[]): Promise<void> {
    await this.em.transactional(async (tx) => {
      const event = await tx.findOne(CalendarEvent, eventId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!event) throw new NotFound('Event not found');
      await authorize(tx, event.id, actorId, 'owner', 'delete this event');
      assertVersion(event, ifMatch);
      // The foreign keys cascade to permissions, versions and changelog rows.
      await tx.nativeDelete(CalendarEvent, { id: event.id });
    });
  }
}

function assertVersion(event: CalendarEvent, ifMatch: number[] | undefined): void {
  if (ifMatch && !ifMatch.includes(event.version)) {
    throw new PreconditionFailed(`The event has changed: it is now at version ${event.version}`, { current_version: event.version });
  }
}

function mergePatch(before: EventSnapshot, patch: Partial<EventSnapshot>): EventSnapshot {
  const after = { ...before };
  for (const [field, value] of Object.entries(patch) as [keyof EventSnapshot, never][]) {
    if (value !== undefined) after[field] = value;
  }
  // Turning recurrence off needs no second field to say the rule goes too.
  if (patch.is_recurring === false && patch.recurrence_pattern === undefined) after.recurrence_pattern = null;
  return after;
}

/** Appends the event's current state as a version, with one changelog row per changed field. */
function recordVersion(tx: EntityManager, event: CalendarEvent, actorId: number, changes: FieldChange[], description: string | null): EventVersion {
  const author = tx.getReference(User, actorId);
  const version = tx.create(EventVersion, {
    event,
    versionNumber: event.version,
    data: snapshotOf(event),
    createdBy: author,
    changeDescription: description,
  });
  for (const change of changes) {
    tx.create(EventChangeLog, {
      event,
      version,
      fieldName: change.field,
      oldValue: change.old_value,
      newValue: change.new_value,
      createdBy: author,
    });
  }
  return version;
}
