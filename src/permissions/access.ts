import type { EntityManager } from '@mikro-orm/postgresql';
import type { Row, Statement } from '../db/batch';
import type { Role } from '../db/entities';
import { Forbidden, NotFound } from '../http/errors';

const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };
const WHO: Record<Role, string> = { viewer: 'people with access', editor: 'editors and the owner', owner: 'the owner' };

export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** What a user may do with an event, and the event's current version. */
export interface Access {
  role: Role;
  version: number;
}

/** One user's access to one event, as lookups of many at a time name it. */
export function accessKey(eventId: number, userId: number): string {
  return `${eventId}:${userId}`;
}

/**
 * The access named by each key, for those that exist; in `em`'s transaction, if any. Every request
 * on an event and every live join asks, so it is plain SQL rather than an ORM load of permissions.
 */
export async function findAccess(em: EntityManager, keys: string[]): Promise<Map<string, Access>> {
  const { sql, params } = accessStatement(keys);
  return accessByKey(await em.execute(sql, params));
}

/** The statement findAccess runs, for a transaction that sends it with others; accessByKey reads its rows. */
export function accessStatement(keys: string[]): Statement {
  const wanted = keys.map((key) => key.split(':').map(Number));
  return {
    sql: `select p.event_id, p.user_id, p.role, e.version from event_permission p join "event" e on e.id = p.event_id
          where (p.event_id, p.user_id) in (${wanted.map(() => '(?, ?)').join(', ')})`,
    params: wanted.flat(),
  };
}

export function accessByKey(rows: Row[]): Map<string, Access> {
  return new Map(rows.map((row) => [accessKey(row.event_id as number, row.user_id as number), { role: row.role as Role, version: row.version as number }]));
}

/**
 * The access a user needs for an action: at least `minimum`. An event the user cannot see is
 * "not found" whether or not it exists; one they can see but not act on is "forbidden".
 */
export function assertAccess(access: Access | undefined, minimum: Role, action: string): Access {
  if (!access) throw new NotFound('Event not found');
  if (!hasRole(access.role, minimum)) throw new Forbidden(`Only ${WHO[minimum]} can ${action}`);
  return access;
}

/** The user's access to the event, if it allows the action (see `assertAccess`). */
export async function authorize(em: EntityManager, eventId: number, userId: number, minimum: Role, action: string): Promise<Access> {
  const key = accessKey(eventId, userId);
  return assertAccess((await findAccess(em, [key])).get(key), minimum, action);
}
