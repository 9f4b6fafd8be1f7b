import type { EntityManager } from '@mikro-orm/core';
import { EventPermission, type Role } from '../db/entities';
import { Forbidden, NotFound } from '../http/errors';

const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };
const WHO: Record<Role, string> = { viewer: 'people with access', editor: 'editors and the owner', owner: 'the owner' };

export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/**
 * The caller's role on the event, if it is at least `minimum`. An event the caller cannot see is
 * "not found" whether or not it exists; one it can see but not act on is "forbidden".
 */
export async function authorize(em: EntityManager, eventId: number, userId: number, minimum: Role, action: string): Promise<Role> {
  const permission = await em.findOne(EventPermission, { event: eventId, user: userId }, { fields: ['role'] });
  if (!permission) throw new NotFound('Event not found');
  if (!hasRole(permission.role, minimum)) throw new Forbidden(`Only ${WHO[minimum]} can ${action}`);
  return permission.role;
}
