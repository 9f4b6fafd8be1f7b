import { createEvent, createUser, share, type TestUser } from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';

let app: TestApp;
let owner: TestUser;
let editor: TestUser;
beforeAll(async () => {
  app = await startTestApp();
  owner = await createUser(app.api, 'owner');
  editor = await createUser(app.api, 'editor');
});
afterAll(() => app.close());

/** An event at version 3: v2 by the owner renames it, v3 by the editor moves it and rewrites the description. */
async function eventWithHistory(): Promise<number> {
  const id = await createEvent(app.api, owner, { description: 'Agenda:\nbudget\nhiring' });
  await share(app.api, owner, id, editor, 'editor');
  await app.api.put(`/events/${id}`, { title: 'Planning 2027', change_description: 'Rename' }, { token: owner.token });
  await app.api.put(
    `/events/${id}`,
    { start_time: '2026-06-02T09:00:00Z', end_time: '2026-06-02T10:00:00Z', description: 'Agenda:\nbudget\nroadmap' },
    { token: editor.token },
  );
  return id;
}

describe('history', () => {
  it('lists every version newest first, with author, time and description', async () => {
    const id = await eventWithHistory();
    const history = await app.api.get(`/events/${id}/history`, { token: owner.token });
    expect(history.status).toBe(200);
    expect(history.body).toEqual([
      { version_number: 3, created_by: { id: editor.id, username: editor.username }, created_at: expect.any(String), change_description: null },
      { version_number: 2, created_by: { id: owner.id, username: owner.username }, created_at: expect.any(String), change_description: 'Rename' },
      { version_number: 1, created_by: { id: owner.id, username: owner.username }, created_at: expect.any(String), change_description: 'Created' },
    ]);
  });

  it('returns one version with the full snapshot of its fields', async () => {
    const id = await eventWithHistory();
    const version = await app.api.get(`/events/${id}/history/2`, { token: editor.token });
    expect(version.status).toBe(200);
    expect(version.body).toEqual({
      event_id: id,
      version_number: 2,
      created_by: { id: owner.id, username: owner.username },
      created_at: expect.any(String),
      change_description: 'Rename',
      data: {
        title: 'Planning 2027',
        description: 'Agenda:\nbudget\nhiring',
        start_time: '2026-06-01T09:00:00.000Z',
        end_time: '2026-06-01T10:00:00.000Z',
        location: 'Room 1',
        is_recurring: false,
        recurrence_pattern: null,
      },
    });
    expect((await app.api.get(`/events/${id}/history/4`, { token: owner.token })).status).toBe(404);
  });
});

describe('changelog', () => {
  it('lists field changes oldest first, with real old and new values, author and version', async () => {
    const id = await eventWithHistory();
    const changelog = await app.api.get(`/events/${id}/changelog`, { token: owner.token });
    expect(changelog.status).toBe(200);
    const rows = changelog.body.items.map((row: Record<string, unknown>) => ({
      version: row.version_number,
      field: row.field_name,
      old: row.old_value,
      new: row.new_value,
      by: (row.created_by as { username: string }).username,
    }));
    expect(rows.filter((row: { version: number }) => row.version > 1)).toEqual([
      { version: 2, field: 'title', old: 'Planning', new: 'Planning 2027', by: owner.username },
      { version: 3, field: 'description', old: 'Agenda:\nbudget\nhiring', new: 'Agenda:\nbudget\nroadmap', by: editor.username },
      { version: 3, field: 'start_time', old: '2026-06-01T09:00:00.000Z', new: '2026-06-02T09:00:00.000Z', by: editor.username },
      { version: 3, field: 'end_time', old: '2026-06-01T10:00:00.000Z', new: '2026-06-02T10:00:00.000Z', by: editor.username },
    ]);
    // Version 1 records each field the event was created with.
    expect(rows.filter((row: { version: number }) => row.version === 1).map((row: { field: string }) => row.field)).toEqual([
      'title',
      'description',
      'start_time',
      'end_time',
      'location',
    ]);
  });

  it('pages with limit and offset', async () => {
    const id = await eventWithHistory();
    const all = await app.api.get(`/events/${id}/changelog`, { token: owner.token });
    const page = await app.api.get(`/events/${id}/changelog?limit=3&offset=4`, { token: owner.token });
    expect(page.body).toMatchObject({ total: all.body.total, limit: 3, offset: 4 });
    expect(page.body.items).toEqual(all.body.items.slice(4, 7));
  });
});

describe('rollback', () => {
  it('writes a new version with the old data and changelog rows for what changed', async () => {
    const id = await eventWithHistory();
    const rolled = await app.api.post(`/events/${id}/rollback/1`, undefined, { token: editor.token });
    expect(rolled.status).toBe(200);
    expect(rolled.headers.get('etag')).toBe('"4"');
    expect(rolled.body).toMatchObject({
      title: 'Planning',
      description: 'Agenda:\nbudget\nhiring',
      start_time: '2026-06-01T09:00:00.000Z',
      version: 4,
      role: 'editor',
    });

    const history = await app.api.get(`/events/${id}/history`, { token: owner.token });
    expect(history.body.map((version: { version_number: number }) => version.version_number)).toEqual([4, 3, 2, 1]);
    expect(history.body[0]).toMatchObject({ change_description: 'Rolled back to version 1', created_by: { id: editor.id } });

    const v1 = await app.api.get(`/events/${id}/history/1`, { token: owner.token });
    const v4 = await app.api.get(`/events/${id}/history/4`, { token: owner.token });
    expect(v4.body.data).toEqual(v1.body.data);

    const changelog = await app.api.get(`/events/${id}/changelog`, { token: owner.token });
    const rows = changelog.body.items.filter((row: { version_number: number }) => row.version_number === 4);
    expect(rows.map((row: { field_name: string; old_value: unknown; new_value: unknown }) => [row.field_name, row.old_value, row.new_value])).toEqual([
      ['title', 'Planning 2027', 'Planning'],
      ['description', 'Agenda:\nbudget\nroadmap', 'Agenda:\nbudget\nhiring'],
      ['start_time', '2026-06-02T09:00:00.000Z', '2026-06-01T09:00:00.000Z'],
      ['end_time', '2026-06-02T10:00:00.000Z', '2026-06-01T10:00:00.000Z'],
    ]);
  });

  it('makes no version when the event already has that data', async () => {
    const id = await eventWithHistory();
    const rolled = await app.api.post(`/events/${id}/rollback/3`, undefined, { token: owner.token });
    expect(rolled.status).toBe(200);
    expect(rolled.body.version).toBe(3);
  });

  it('refuses unknown versions and stale If-Match', async () => {
    const id = await eventWithHistory();
    expect((await app.api.post(`/events/${id}/rollback/9`, undefined, { token: owner.token })).status).toBe(404);
    const stale = await app.api.post(`/events/${id}/rollback/1`, undefined, { token: owner.token, headers: { 'if-match': '"2"' } });
    expect(stale.status).toBe(412);
    expect((await app.api.get(`/events/${id}`, { token: owner.token })).body.version).toBe(3);
  });
});

describe('the event at a time', () => {
  it('answers from history: each version while it was the latest, a rollback as a version of its own, 404 before the event', async () => {
    const id = await createEvent(app.api, owner, { title: 'Planning' });
    await share(app.api, owner, id, editor, 'viewer');
    const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
    await pause();
    await app.api.put(`/events/${id}`, { title: 'Planning 2027', location: 'Room 9' }, { token: owner.token });
    await pause();
    await app.api.post(`/events/${id}/rollback/1`, undefined, { token: owner.token });
    const history: { version_number: number; created_at: string }[] = (await app.api.get(`/events/${id}/history`, { token: owner.token })).body;
    const madeAt = (version: number) => Date.parse(history.find((entry) => entry.version_number === version)!.created_at);
    const asOf = (at: number, user = editor) => app.api.get(`/events/${id}?at=${new Date(at).toISOString()}`, { token: user.token });

    const before = await asOf(madeAt(1) - 1);
    expect([before.status, before.body.error.code]).toEqual([404, 'not_found']);
    const first = await asOf(madeAt(2) - 1);
    expect(first.body).toMatchObject({ id, title: 'Planning', location: 'Room 1', version: 1, role: 'viewer', updated_at: history.at(-1)!.created_at });
    expect(first.headers.get('etag')).toBe('"1"');
    expect((await asOf(madeAt(3) - 1)).body).toMatchObject({ title: 'Planning 2027', location: 'Room 9', version: 2 });
    const now = await asOf(Date.now() + 60_000);
    expect(now.body).toMatchObject({ title: 'Planning', location: 'Room 1', version: 3 });
    // The event itself is as it is now, whatever was asked of its past.
    expect((await app.api.get(`/events/${id}`, { token: editor.token })).body).toMatchObject({ title: 'Planning', version: 3 });

    const stranger = await createUser(app.api, 'time-traveller');
    expect((await asOf(Date.now(), stranger)).status).toBe(404);
    expect((await app.api.get(`/events/${id}?at=yesterday`, { token: owner.token })).status).toBe(422);
  });
});

describe('diff', () => {
  it('lists changed fields between two versions, with a line diff for multi-line descriptions', async () => {
    const id = await eventWithHistory();
    const diff = await app.api.get(`/events/${id}/diff/1/3`, { token: owner.token });
    expect(diff.status).toBe(200);
    expect(diff.body).toEqual({
      event_id: id,
      from_version: 1,
      to_version: 3,
      changes: [
        { field: 'title', old_value: 'Planning', new_value: 'Planning 2027', change_type: 'modified' },
        {
          field: 'description',
          old_value: 'Agenda:\nbudget\nhiring',
          new_value: 'Agenda:\nbudget\nroadmap',
          change_type: 'modified',
          text_diff: {
            granularity: 'line',
            parts: [
              { op: 'equal', text: 'Agenda:\nbudget\n' },
              { op: 'delete', text: 'hiring' },
              { op: 'insert', text: 'roadmap' },
            ],
          },
        },
        { field: 'start_time', old_value: '2026-06-01T09:00:00.000Z', new_value: '2026-06-02T09:00:00.000Z', change_type: 'modified' },
        { field: 'end_time', old_value: '2026-06-01T10:00:00.000Z', new_value: '2026-06-02T10:00:00.000Z', change_type: 'modified' },
      ],
    });
  });

  it('works in either order, swapping old and new', async () => {
    const id = await eventWithHistory();
    const forward = await app.api.get(`/events/${id}/diff/2/3`, { token: owner.token });
    const backward = await app.api.get(`/events/${id}/diff/3/2`, { token: owner.token });
    expect(backward.body).toMatchObject({ from_version: 3, to_version: 2 });
    expect(backward.body.changes.map((change: { field: string; old_value: unknown; new_value: unknown }) => [change.field, change.new_value, change.old_value])).toEqual(
      forward.body.changes.map((change: { field: string; old_value: unknown; new_value: unknown }) => [change.field, change.old_value, change.new_value]),
    );
  });

  it('gives word diffs for one-line text and names added and removed values', async () => {
    const id = await createEvent(app.api, owner, { description: 'Bring the quarterly numbers', location: null });
    await app.api.put(`/events/${id}`, { description: 'Bring the yearly numbers', location: 'Room 9' }, { token: owner.token });
    const diff = await app.api.get(`/events/${id}/diff/1/2`, { token: owner.token });
    expect(diff.body.changes).toEqual([
      {
        field: 'description',
        old_value: 'Bring the quarterly numbers',
        new_value: 'Bring the yearly numbers',
        change_type: 'modified',
        text_diff: {
          granularity: 'word',
          parts: [
            { op: 'equal', text: 'Bring the ' },
            { op: 'delete', text: 'quarterly' },
            { op: 'insert', text: 'yearly' },
            { op: 'equal', text: ' numbers' },
          ],
        },
      },
      { field: 'location', old_value: null, new_value: 'Room 9', change_type: 'added' },
    ]);
    const reverse = await app.api.get(`/events/${id}/diff/2/1`, { token: owner.token });
    expect(reverse.body.changes[1]).toEqual({ field: 'location', old_value: 'Room 9', new_value: null, change_type: 'removed' });
  });

  it('is empty for a version against itself, and 404 for a missing version', async () => {
    const id = await eventWithHistory();
    expect((await app.api.get(`/events/${id}/diff/2/2`, { token: owner.token })).body.changes).toEqual([]);
    const missing = await app.api.get(`/events/${id}/diff/1/7`, { token: owner.token });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('Version 7 does not exist');
  });
});
