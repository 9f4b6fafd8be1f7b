import { z } from 'zod';
import { ROLES, type EventPermission } from '../db/entities';
import { EventIdParams, Id, PathId } from '../http/schemas';

const ShareRole = z.enum(['editor', 'viewer']).meta({ description: 'Ownership moves only through PUT .../permissions/{user_id}' });

export const ShareOneBody = z.strictObject({ user_id: Id, role: ShareRole }).meta({ id: 'ShareRequest' });

export const ShareManyBody = z
  .strictObject({
    users: z
      .array(ShareOneBody)
      .min(1)
      .max(100)
      .refine((users) => new Set(users.map((user) => user.user_id)).size === users.length, 'must not name a user twice'),
  })
  .meta({ id: 'ShareManyRequest' });

export const ShareBody = z.union([ShareOneBody, ShareManyBody]);

export const UpdatePermissionBody = z.strictObject({
  role: z.enum(ROLES).meta({ description: '"owner" transfers ownership; the old owner becomes an editor' }),
});

export const PermissionParams = EventIdParams.extend({ user_id: PathId.meta({ description: 'User id' }) });

export const PermissionResponse = z
  .object({
    id: z.number().int(),
    event_id: z.number().int(),
    user_id: z.number().int(),
    username: z.string(),
    role: z.enum(ROLES),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Permission' });

export const PermissionList = z.array(PermissionResponse).meta({ id: 'PermissionList' });

export type PermissionResponse = z.infer<typeof PermissionResponse>;

/** Expects `user` loaded, for its username. */
export function presentPermission(permission: EventPermission): PermissionResponse {
  return {
    id: permission.id,
    event_id: permission.event.id,
    user_id: permission.user.id,
    username: permission.user.username,
    role: permission.role,
    created_at: permission.createdAt.toISOString(),
    updated_at: permission.updatedAt.toISOString(),
  };
}
