import { defineRoute, type Route } from '../http/route';
import { errorResponse, EventIdParams } from '../http/schemas';
import { PermissionList, PermissionParams, PermissionResponse, presentPermission, ShareBody, UpdatePermissionBody } from './schemas';
import type { PermissionsService } from './service';

const TAG = 'sharing';
const OWNER_ONLY = errorResponse('Only the owner can do this');
const NOT_FOUND = errorResponse('No such event (or not shared with the caller), or no such user');

export function permissionRoutes(permissions: PermissionsService): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/events/{id}/share',
      tag: TAG,
      summary: 'Share an event (owner)',
      description:
        '`{user_id, role}` answers with that permission; `{users: [...]}` shares with several at once and answers ' +
        'with the full list. Users who already have access get the new role.',
      params: EventIdParams,
      body: ShareBody,
      responses: {
        201: { description: 'The permission, or the full list for `{users}`', schema: PermissionResponse.or(PermissionList) },
        403: OWNER_ONLY,
        404: NOT_FOUND,
      },
      async handler(ctx, { params, body, caller }) {
        const grants = 'users' in body ? body.users : [body];
        const shared = await permissions.share(
          caller.id,
          params.id,
          grants.map((grant) => ({ userId: grant.user_id, role: grant.role })),
        );
        ctx.status = 201;
        ctx.body = 'users' in body ? (await permissions.list(caller.id, params.id)).map(presentPermission) : presentPermission(shared[0]);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events/{id}/permissions',
      tag: TAG,
      summary: 'Who has access',
      params: EventIdParams,
      responses: { 200: { description: 'Owner first, then editors and viewers', schema: PermissionList }, 404: NOT_FOUND },
      async handler(ctx, { params, caller }) {
        ctx.body = (await permissions.list(caller.id, params.id)).map(presentPermission);
      },
    }),
    defineRoute({
      method: 'put',
      path: '/events/{id}/permissions/{user_id}',
      tag: TAG,
      summary: "Change someone's role (owner)",
      description: '`owner` transfers ownership: the old owner becomes an editor.',
      params: PermissionParams,
      body: UpdatePermissionBody,
      responses: {
        200: { description: 'The changed permission', schema: PermissionResponse },
        403: OWNER_ONLY,
        404: NOT_FOUND,
        409: errorResponse("The owner's role changes only by transferring ownership"),
      },
      async handler(ctx, { params, body, caller }) {
        ctx.body = presentPermission(await permissions.setRole(caller.id, params.id, params.user_id, body.role));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/events/{id}/permissions/{user_id}',
      tag: TAG,
      summary: 'Remove access (owner, or yourself)',
      params: PermissionParams,
      responses: {
        204: { description: 'Access removed' },
        403: OWNER_ONLY,
        404: NOT_FOUND,
        409: errorResponse('The owner cannot be removed'),
      },
      async handler(ctx, { params, caller }) {
        await permissions.remove(caller.id, params.id, params.user_id);
        ctx.status = 204;
      },
    }),
  ];
}
