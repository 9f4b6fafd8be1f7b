import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { EventPermission, User, type Role } from '../db/entities';
import { Conflict, NotFound, ValidationFailed } from '../http/errors';
import type { EventFeed } from '../events/feed';
import { lockEvent } from '../events/lock';
import { BatchedLookup } from '../db/batched-lookup';
import { accessKey, assertAccess, authorize, findAccess, type Access } from './access';

export interface Grant {
  userId: number;
  role: 'editor' | 'viewer';
}

const ROLE_ORDER: Record<Role, number> = { owner: 0, editor: 1, viewer: 2 };

/**
 * Sharing, role changes and ownership transfer. Each write locks the event row, like the event
 * write path does, so a role change and an edit by that role are never interleaved.
 */
export class PermissionsService {
  /** Every live join asks: joins that arrive together (a reconnect storm) share queries. */
  private readonly accessLookup = new BatchedLookup((keys: string[]) => findAccess(this.orm.em, keys));

  constructor(
    private readonly orm: MikroORM,
    private readonly feed: EventFeed,
  ) {}

  private get em(): EntityManager {
    return this.orm.em;
  }

  /** The caller's access to the event, to join it live: any role will do. */
  async access(actorId: number, eventId: number): Promise<Access> {
    return assertAccess(await this.accessLookup.load(accessKey(eventId, actorId)), 'viewer', 'join this event');
  }

  /** Everyone with access, owner first, then editors and viewers by username. */
  async list(actorId: number, eventId: number): Promise<EventPermission[]> {
    await authorize(this.em, eventId, actorId, 'viewer', 'see who has access');
    return this.allOf(this.em, eventId);
  }

  /** Gives each user the role, or changes the role of those who have access already (owner only). */
  async share(actorId: number, eventId: number, grants: Grant[]): Promise<EventPermission[]> {
    const shared = await this.em.transactional(async (tx) => {
      const event = await lockEvent(tx, eventId, 'for no key update');
      await authorize(tx, eventId, actorId, 'owner', 'share this event');
      const selfIndex = grants.findIndex((grant) => grant.userId === actorId);
      if (selfIndex >= 0) {
        const path = grants.length === 1 ? 'body.user_id' : `body.users.${selfIndex}.user_id`;
        throw new ValidationFailed([{ path, message: 'you cannot share an event with yourself' }]);
      }

      const ids = grants.map((grant) => grant.userId);
      const users = await tx.find(User, { id: { $in: ids }, isActive: true });
      const missing = ids.filter((id) => !users.some((user) => user.id === id));
      if (missing.length) throw new NotFound(`No such user: ${missing.join(', ')}`, { user_ids: missing });

      const existing = await tx.find(EventPermission, { event, user: { $in: ids } });
      return grants.map((grant) => {
        const permission =
          existing.find((row) => row.user.id === grant.userId) ??
          tx.create(EventPermission, { event, user: users.find((user) => user.id === grant.userId)!, role: grant.role });
        permission.role = grant.role;
        return permission;
      });
    });
    for (const grant of grants) this.feed.emit('roleChanged', { eventId, userId: grant.userId, role: grant.role });
    return shared;
  }

  /** Changes a role; `owner` transfers ownership and makes the old owner an editor (owner only). */
  async setRole(actorId: number, eventId: number, userId: number, role: Role): Promise<EventPermission> {
    const changed: { userId: number; role: Role }[] = [];
    const target = await this.em.transactional(async (tx) => {
      const event = await lockEvent(tx, eventId, 'for no key update');
      await authorize(tx, eventId, actorId, 'owner', 'change roles');
      const target = await this.permissionOf(tx, eventId, userId);
      if (target.role === role) return target;
      if (target.role === 'owner') {
        throw new Conflict('The owner stays owner until they transfer ownership to someone else');
      }
      if (role === 'owner') {
        const current = await tx.findOneOrFail(EventPermission, { event: eventId, role: 'owner' });
        current.role = 'editor';
        event.owner = target.user;
        changed.push({ userId: current.user.id, role: 'editor' });
      }
      target.role = role;
      changed.push({ userId, role });
      return target;
    });
    for (const change of changed) this.feed.emit('roleChanged', { eventId, ...change });
    return target;
  }

  /** Takes a user's access away: the owner may remove anyone else, anyone may remove themselves. */
  async remove(actorId: number, eventId: number, userId: number): Promise<void> {
    await this.em.transactional(async (tx) => {
      await lockEvent(tx, eventId, 'for no key update');
      if (userId === actorId) await authorize(tx, eventId, actorId, 'viewer', 'leave this event');
      else await authorize(tx, eventId, actorId, 'owner', "remove other people's access");
      const target = await this.permissionOf(tx, eventId, userId);
      if (target.role === 'owner') throw new Conflict('The owner cannot be removed; transfer ownership first');
      tx.remove(target);
    });
    this.feed.emit('accessRemoved', { eventId, userId });
  }

  private async allOf(em: EntityManager, eventId: number): Promise<EventPermission[]> {
    const permissions = await em.find(EventPermission, { event: eventId }, { populate: ['user'] });
    return permissions.sort(
      (a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.user.username.localeCompare(b.user.username),
    );
  }

  private async permissionOf(tx: EntityManager, eventId: number, userId: number): Promise<EventPermission> {
    const permission = await tx.findOne(EventPermission, { event: eventId, user: userId }, { populate: ['user'] });
    if (!permission) throw new NotFound('That user has no access to this event');
    return permission;
  }
}
