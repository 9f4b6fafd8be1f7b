import type { ApiResponse } from './support/api';
import { createEvent, createUser, share, type TestUser } from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The shape of one permission, exactly. */
const permissionOf = (eventId: number, user: TestUser, role: string) => ({
  id: expect.any(Number),
  event_id: eventId,
  user_id: user.id,
  username: user.username,
  role,
  created_at: expect.stringMatching(ISO),
  updated_at: expect.stringMatching(ISO),
});

function expectError(response: ApiResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(Object.keys(response.body.error).every((key) => ['code', 'message', 'details'].includes(key))).toBe(true);
}

const permissionsOf = (eventId: number, as: TestUser) => app.api.get(`/events/${eventId}/permissions`, { token: as.token });

/** user id -> role, from the owner's view of the list. */
async function rolesOn(eventId: number, as: TestUser): Promise<Record<number, string>> {
  const list = await permissionsOf(eventId, as);
  expect(list.status).toBe(200);
  return Object.fromEntries(list.body.map((permission: { user_id: number; role: string }) => [permission.user_id, permission.role]));
}

async function users(...names: string[]): Promise<TestUser[]> {
  return Promise.all(names.map((name) => createUser(app.api, name)));
}

describe('POST /events/{id}/share, one user', () => {
  it('answers 201 with the permission, and the user can then read the event as a viewer', async () => {
    const [owner, guest] = await users('owner', 'guest');
    const eventId = await createEvent(app.api, owner);
    expect((await app.api.get(`/events/${eventId}`, { token: guest.token })).status).toBe(404);

    const response = await app.api.post(`/events/${eventId}/share`, { user_id: guest.id, role: 'viewer' }, { token: owner.token });
    expect(response.status).toBe(201);
    expect(response.body).toEqual(permissionOf(eventId, guest, 'viewer'));

    const seen = await app.api.get(`/events/${eventId}`, { token: guest.token });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ id: eventId, role: 'viewer', owner_id: owner.id });
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner', [guest.id]: 'viewer' });
  });

  it('gives an editor the right to edit', async () => {
    const [owner, guest] = await users('owner', 'guest');
    const eventId = await createEvent(app.api, owner);
    const response = await app.api.post(`/events/${eventId}/share`, { user_id: guest.id, role: 'editor' }, { token: owner.token });
    expect(response.status).toBe(201);
    expect(response.body).toEqual(permissionOf(eventId, guest, 'editor'));
    const edited = await app.api.put(`/events/${eventId}`, { title: 'Edited by guest' }, { token: guest.token });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ title: 'Edited by guest', version: 2, role: 'editor' });
  });

  it('re-sharing changes the role of someone who has access (upsert), keeping one permission', async () => {
    const [owner, guest] = await users('owner', 'guest');
    const eventId = await createEvent(app.api, owner);
    const first = await app.api.post(`/events/${eventId}/share`, { user_id: guest.id, role: 'viewer' }, { token: owner.token });
    expect(first.status).toBe(201);

    const promoted = await app.api.post(`/events/${eventId}/share`, { user_id: guest.id, role: 'editor' }, { token: owner.token });
    expect(promoted.status).toBe(201);
    expect(promoted.body).toEqual({ ...permissionOf(eventId, guest, 'editor'), id: first.body.id, created_at: first.body.created_at });
    const list = await permissionsOf(eventId, owner);
    expect(list.body.filter((permission: { user_id: number }) => permission.user_id === guest.id)).toHaveLength(1);
    expect((await app.api.put(`/events/${eventId}`, { title: 'Now I can' }, { token: guest.token })).status).toBe(200);

    const demoted = await app.api.post(`/events/${eventId}/share`, { user_id: guest.id, role: 'viewer' }, { token: owner.token });
    expect(demoted.status).toBe(201);
    expect(demoted.body).toMatchObject({ id: first.body.id, role: 'viewer' });
    expectError(await app.api.put(`/events/${eventId}`, { title: 'Not any more' }, { token: guest.token }), 403, 'forbidden');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner', [guest.id]: 'viewer' });
  });

  it.each([
    ['owner', { role: 'owner' }],
    ['an unknown role', { role: 'admin' }],
    ['no role', {}],
  ])('refuses %s with a 422 and shares nothing', async (_label, extra) => {
    const [owner, guest] = await users('owner', 'guest');
    const eventId = await createEvent(app.api, owner);
    const response = await app.api.post(`/events/${eventId}/share`, { user_id: guest.id, ...extra }, { token: owner.token });
    expectError(response, 422, 'validation_error');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
    expect((await app.api.get(`/events/${eventId}`, { token: guest.token })).status).toBe(404);
  });

  it('refuses sharing with yourself with a 422, and the owner stays owner', async () => {
    const [owner] = await users('owner');
    const eventId = await createEvent(app.api, owner);
    for (const role of ['viewer', 'editor']) {
      const response = await app.api.post(`/events/${eventId}/share`, { user_id: owner.id, role }, { token: owner.token });
      expectError(response, 422, 'validation_error');
    }
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
  });

  it('answers 404 for an unknown user', async () => {
    const [owner] = await users('owner');
    const eventId = await createEvent(app.api, owner);
    const response = await app.api.post(`/events/${eventId}/share`, { user_id: 2_147_483_000, role: 'viewer' }, { token: owner.token });
    expectError(response, 404, 'not_found');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
  });

  it('answers 404 for an event that does not exist', async () => {
    const [owner, guest] = await users('owner', 'guest');
    const response = await app.api.post(`/events/2147483000/share`, { user_id: guest.id, role: 'viewer' }, { token: owner.token });
    expectError(response, 404, 'not_found');
  });

  it('is for the owner only: 403 for an editor or viewer, 404 for a stranger; nothing is shared', async () => {
    const [owner, editor, viewer, stranger, guest] = await users('owner', 'editor', 'viewer', 'stranger', 'guest');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, editor, 'editor');
    await share(app.api, owner, eventId, viewer, 'viewer');
    const body = { user_id: guest.id, role: 'viewer' };
    expectError(await app.api.post(`/events/${eventId}/share`, body, { token: editor.token }), 403, 'forbidden');
    expectError(await app.api.post(`/events/${eventId}/share`, body, { token: viewer.token }), 403, 'forbidden');
    expectError(await app.api.post(`/events/${eventId}/share`, body, { token: stranger.token }), 404, 'not_found');
    // Nor can an editor promote themselves, or a viewer, through share.
    expectError(await app.api.post(`/events/${eventId}/share`, { user_id: viewer.id, role: 'editor' }, { token: editor.token }), 403, 'forbidden');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner', [editor.id]: 'editor', [viewer.id]: 'viewer' });
  });
});

describe('POST /events/{id}/share, several users', () => {
  it('answers 201 with the full permission list, owner first, equal to GET .../permissions', async () => {
    const [owner, a, b, c] = await users('owner', 'a', 'b', 'c');
    const eventId = await createEvent(app.api, owner);
    const response = await app.api.post(
      `/events/${eventId}/share`,
      { users: [{ user_id: a.id, role: 'viewer' }, { user_id: b.id, role: 'editor' }, { user_id: c.id, role: 'viewer' }] },
      { token: owner.token },
    );
    expect(response.status).toBe(201);
    expect(response.body).toHaveLength(4);
    expect(response.body[0]).toEqual(permissionOf(eventId, owner, 'owner'));
    expect(response.body.slice(1)).toEqual(
      expect.arrayContaining([permissionOf(eventId, a, 'viewer'), permissionOf(eventId, b, 'editor'), permissionOf(eventId, c, 'viewer')]),
    );
    const list = await permissionsOf(eventId, owner);
    expect(list.status).toBe(200);
    expect(list.body).toEqual(response.body);

    expect((await app.api.get(`/events/${eventId}`, { token: a.token })).body.role).toBe('viewer');
    expect((await app.api.put(`/events/${eventId}`, { title: 'By b' }, { token: b.token })).status).toBe(200);
  });

  it('upserts: users with access get the new role, the others are added', async () => {
    const [owner, kept, changed, added] = await users('owner', 'kept', 'changed', 'added');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, kept, 'viewer');
    await share(app.api, owner, eventId, changed, 'viewer');
    const response = await app.api.post(
      `/events/${eventId}/share`,
      { users: [{ user_id: changed.id, role: 'editor' }, { user_id: added.id, role: 'viewer' }] },
      { token: owner.token },
    );
    expect(response.status).toBe(201);
    expect(response.body[0]).toMatchObject({ user_id: owner.id, role: 'owner' });
    expect(response.body).toHaveLength(4);
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner', [kept.id]: 'viewer', [changed.id]: 'editor', [added.id]: 'viewer' });
  });

  it('refuses a user named twice with a 422, and writes nothing', async () => {
    const [owner, guest] = await users('owner', 'guest');
    const eventId = await createEvent(app.api, owner);
    const response = await app.api.post(
      `/events/${eventId}/share`,
      { users: [{ user_id: guest.id, role: 'viewer' }, { user_id: guest.id, role: 'editor' }] },
      { token: owner.token },
    );
    expectError(response, 422, 'validation_error');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
  });

  it('refuses a list naming the owner with a 422, and writes nothing', async () => {
    const [owner, guest] = await users('owner', 'guest');
    const eventId = await createEvent(app.api, owner);
    const response = await app.api.post(
      `/events/${eventId}/share`,
      { users: [{ user_id: guest.id, role: 'viewer' }, { user_id: owner.id, role: 'editor' }] },
      { token: owner.token },
    );
    expectError(response, 422, 'validation_error');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
  });

  it('refuses "owner" as a role in the list with a 422', async () => {
    const [owner, guest] = await users('owner', 'guest');
    const eventId = await createEvent(app.api, owner);
    const response = await app.api.post(`/events/${eventId}/share`, { users: [{ user_id: guest.id, role: 'owner' }] }, { token: owner.token });
    expectError(response, 422, 'validation_error');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
  });

  it('is all or nothing: one unknown user means 404 and nothing is written, not even role changes', async () => {
    const [owner, existing, fresh] = await users('owner', 'existing', 'fresh');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, existing, 'viewer');
    const before = await permissionsOf(eventId, owner);

    const response = await app.api.post(
      `/events/${eventId}/share`,
      {
        users: [
          { user_id: fresh.id, role: 'editor' },
          { user_id: existing.id, role: 'editor' },
          { user_id: 2_147_483_000, role: 'viewer' },
        ],
      },
      { token: owner.token },
    );
    expectError(response, 404, 'not_found');

    const after = await permissionsOf(eventId, owner);
    expect(after.body).toEqual(before.body);
    expect((await app.api.get(`/events/${eventId}`, { token: fresh.token })).status).toBe(404);
    expectError(await app.api.put(`/events/${eventId}`, { title: 'Still a viewer' }, { token: existing.token }), 403, 'forbidden');
  });
});

describe('GET /events/{id}/permissions', () => {
  it('lists everyone with access, owner first, whoever asks', async () => {
    const [owner, editor, viewer] = await users('zz_owner', 'aa_editor', 'aa_viewer');
    const eventId = await createEvent(app.api, owner);
    // Shared in an order, and with names, that would put the owner last if the list were not ordered.
    await share(app.api, owner, eventId, viewer, 'viewer');
    await share(app.api, owner, eventId, editor, 'editor');
    for (const caller of [owner, editor, viewer]) {
      const list = await permissionsOf(eventId, caller);
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(3);
      expect(list.body[0]).toEqual(permissionOf(eventId, owner, 'owner'));
      expect(list.body.slice(1)).toEqual(expect.arrayContaining([permissionOf(eventId, editor, 'editor'), permissionOf(eventId, viewer, 'viewer')]));
    }
  });

  it('is 404 for a stranger and 401 without a token', async () => {
    const [owner, stranger] = await users('owner', 'stranger');
    const eventId = await createEvent(app.api, owner);
    expectError(await permissionsOf(eventId, stranger), 404, 'not_found');
    expectError(await app.api.get(`/events/${eventId}/permissions`), 401, 'unauthorized');
  });
});

describe('PUT /events/{id}/permissions/{user_id}', () => {
  it('promotes a viewer to editor, who can then edit', async () => {
    const [owner, viewer] = await users('owner', 'viewer');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, viewer, 'viewer');
    expectError(await app.api.put(`/events/${eventId}`, { title: 'Too early' }, { token: viewer.token }), 403, 'forbidden');

    const response = await app.api.put(`/events/${eventId}/permissions/${viewer.id}`, { role: 'editor' }, { token: owner.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(permissionOf(eventId, viewer, 'editor'));

    const edited = await app.api.put(`/events/${eventId}`, { title: 'Promoted edit' }, { token: viewer.token });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ title: 'Promoted edit', version: 2, role: 'editor' });
    expect((await app.api.post(`/events/${eventId}/rollback/1`, undefined, { token: viewer.token })).status).toBe(200);
  });

  it('demotes an editor to viewer, who then cannot edit', async () => {
    const [owner, editor] = await users('owner', 'editor');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, editor, 'editor');
    const response = await app.api.put(`/events/${eventId}/permissions/${editor.id}`, { role: 'viewer' }, { token: owner.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(permissionOf(eventId, editor, 'viewer'));
    expectError(await app.api.put(`/events/${eventId}`, { title: 'Demoted edit' }, { token: editor.token }), 403, 'forbidden');
    expect((await app.api.get(`/events/${eventId}`, { token: owner.token })).body.version).toBe(1);
  });

  it.each(['editor', 'viewer'])("refuses to change the owner's own role to %s with a 409", async (role) => {
    const [owner, editor] = await users('owner', 'editor');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, editor, 'editor');
    const response = await app.api.put(`/events/${eventId}/permissions/${owner.id}`, { role }, { token: owner.token });
    expectError(response, 409, 'conflict');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner', [editor.id]: 'editor' });
    expect((await app.api.get(`/events/${eventId}`, { token: owner.token })).body).toMatchObject({ owner_id: owner.id, role: 'owner' });
  });

  it('answers 404 for a user without access, or no such user, and grants nothing', async () => {
    const [owner, outsider] = await users('owner', 'outsider');
    const eventId = await createEvent(app.api, owner);
    expectError(await app.api.put(`/events/${eventId}/permissions/${outsider.id}`, { role: 'editor' }, { token: owner.token }), 404, 'not_found');
    expectError(await app.api.put(`/events/${eventId}/permissions/2147483000`, { role: 'editor' }, { token: owner.token }), 404, 'not_found');
    expect((await app.api.get(`/events/${eventId}`, { token: outsider.token })).status).toBe(404);
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
  });

  it('refuses an unknown role with a 422', async () => {
    const [owner, viewer] = await users('owner', 'viewer');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, viewer, 'viewer');
    expectError(await app.api.put(`/events/${eventId}/permissions/${viewer.id}`, { role: 'admin' }, { token: owner.token }), 422, 'validation_error');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner', [viewer.id]: 'viewer' });
  });

  it('is for the owner only: an editor cannot promote a viewer or themselves', async () => {
    const [owner, editor, viewer] = await users('owner', 'editor', 'viewer');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, editor, 'editor');
    await share(app.api, owner, eventId, viewer, 'viewer');
    expectError(await app.api.put(`/events/${eventId}/permissions/${viewer.id}`, { role: 'editor' }, { token: editor.token }), 403, 'forbidden');
    expectError(await app.api.put(`/events/${eventId}/permissions/${editor.id}`, { role: 'owner' }, { token: editor.token }), 403, 'forbidden');
    expectError(await app.api.put(`/events/${eventId}/permissions/${viewer.id}`, { role: 'editor' }, { token: viewer.token }), 403, 'forbidden');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner', [editor.id]: 'editor', [viewer.id]: 'viewer' });
  });
});

describe('ownership transfer', () => {
  it('moves ownership end to end: roles, owner_id, listing, and what each may do afterwards', async () => {
    const [oldOwner, heir, viewer] = await users('oldowner', 'heir', 'viewer');
    const eventId = await createEvent(app.api, oldOwner);
    await share(app.api, oldOwner, eventId, heir, 'editor');
    await share(app.api, oldOwner, eventId, viewer, 'viewer');

    const response = await app.api.put(`/events/${eventId}/permissions/${heir.id}`, { role: 'owner' }, { token: oldOwner.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(permissionOf(eventId, heir, 'owner'));

    // The event now belongs to the heir; the old owner is an editor.
    const asHeir = await app.api.get(`/events/${eventId}`, { token: heir.token });
    expect(asHeir.body).toMatchObject({ owner_id: heir.id, role: 'owner' });
    const asOldOwner = await app.api.get(`/events/${eventId}`, { token: oldOwner.token });
    expect(asOldOwner.body).toMatchObject({ owner_id: heir.id, role: 'editor' });

    const list = await permissionsOf(eventId, viewer);
    expect(list.body).toHaveLength(3);
    expect(list.body[0]).toEqual(permissionOf(eventId, heir, 'owner'));
    expect(list.body.slice(1)).toEqual(expect.arrayContaining([permissionOf(eventId, oldOwner, 'editor'), permissionOf(eventId, viewer, 'viewer')]));
    expect(list.body.filter((permission: { role: string }) => permission.role === 'owner')).toHaveLength(1);

    // The old owner keeps editor rights, and loses the owner's.
    expect((await app.api.put(`/events/${eventId}`, { title: 'Old owner edit' }, { token: oldOwner.token })).status).toBe(200);
    expectError(await app.api.delete(`/events/${eventId}`, { token: oldOwner.token }), 403, 'forbidden');
    expectError(await app.api.post(`/events/${eventId}/share`, { user_id: viewer.id, role: 'editor' }, { token: oldOwner.token }), 403, 'forbidden');
    expectError(await app.api.put(`/events/${eventId}/permissions/${heir.id}`, { role: 'editor' }, { token: oldOwner.token }), 403, 'forbidden');
    expectError(await app.api.put(`/events/${eventId}/permissions/${oldOwner.id}`, { role: 'owner' }, { token: oldOwner.token }), 403, 'forbidden');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${heir.id}`, { token: oldOwner.token }), 403, 'forbidden');

    // The heir has every owner right, and is now the one who cannot be removed or demoted.
    expectError(await app.api.put(`/events/${eventId}/permissions/${heir.id}`, { role: 'editor' }, { token: heir.token }), 409, 'conflict');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${heir.id}`, { token: heir.token }), 409, 'conflict');
    expect((await app.api.put(`/events/${eventId}/permissions/${viewer.id}`, { role: 'editor' }, { token: heir.token })).status).toBe(200);
    expect((await app.api.delete(`/events/${eventId}/permissions/${oldOwner.id}`, { token: heir.token })).status).toBe(204);
    expectError(await app.api.get(`/events/${eventId}`, { token: oldOwner.token }), 404, 'not_found');
    expect(await rolesOn(eventId, heir)).toEqual({ [heir.id]: 'owner', [viewer.id]: 'editor' });

    expect((await app.api.delete(`/events/${eventId}`, { token: heir.token })).status).toBe(204);
    expectError(await app.api.get(`/events/${eventId}`, { token: heir.token }), 404, 'not_found');
  });

  it('can go to a viewer, and back again', async () => {
    const [first, second] = await users('first', 'second');
    const eventId = await createEvent(app.api, first);
    await share(app.api, first, eventId, second, 'viewer');

    const forward = await app.api.put(`/events/${eventId}/permissions/${second.id}`, { role: 'owner' }, { token: first.token });
    expect(forward.status).toBe(200);
    expect(await rolesOn(eventId, second)).toEqual({ [second.id]: 'owner', [first.id]: 'editor' });

    const back = await app.api.put(`/events/${eventId}/permissions/${first.id}`, { role: 'owner' }, { token: second.token });
    expect(back.status).toBe(200);
    expect(back.body).toEqual(permissionOf(eventId, first, 'owner'));
    expect(await rolesOn(eventId, first)).toEqual({ [first.id]: 'owner', [second.id]: 'editor' });
    expect((await app.api.get(`/events/${eventId}`, { token: first.token })).body).toMatchObject({ owner_id: first.id, role: 'owner' });
  });

  it('needs the target to have access: 404 otherwise, and the owner stays owner', async () => {
    const [owner, outsider] = await users('owner', 'outsider');
    const eventId = await createEvent(app.api, owner);
    expectError(await app.api.put(`/events/${eventId}/permissions/${outsider.id}`, { role: 'owner' }, { token: owner.token }), 404, 'not_found');
    expect((await app.api.get(`/events/${eventId}`, { token: owner.token })).body).toMatchObject({ owner_id: owner.id, role: 'owner' });
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
  });
});

describe('DELETE /events/{id}/permissions/{user_id}', () => {
  it.each(['viewer', 'editor'] as const)('lets a %s remove their own access; they then get 404 everywhere', async (role) => {
    const [owner, member] = await users('owner', 'member');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, member, role);

    const response = await app.api.delete(`/events/${eventId}/permissions/${member.id}`, { token: member.token });
    expect(response.status).toBe(204);
    expect(response.body).toBe('');

    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
    for (const path of ['', '/permissions', '/history', '/history/1', '/changelog']) {
      expectError(await app.api.get(`/events/${eventId}${path}`, { token: member.token }), 404, 'not_found');
    }
    expectError(await app.api.put(`/events/${eventId}`, { title: 'Gone' }, { token: member.token }), 404, 'not_found');
    // Leaving twice: they no longer have access at all.
    expectError(await app.api.delete(`/events/${eventId}/permissions/${member.id}`, { token: member.token }), 404, 'not_found');
  });

  it('lets the owner remove an editor or a viewer, who then get 404', async () => {
    const [owner, editor, viewer] = await users('owner', 'editor', 'viewer');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, editor, 'editor');
    await share(app.api, owner, eventId, viewer, 'viewer');

    expect((await app.api.delete(`/events/${eventId}/permissions/${editor.id}`, { token: owner.token })).status).toBe(204);
    expectError(await app.api.get(`/events/${eventId}`, { token: editor.token }), 404, 'not_found');
    expectError(await app.api.put(`/events/${eventId}`, { title: 'Removed editor' }, { token: editor.token }), 404, 'not_found');

    expect((await app.api.delete(`/events/${eventId}/permissions/${viewer.id}`, { token: owner.token })).status).toBe(204);
    expectError(await app.api.get(`/events/${eventId}`, { token: viewer.token }), 404, 'not_found');

    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
    expect((await app.api.get(`/events/${eventId}`, { token: owner.token })).body.version).toBe(1);
  });

  it('a removed user can be shared with again', async () => {
    const [owner, member] = await users('owner', 'member');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, member, 'viewer');
    expect((await app.api.delete(`/events/${eventId}/permissions/${member.id}`, { token: owner.token })).status).toBe(204);
    const again = await app.api.post(`/events/${eventId}/share`, { user_id: member.id, role: 'editor' }, { token: owner.token });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(permissionOf(eventId, member, 'editor'));
    expect((await app.api.get(`/events/${eventId}`, { token: member.token })).body.role).toBe('editor');
  });

  it('refuses to remove the owner with a 409, even when the owner asks', async () => {
    const [owner] = await users('owner');
    const eventId = await createEvent(app.api, owner);
    expectError(await app.api.delete(`/events/${eventId}/permissions/${owner.id}`, { token: owner.token }), 409, 'conflict');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner' });
  });

  it("refuses an editor or viewer removing someone else with a 403, and removes nothing", async () => {
    const [owner, editor, viewer, other] = await users('owner', 'editor', 'viewer', 'other');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, editor, 'editor');
    await share(app.api, owner, eventId, viewer, 'viewer');
    await share(app.api, owner, eventId, other, 'viewer');
    const before = await permissionsOf(eventId, owner);

    expectError(await app.api.delete(`/events/${eventId}/permissions/${viewer.id}`, { token: editor.token }), 403, 'forbidden');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${other.id}`, { token: editor.token }), 403, 'forbidden');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${editor.id}`, { token: viewer.token }), 403, 'forbidden');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${other.id}`, { token: viewer.token }), 403, 'forbidden');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${owner.id}`, { token: editor.token }), 403, 'forbidden');

    expect((await permissionsOf(eventId, owner)).body).toEqual(before.body);
  });

  it('answers 404 to a stranger, and when the owner names a user without access', async () => {
    const [owner, viewer, stranger] = await users('owner', 'viewer', 'stranger');
    const eventId = await createEvent(app.api, owner);
    await share(app.api, owner, eventId, viewer, 'viewer');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${viewer.id}`, { token: stranger.token }), 404, 'not_found');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${stranger.id}`, { token: stranger.token }), 404, 'not_found');
    expectError(await app.api.delete(`/events/${eventId}/permissions/${stranger.id}`, { token: owner.token }), 404, 'not_found');
    expect(await rolesOn(eventId, owner)).toEqual({ [owner.id]: 'owner', [viewer.id]: 'viewer' });
  });
});
