import { sendEvent } from '../events/routes';
import { EventResponse } from '../events/schemas';
import { ETAG_HEADER, IF_MATCH_HEADER, ifMatchVersions } from '../http/etag';
import { defineRoute, type Route } from '../http/route';
import { errorResponse, EventIdParams } from '../http/schemas';
import {
  ChangelogPage,
  ChangelogQuery,
  DiffParams,
  DiffResponse,
  HistoryResponse,
  presentChangelogEntry,
  presentVersion,
  presentVersionSummary,
  VersionDetail,
  VersionParams,
} from './schemas';
import type { VersionsService } from './service';

const TAG = 'versions';
const NOT_FOUND = errorResponse('No such event (or not shared with the caller), or no such version');

export function versionRoutes(versions: VersionsService): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/events/{id}/history',
      tag: TAG,
      summary: 'All versions, newest first',
      params: EventIdParams,
      responses: { 200: { description: 'Version summaries', schema: HistoryResponse }, 404: NOT_FOUND },
      async handler(ctx, { params, caller }) {
        ctx.body = (await versions.history(caller.id, params.id)).map(presentVersionSummary);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events/{id}/history/{version_number}',
      tag: TAG,
      summary: 'One version with its full snapshot',
      params: VersionParams,
      responses: { 200: { description: 'The version', schema: VersionDetail }, 404: NOT_FOUND },
      async handler(ctx, { params, caller }) {
        ctx.body = presentVersion(await versions.version(caller.id, params.id, params.version_number));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/events/{id}/rollback/{version_number}',
      tag: TAG,
      summary: 'Restore the fields of an old version (editor or owner)',
      description:
        'Writes a NEW version ("Rolled back to version N") with changelog rows for what changed. ' +
        'Rolling back to a state equal to the current one changes nothing and makes no version.',
      params: VersionParams,
      requestHeaders: IF_MATCH_HEADER,
      responses: {
        200: { description: 'The event after the rollback', schema: EventResponse, headers: ETAG_HEADER },
        403: errorResponse('Viewers cannot roll back'),
        404: NOT_FOUND,
        412: errorResponse('If-Match names an older version'),
      },
      async handler(ctx, { params, caller }) {
        sendEvent(ctx, await versions.rollback(caller.id, params.id, params.version_number, ifMatchVersions(ctx)));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events/{id}/changelog',
      tag: TAG,
      summary: 'Field-level changes, oldest first',
      params: EventIdParams,
      query: ChangelogQuery,
      responses: { 200: { description: 'One page of changelog rows', schema: ChangelogPage }, 404: NOT_FOUND },
      async handler(ctx, { params, query, caller }) {
        const { items, total } = await versions.changelog(caller.id, params.id, query);
        ctx.body = { items: items.map(presentChangelogEntry), total, limit: query.limit, offset: query.offset };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events/{id}/diff/{v1}/{v2}',
      tag: TAG,
      summary: 'What changed between two versions',
      description: 'Either order works: the diff goes from v1 to v2. `description` also gets a line or word diff.',
      params: DiffParams,
      responses: { 200: { description: 'The changed fields', schema: DiffResponse }, 404: NOT_FOUND },
      async handler(ctx, { params, caller }) {
        ctx.body = await versions.diff(caller.id, params.id, params.v1, params.v2);
      },
    }),
  ];
}
