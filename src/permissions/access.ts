import type { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '../db/entities';
import { Forbidden, NotFound } from '../http/errors';

const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };
const WHO: Record<Role, string> = { viewer: 'people with access', editor: 'editors and the owner', owner: 'the owner' };

export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** What the caller may do with an event, and the event's current version. */
export interface Access {
  role: Role;
  version: number;
}

/**
 * The caller's access to the event, if their role is at least `minimum`. An event the caller
 * cannot see is "not found" whether or not it exists; one it can see but not act on is
 * "forbidden". Every request on an event and every live join runs this, so it is one plain query
 * (in `em`'s transaction, if any) rather than an ORM load of the permission.
 */
export async function authorize(em: EntityManager, eventId: number, userId: number, minimum: Role, action: string): Promise<Access> {
  const [access] = await em.execute<Access[]>(
    `select p.role, e.version from event_permission p join "event" e on e.id = p.event_id
     where p.event_id = ? and p.user_id = ?`,
    [eventId, userId],
  );
  if (!access) throw new NotFound('Event not found');
  if (!hasRole(access.role, minimum)) throw new Forbidden(`Only ${WHO[minimum]} can ${action}`);
  return access;
}
