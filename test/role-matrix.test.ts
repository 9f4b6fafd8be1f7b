import type { ApiResponse } from './support/api';
import { createEvent, createUser, share, type TestUser } from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * Who may do what on an event: every event endpoint against every kind of caller, each row on a
 * fresh event so no row depends on another. A refused write (403/404/409) must leave the event,
 * its permissions and its history exactly as they were.
 */

type CallerKind = 'none' | 'viewer' | 'editor' | 'owner';
const CALLERS: CallerKind[] = ['none', 'viewer', 'editor', 'owner'];

/** An id no event will ever have in this run's database. */
const MISSING_EVENT_ID = 2_147_483_000;

interface Cast {
  owner: TestUser;
  viewer: TestUser;
  editor: TestUser;
  /** Registered, but the event is never shared with them. */
  none: TestUser;
  /** Has viewer access: the subject of permission changes. */
  third: TestUser;
  /** Has no access: the one the share rows share with. */
  newcomer: TestUser;
}

interface State {
  eventStatus: number;
  event: any;
  permissions: any;
  history: any;
}

interface Endpoint {
  name: string;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: (eventId: number, caller: TestUser) => string;
  body?: () => unknown;
  /** Writes must change nothing when refused. */
  write: boolean;
  expected: Record<CallerKind, number>;
  /** Checks the response and the effect of a successful call. */
  onSuccess?: (context: { eventId: number; caller: CallerKind; response: ApiResponse; before: State; after: State }) => void | Promise<void>;
}

let app: TestApp;
let cast: Cast;

beforeAll(async () => {
  app = await startTestApp();
  const [owner, viewer, editor, none, third, newcomer] = await Promise.all(
    ['owner', 'viewer', 'editor', 'none', 'third', 'newcomer'].map((name) => createUser(app.api, name)),
  );
  cast = { owner, viewer, editor, none, third, newcomer };
});
afterAll(() => app.close());

const ORIGINAL_TITLE = 'Matrix original';
const SECOND_TITLE = 'Matrix second';

/** A fresh event at version 2, shared with the viewer, the editor and the third user (viewer). */
async function freshEvent(): Promise<number> {
  const eventId = await createEvent(app.api, cast.owner, { title: ORIGINAL_TITLE });
  await share(app.api, cast.owner, eventId, cast.viewer, 'viewer');
  await share(app.api, cast.owner, eventId, cast.editor, 'editor');
  await share(app.api, cast.owner, eventId, cast.third, 'viewer');
  const edited = await app.api.put(`/events/${eventId}`, { title: SECOND_TITLE }, { token: cast.owner.token });
  if (edited.status !== 200 || edited.body.version !== 2) throw new Error(`setup edit failed: ${edited.status}`);
  return eventId;
}

/** Everything a write could touch, as the owner sees it. */
async function stateOf(eventId: number): Promise<State> {
  const [event, permissions, history] = await Promise.all([
    app.api.get(`/events/${eventId}`, { token: cast.owner.token }),
    app.api.get(`/events/${eventId}/permissions`, { token: cast.owner.token }),
    app.api.get(`/events/${eventId}/history`, { token: cast.owner.token }),
  ]);
  return { eventStatus: event.status, event: event.body, permissions: permissions.body, history: history.body };
}

/** `caller` fills the path (e.g. a self-removal); `token` is sent as is, undefined meaning none. */
function call(endpoint: Endpoint, eventId: number, caller: TestUser, token: string | undefined): Promise<ApiResponse> {
  const path = endpoint.path(eventId, caller);
  const body = endpoint.body?.();
  return app.api.request(endpoint.method, path, body, { token });
}

const rolesOf = (permissions: Array<{ user_id: number; role: string }>) =>
  Object.fromEntries(permissions.map((permission) => [permission.user_id, permission.role]));

const READ = { none: 404, viewer: 200, editor: 200, owner: 200 };

const ENDPOINTS: Endpoint[] = [
  {
    name: 'GET /events/{id}',
    method: 'GET',
    path: (id) => `/events/${id}`,
    write: false,
    expected: READ,
    onSuccess: ({ eventId, caller, response }) => {
      expect(response.body).toMatchObject({ id: eventId, title: SECOND_TITLE, version: 2, owner_id: cast.owner.id, role: caller });
      expect(response.headers.get('etag')).toBe('"2"');
    },
  },
  {
    name: 'GET /events/{id}/permissions',
    method: 'GET',
    path: (id) => `/events/${id}/permissions`,
    write: false,
    expected: READ,
    onSuccess: ({ response }) => {
      expect(response.body[0]).toMatchObject({ user_id: cast.owner.id, role: 'owner' });
      expect(rolesOf(response.body)).toEqual({
        [cast.owner.id]: 'owner',
        [cast.editor.id]: 'editor',
        [cast.viewer.id]: 'viewer',
        [cast.third.id]: 'viewer',
      });
    },
  },
  {
    name: 'GET /events/{id}/history',
    method: 'GET',
    path: (id) => `/events/${id}/history`,
    write: false,
    expected: READ,
    onSuccess: ({ response }) => {
      expect(response.body.map((version: { version_number: number }) => version.version_number)).toEqual([2, 1]);
    },
  },
  {
    name: 'GET /events/{id}/history/{n}',
    method: 'GET',
    path: (id) => `/events/${id}/history/1`,
    write: false,
    expected: READ,
    onSuccess: ({ eventId, response }) => {
      expect(response.body).toMatchObject({ event_id: eventId, version_number: 1, data: { title: ORIGINAL_TITLE } });
    },
  },
  {
    name: 'GET /events/{id}/changelog',
    method: 'GET',
    path: (id) => `/events/${id}/changelog`,
    write: false,
    expected: READ,
    onSuccess: ({ response }) => {
      expect(response.body.items).toContainEqual(
        expect.objectContaining({ version_number: 2, field_name: 'title', old_value: ORIGINAL_TITLE, new_value: SECOND_TITLE }),
      );
    },
  },
  {
    name: 'GET /events/{id}/diff/{v1}/{v2}',
    method: 'GET',
    path: (id) => `/events/${id}/diff/1/2`,
    write: false,
    expected: READ,
    onSuccess: ({ eventId, response }) => {
      expect(response.body).toEqual({
        event_id: eventId,
        from_version: 1,
        to_version: 2,
        changes: [expect.objectContaining({ field: 'title', old_value: ORIGINAL_TITLE, new_value: SECOND_TITLE, change_type: 'modified' })],
      });
    },
  },
  {
    name: 'PUT /events/{id}',
    method: 'PUT',
    path: (id) => `/events/${id}`,
    body: () => ({ title: 'Matrix edited' }),
    write: true,
    expected: { none: 404, viewer: 403, editor: 200, owner: 200 },
    onSuccess: ({ response, before, after }) => {
      expect(response.body).toMatchObject({ title: 'Matrix edited', version: 3 });
      expect(after.event).toMatchObject({ title: 'Matrix edited', version: before.event.version + 1 });
      expect(after.history).toHaveLength(before.history.length + 1);
    },
  },
  {
    name: 'POST /events/{id}/rollback/{n}',
    method: 'POST',
    path: (id) => `/events/${id}/rollback/1`,
    write: true,
    expected: { none: 404, viewer: 403, editor: 200, owner: 200 },
    onSuccess: ({ response, before, after }) => {
      expect(response.body).toMatchObject({ title: ORIGINAL_TITLE, version: 3 });
      expect(after.event).toMatchObject({ title: ORIGINAL_TITLE, version: before.event.version + 1 });
      expect(after.history[0]).toMatchObject({ version_number: 3, change_description: 'Rolled back to version 1' });
    },
  },
  {
    name: 'DELETE /events/{id}',
    method: 'DELETE',
    path: (id) => `/events/${id}`,
    write: true,
    expected: { none: 404, viewer: 403, editor: 403, owner: 204 },
    onSuccess: async ({ eventId, after }) => {
      expect(after.eventStatus).toBe(404);
      expect((await app.api.get(`/events/${eventId}`, { token: cast.viewer.token })).status).toBe(404);
    },
  },
  {
    name: 'POST /events/{id}/share',
    method: 'POST',
    path: (id) => `/events/${id}/share`,
    body: () => ({ user_id: cast.newcomer.id, role: 'viewer' }),
    write: true,
    expected: { none: 404, viewer: 403, editor: 403, owner: 201 },
    onSuccess: ({ eventId, response, after }) => {
      expect(response.body).toMatchObject({ event_id: eventId, user_id: cast.newcomer.id, username: cast.newcomer.username, role: 'viewer' });
      expect(rolesOf(after.permissions)[cast.newcomer.id]).toBe('viewer');
    },
  },
  {
    name: 'PUT /events/{id}/permissions/{third} (to editor)',
    method: 'PUT',
    path: (id) => `/events/${id}/permissions/${cast.third.id}`,
    body: () => ({ role: 'editor' }),
    write: true,
    expected: { none: 404, viewer: 403, editor: 403, owner: 200 },
    onSuccess: ({ response, after }) => {
      expect(response.body).toMatchObject({ user_id: cast.third.id, role: 'editor' });
      expect(rolesOf(after.permissions)[cast.third.id]).toBe('editor');
    },
  },
  {
    name: 'PUT /events/{id}/permissions/{third} (to owner: transfer)',
    method: 'PUT',
    path: (id) => `/events/${id}/permissions/${cast.third.id}`,
    body: () => ({ role: 'owner' }),
    write: true,
    expected: { none: 404, viewer: 403, editor: 403, owner: 200 },
    onSuccess: ({ response, after }) => {
      expect(response.body).toMatchObject({ user_id: cast.third.id, role: 'owner' });
      expect(after.event).toMatchObject({ owner_id: cast.third.id, role: 'editor' });
      expect(rolesOf(after.permissions)).toMatchObject({ [cast.third.id]: 'owner', [cast.owner.id]: 'editor' });
    },
  },
  {
    name: 'PUT /events/{id}/permissions/{owner} (to editor)',
    method: 'PUT',
    path: (id) => `/events/${id}/permissions/${cast.owner.id}`,
    body: () => ({ role: 'editor' }),
    write: true,
    expected: { none: 404, viewer: 403, editor: 403, owner: 409 },
  },
  {
    name: 'DELETE /events/{id}/permissions/{third}',
    method: 'DELETE',
    path: (id) => `/events/${id}/permissions/${cast.third.id}`,
    write: true,
    expected: { none: 404, viewer: 403, editor: 403, owner: 204 },
    onSuccess: async ({ eventId, after }) => {
      expect(rolesOf(after.permissions)[cast.third.id]).toBeUndefined();
      expect((await app.api.get(`/events/${eventId}`, { token: cast.third.token })).status).toBe(404);
    },
  },
  {
    name: 'DELETE /events/{id}/permissions/{owner}',
    method: 'DELETE',
    path: (id) => `/events/${id}/permissions/${cast.owner.id}`,
    write: true,
    expected: { none: 404, viewer: 403, editor: 403, owner: 409 },
  },
  {
    name: 'DELETE /events/{id}/permissions/{self}',
    method: 'DELETE',
    path: (id, caller) => `/events/${id}/permissions/${caller.id}`,
    write: true,
    expected: { none: 404, viewer: 204, editor: 204, owner: 409 },
    onSuccess: async ({ eventId, caller, after }) => {
      expect(rolesOf(after.permissions)[cast[caller].id]).toBeUndefined();
      expect((await app.api.get(`/events/${eventId}`, { token: cast[caller].token })).status).toBe(404);
    },
  },
];

const ERROR_CODES: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict' };

function expectErrorBody(response: ApiResponse, status: number): void {
  expect(response.body).toEqual({ error: { code: ERROR_CODES[status], message: expect.any(String) } });
}

const ROWS = ENDPOINTS.flatMap((endpoint) => CALLERS.map((caller) => [endpoint.name, caller, endpoint.expected[caller], endpoint] as const));

describe('role matrix', () => {
  it.each(ROWS)('%s as %s -> %i', async (_name, kind, expected, endpoint) => {
    const eventId = await freshEvent();
    const caller = cast[kind];
    const before = await stateOf(eventId);

    const response = await call(endpoint, eventId, caller, caller.token);
    expect(response.status).toBe(expected);

    const after = await stateOf(eventId);
    if (expected >= 400) {
      expectErrorBody(response, expected);
      // A refused call (or any read) changes nothing at all.
      expect(after).toEqual(before);
    } else {
      if (!endpoint.write) expect(after).toEqual(before);
      if (expected === 204) expect(response.body).toBe('');
      await endpoint.onSuccess?.({ eventId, caller: kind, response, before, after });
    }
  });
});

describe('no existence leak', () => {
  it.each(ENDPOINTS.map((endpoint) => [endpoint.name, endpoint] as const))(
    '%s: a stranger on a real event gets exactly what anyone gets for a missing one',
    async (_name, endpoint) => {
      const eventId = await freshEvent();
      const stranger = await call(endpoint, eventId, cast.none, cast.none.token);
      const missing = await call(endpoint, MISSING_EVENT_ID, cast.owner, cast.owner.token);
      expect(stranger.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(stranger.body).toEqual(missing.body);
    },
  );
});

describe('without a valid token', () => {
  const TOKENS: Array<[string, string | undefined]> = [
    ['no token', undefined],
    ['a garbage token', 'not-a-jwt'],
  ];
  const UNAUTHENTICATED_ROWS = ENDPOINTS.flatMap((endpoint) => TOKENS.map(([label, token]) => [endpoint.name, label, token, endpoint] as const));

  it.each(UNAUTHENTICATED_ROWS)('%s with %s -> 401', async (_name, _label, token, endpoint) => {
    const eventId = await freshEvent();
    const before = await stateOf(eventId);
    const response = await call(endpoint, eventId, cast.owner, token);
    expect(response.status).toBe(401);
    expectErrorBody(response, 401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await stateOf(eventId)).toEqual(before);
  });
});
