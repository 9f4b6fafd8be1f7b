import { RRule } from 'rrule';
import { createEvent, createUser, sampleEvent, share, type TestUser } from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';

let app: TestApp;
let owner: TestUser;
beforeAll(async () => {
  app = await startTestApp();
  owner = await createUser(app.api, 'owner');
});
afterAll(() => app.close());

describe('create and read', () => {
  it('creates an event owned by the caller, at version 1, with times in UTC', async () => {
    const created = await app.api.post(
      '/events',
      sampleEvent({ start_time: '2026-06-01T11:00:00+02:00', end_time: '2026-06-01T12:30:00+02:00' }),
      { token: owner.token },
    );
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.body).toEqual({
      id: expect.any(Number),
      title: 'Planning',
      description: 'Quarterly planning',
      start_time: '2026-06-01T09:00:00.000Z',
      end_time: '2026-06-01T10:30:00.000Z',
      location: 'Room 1',
      is_recurring: false,
      recurrence_pattern: null,
      owner_id: owner.id,
      version: 1,
      role: 'owner',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });

    const read = await app.api.get(`/events/${created.body.id}`, { token: owner.token });
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toEqual(created.body);

    const history = await app.api.get(`/events/${created.body.id}/history`, { token: owner.token });
    expect(history.body).toEqual([
      { version_number: 1, created_by: { id: owner.id, username: owner.username }, created_at: expect.any(String), change_description: 'Created' },
    ]);
  });

  it('fills optional fields with their defaults', async () => {
    const created = await app.api.post(
      '/events',
      { title: 'Bare', start_time: '2026-06-01T09:00:00Z', end_time: '2026-06-01T10:00:00Z' },
      { token: owner.token },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ description: '', location: null, is_recurring: false, recurrence_pattern: null });
  });

  it('stores recurrence rules normalised, structured or RRULE', async () => {
    const structured = await app.api.post(
      '/events',
      sampleEvent({ is_recurring: true, recurrence_pattern: { frequency: 'weekly', by_weekday: ['FR', 'MO', 'MO'], count: 10 } }),
      { token: owner.token },
    );
    expect(structured.status).toBe(201);
    expect(structured.body.recurrence_pattern).toEqual({ frequency: 'weekly', by_weekday: ['MO', 'FR'], count: 10 });

    const rrule = await app.api.post(
      '/events',
      sampleEvent({ is_recurring: true, recurrence_pattern: { rrule: 'RRULE:FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15,1' } }),
      { token: owner.token },
    );
    expect(rrule.status).toBe(201);
    expect(rrule.body.recurrence_pattern).toEqual({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=1,15;INTERVAL=2' });
  });

  it('creates several events at once, each with its version 1, or none of them', async () => {
    const user = await createUser(app.api, 'batch');
    const created = await app.api.post(
      '/events/batch',
      { events: [sampleEvent({ title: 'First' }), sampleEvent({ title: 'Second', is_recurring: true, recurrence_pattern: { frequency: 'daily', count: 2 } })] },
      { token: user.token },
    );
    expect(created.status).toBe(201);
    expect(created.body.items.map((event: { title: string; version: number; role: string }) => [event.title, event.version, event.role])).toEqual([
      ['First', 1, 'owner'],
      ['Second', 1, 'owner'],
    ]);
    const [, second] = created.body.items;
    const history = await app.api.get(`/events/${second.id}/history`, { token: user.token });
    expect(history.body.map((version: { change_description: string }) => version.change_description)).toEqual(['Created']);

    // One bad event, by a field's rule or by a rule between fields, and none is created.
    const refused = await app.api.post(
      '/events/batch',
      { events: [sampleEvent({ title: 'Never' }), sampleEvent({ title: '' }), sampleEvent({ start_time: '2026-06-02T10:00:00Z', end_time: '2026-06-02T09:00:00Z' })] },
      { token: user.token },
    );
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.fields.map((field: { path: string }) => field.path)).toEqual(['body.events.1.title']);
    const crossField = await app.api.post('/events/batch', { events: [sampleEvent({ title: 'Never' }), sampleEvent({ start_time: '2026-06-02T10:00:00Z', end_time: '2026-06-02T09:00:00Z' })] }, { token: user.token });
    expect(crossField.status).toBe(422);
    expect(crossField.body.error.details.fields.map((field: { path: string }) => field.path)).toEqual(['body.events.1.end_time']);
    const tooMany = await app.api.post('/events/batch', { events: Array.from({ length: 101 }, () => sampleEvent()) }, { token: user.token });
    expect(tooMany.status).toBe(422);
    expect((await app.api.post('/events/batch', { events: [] }, { token: user.token })).status).toBe(422);
    expect((await app.api.get('/events', { token: user.token })).body.total).toBe(2);
  });

  it('is also served under /api, the original prefix', async () => {
    const id = await createEvent(app.api, owner);
    const response = await fetch(`${app.baseUrl}/api/events/${id}`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: number }).id).toBe(id);
  });
});

describe('list', () => {
  let user: TestUser;
  let other: TestUser;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    user = await createUser(app.api, 'lister');
    other = await createUser(app.api, 'other');
    const at = (day: number, hour: number) => `2026-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;
    ids.late = await createEvent(app.api, user, { title: 'Late review', description: 'numbers', start_time: at(20, 9), end_time: at(20, 10) });
    ids.early = await createEvent(app.api, user, { title: 'Early sync', description: 'Budget 100%', start_time: at(1, 9), end_time: at(1, 10) });
    ids.multiDay = await createEvent(app.api, user, { title: 'Offsite', description: 'team', start_time: at(9, 8), end_time: at(12, 18) });
    ids.sharedEdit = await createEvent(app.api, other, { title: 'Shared budget', description: 'x', start_time: at(15, 9), end_time: at(15, 10) });
    ids.sharedView = await createEvent(app.api, other, { title: 'Town hall', description: 'y', start_time: at(16, 9), end_time: at(16, 10) });
    ids.private = await createEvent(app.api, other, { title: 'Private budget', description: 'z', start_time: at(17, 9), end_time: at(17, 10) });
    await share(app.api, other, ids.sharedEdit, user, 'editor');
    await share(app.api, other, ids.sharedView, user, 'viewer');
  });

  const titles = (body: { items: { title: string }[] }) => body.items.map((item) => item.title);

  it("shows the caller's own and shared events only, by start time, with the caller's role", async () => {
    const response = await app.api.get('/events', { token: user.token });
    expect(response.status).toBe(200);
    expect(titles(response.body)).toEqual(['Early sync', 'Offsite', 'Shared budget', 'Town hall', 'Late review']);
    expect(response.body.items.map((item: { role: string }) => item.role)).toEqual(['owner', 'owner', 'editor', 'viewer', 'owner']);
    expect(response.body).toMatchObject({ total: 5, limit: 50, offset: 0 });
  });

  it('pages with limit and offset, counting every match', async () => {
    const page = await app.api.get('/events?limit=2&offset=2', { token: user.token });
    expect(titles(page.body)).toEqual(['Shared budget', 'Town hall']);
    expect(page.body).toMatchObject({ total: 5, limit: 2, offset: 2 });
  });

  it('keeps events that overlap the start/end window, including ones spanning it', async () => {
    const window = await app.api.get(`/events?start=2026-03-10T00:00:00Z&end=2026-03-16T00:00:00Z`, { token: user.token });
    expect(titles(window.body)).toEqual(['Offsite', 'Shared budget']);
    // An event that ends exactly when the window starts does not overlap it.
    const touching = await app.api.get(`/events?start=2026-03-01T10:00:00Z&end=2026-03-02T00:00:00Z`, { token: user.token });
    expect(titles(touching.body)).toEqual([]);
    const openEnded = await app.api.get(`/events?start=2026-03-16T00:00:00Z`, { token: user.token });
    expect(titles(openEnded.body)).toEqual(['Town hall', 'Late review']);
  });

  it('keeps a recurring event while its series overlaps the window, by its last occurrence', async () => {
    const planner = await createUser(app.api, 'planner');
    const mondays = (title: string, recurrence_pattern: unknown) =>
      createEvent(app.api, planner, { title, start_time: '2026-01-05T09:00:00Z', end_time: '2026-01-05T10:00:00Z', is_recurring: true, recurrence_pattern });
    const endless = await mondays('Standup', { frequency: 'weekly' });
    await mondays('Three Mondays', { frequency: 'weekly', count: 3 }); // the last on 19 January
    await mondays('Until March', { rrule: 'FREQ=WEEKLY;UNTIL=20260301T000000Z' });
    await mondays('Ten days', { rrule: 'FREQ=DAILY;COUNT=10' }); // the last on 14 January
    await createEvent(app.api, planner, { title: 'Once', start_time: '2026-01-05T09:00:00Z', end_time: '2026-01-05T10:00:00Z' });
    const listed = async (start: string, end: string) => titles((await app.api.get(`/events?start=${start}&end=${end}`, { token: planner.token })).body).sort();

    expect(await listed('2026-01-14T09:30:00Z', '2026-01-14T09:45:00Z')).toEqual(['Standup', 'Ten days', 'Three Mondays', 'Until March']);
    expect(await listed('2026-01-19T09:30:00Z', '2026-01-19T12:00:00Z')).toEqual(['Standup', 'Three Mondays', 'Until March']);
    expect(await listed('2026-01-19T10:00:00Z', '2026-01-27T00:00:00Z')).toEqual(['Standup', 'Until March']);
    expect(await listed('2026-06-01T00:00:00Z', '2026-06-08T00:00:00Z')).toEqual(['Standup']);
    // A rule given an end later moves the series' end with it.
    expect((await app.api.put(`/events/${endless}`, { recurrence_pattern: { frequency: 'weekly', count: 2 } }, { token: planner.token })).status).toBe(200);
    expect(await listed('2026-06-01T00:00:00Z', '2026-06-08T00:00:00Z')).toEqual([]);
  });

  it('searches title and description without case, taking % and _ literally', async () => {
    expect(titles((await app.api.get('/events?q=BUDGET', { token: user.token })).body)).toEqual(['Early sync', 'Shared budget']);
    expect(titles((await app.api.get('/events?q=100%25', { token: user.token })).body)).toEqual(['Early sync']);
    expect(titles((await app.api.get('/events?q=%25', { token: user.token })).body)).toEqual(['Early sync']);
    expect(titles((await app.api.get('/events?q=_', { token: user.token })).body)).toEqual([]);
  });

  it('filters by role, and combines filters', async () => {
    expect(titles((await app.api.get('/events?role=viewer', { token: user.token })).body)).toEqual(['Town hall']);
    const combined = await app.api.get('/events?role=owner&q=sync&end=2026-03-05T00:00:00Z', { token: user.token });
    expect(titles(combined.body)).toEqual(['Early sync']);
    expect(combined.body.total).toBe(1);
  });
});

describe('occurrences', () => {
  let planner: TestUser;
  const ids: Record<string, number> = {};
  const occurrences = (query: string, user = planner) => app.api.get(`/events/occurrences?${query}`, { token: user.token });
  const listed = (body: { items: { title: string; start_time: string }[] }) => body.items.map((item) => `${item.title} ${item.start_time.slice(5, 16)}`);

  /** A recurring event of `hours` from `start`. */
  const series = (user: TestUser, title: string, start: string, recurrence_pattern: unknown, hours = 1) =>
    createEvent(app.api, user, {
      title,
      start_time: start,
      end_time: new Date(Date.parse(start) + hours * 3_600_000).toISOString(),
      is_recurring: true,
      recurrence_pattern,
    });

  beforeAll(async () => {
    planner = await createUser(app.api, 'occurrences');
    ids.standup = await series(planner, 'Standup', '2026-01-05T09:00:00Z', { frequency: 'weekly', by_weekday: ['MO'] });
    ids.tenDays = await series(planner, 'Ten days', '2026-01-05T12:00:00Z', { rrule: 'FREQ=DAILY;COUNT=10' });
    // Starts on a Wednesday, off its Monday rule: the start is the first of the three.
    ids.offRule = await series(planner, 'Off rule', '2026-01-07T08:00:00Z', { frequency: 'weekly', by_weekday: ['MO'], count: 3 });
    ids.weekend = await series(planner, 'Weekend', '2026-01-10T18:00:00Z', { frequency: 'weekly' }, 40);
    ids.once = await createEvent(app.api, planner, { title: 'Once', start_time: '2026-01-13T15:00:00Z', end_time: '2026-01-13T16:00:00Z' });
  });

  it("expands each series in the window, lists other events once, by start time, with the caller's role", async () => {
    const response = await occurrences('start=2026-01-12T00:00:00Z&end=2026-01-15T00:00:00Z');
    expect(response.status).toBe(200);
    expect(listed(response.body)).toEqual([
      // The weekend that started on the 10th still runs at the window's start.
      'Weekend 01-10T18:00',
      'Off rule 01-12T08:00',
      'Standup 01-12T09:00',
      'Ten days 01-12T12:00',
      'Ten days 01-13T12:00',
      'Once 01-13T15:00',
      'Ten days 01-14T12:00',
    ]);
    expect(response.body.items[0]).toEqual({
      event_id: ids.weekend,
      recurrence_id: '2026-01-10T18:00:00.000Z',
      title: 'Weekend',
      location: 'Room 1',
      start_time: '2026-01-10T18:00:00.000Z',
      end_time: '2026-01-12T10:00:00.000Z',
      is_recurring: true,
      role: 'owner',
    });
    expect(response.body).toMatchObject({ truncated: false, unexpanded: [] });
  });

  it("counts the event's own start as the first occurrence, and ends each series where its rule does", async () => {
    const january = await occurrences('start=2026-01-01T00:00:00Z&end=2026-02-01T00:00:00Z&q=rule');
    expect(listed(january.body)).toEqual(['Off rule 01-07T08:00', 'Off rule 01-12T08:00', 'Off rule 01-19T08:00']);
    const tenDays = await occurrences('start=2026-01-01T00:00:00Z&end=2026-02-01T00:00:00Z&q=ten');
    expect(listed(tenDays.body).at(-1)).toBe('Ten days 01-14T12:00');
    expect(tenDays.body.items).toHaveLength(10);
    // An occurrence that ends as the window starts does not overlap it.
    const after = await occurrences('start=2026-01-12T10:00:00Z&end=2026-01-12T11:00:00Z');
    expect(listed(after.body)).toEqual([]);
  });

  it('shows shared events to whom they are shared with, with their role, and nobody else', async () => {
    const viewer = await createUser(app.api, 'occurrence-viewer');
    await share(app.api, planner, ids.standup, viewer, 'viewer');
    const shared = await occurrences('start=2026-01-12T00:00:00Z&end=2026-01-27T00:00:00Z', viewer);
    expect(listed(shared.body)).toEqual(['Standup 01-12T09:00', 'Standup 01-19T09:00', 'Standup 01-26T09:00']);
    expect(shared.body.items.map((item: { role: string }) => item.role)).toEqual(['viewer', 'viewer', 'viewer']);
    expect((await occurrences('start=2026-01-12T00:00:00Z&end=2026-01-27T00:00:00Z&role=owner', viewer)).body.items).toEqual([]);
    const stranger = await createUser(app.api, 'occurrence-stranger');
    expect((await occurrences('start=2026-01-01T00:00:00Z&end=2026-02-01T00:00:00Z', stranger)).body.items).toEqual([]);
  });

  it("keeps a series on its time zone's clock across daylight-saving changes, on that zone's weekdays", async () => {
    const user = await createUser(app.api, 'occurrence-zones');
    // Mondays at 09:00 in London, whose clocks go back on 25 October.
    await series(user, 'London', '2026-10-19T08:00:00Z', { frequency: 'weekly', time_zone: 'Europe/London' });
    // Mondays at 20:00 in New York (Tuesdays in UTC), whose clocks go back on 1 November.
    await series(user, 'New York', '2026-10-20T00:00:00Z', { rrule: 'FREQ=WEEKLY;BYDAY=MO', time_zone: 'America/New_York' });
    const response = await occurrences('start=2026-10-18T00:00:00Z&end=2026-11-05T00:00:00Z', user);
    expect(listed(response.body)).toEqual([
      'London 10-19T08:00',
      'New York 10-20T00:00',
      'London 10-26T09:00',
      'New York 10-27T00:00',
      'London 11-02T09:00',
      'New York 11-03T01:00',
    ]);
  });

  it('places a time the clocks skip after the gap, and a time they show twice at its first showing', async () => {
    const user = await createUser(app.api, 'occurrence-dst-edges');
    const listedIn = async (start: string, end: string) => listed((await occurrences(`start=${start}&end=${end}`, user)).body);
    // New York's clocks go from 02:00 to 03:00 on 8 March 2026, and from 02:00 back to 01:00 on 1 November.
    await series(user, 'Half past two', '2026-03-07T07:30:00Z', { frequency: 'daily', count: 3, time_zone: 'America/New_York' });
    expect(await listedIn('2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      'Half past two 03-07T07:30', // 02:30 EST
      'Half past two 03-08T07:30', // 02:30 never shows: 03:30 EDT
      'Half past two 03-09T06:30', // 02:30 EDT
    ]);
    await series(user, 'Half past one', '2026-10-31T05:30:00Z', { frequency: 'daily', count: 3, time_zone: 'America/New_York' });
    expect(await listedIn('2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
      'Half past one 10-31T05:30', // 01:30 EDT
      'Half past one 11-01T05:30', // 01:30 shows twice: the first, EDT
      'Half past one 11-02T06:30', // 01:30 EST
    ]);
  });

  it('shows a moved occurrence at its new time, from inside the window or out of it, and moves no time that is not an occurrence', async () => {
    const user = await createUser(app.api, 'occurrence-moves');
    await series(user, 'Daily', '2026-02-02T10:00:00Z', {
      frequency: 'daily',
      count: 5,
      overrides: [
        // Later the same day, for longer.
        { recurrence_id: '2026-02-03T10:00:00Z', start_time: '2026-02-03T15:00:00Z', end_time: '2026-02-03T16:30:00Z' },
        // The last, to after the series would have ended.
        { recurrence_id: '2026-02-06T10:00:00Z', start_time: '2026-02-09T09:00:00Z', end_time: '2026-02-09T10:00:00Z' },
        // The series' own start, to later that day.
        { recurrence_id: '2026-02-02T10:00:00Z', start_time: '2026-02-02T12:00:00Z', end_time: '2026-02-02T13:00:00Z' },
        // 11:00 is not one of its times.
        { recurrence_id: '2026-02-04T11:00:00Z', start_time: '2026-02-10T09:00:00Z', end_time: '2026-02-10T10:00:00Z' },
      ],
    });
    const within = async (start: string, end: string) => (await occurrences(`start=${start}&end=${end}`, user)).body;
    const february = await within('2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z');
    expect(listed(february)).toEqual(['Daily 02-02T12:00', 'Daily 02-03T15:00', 'Daily 02-04T10:00', 'Daily 02-05T10:00', 'Daily 02-09T09:00']);
    expect(february.items[1].end_time).toBe('2026-02-03T16:30:00.000Z');
    // Found where it was moved to, after where the rule ends, and not where it was.
    expect(listed(await within('2026-02-09T00:00:00Z', '2026-02-10T00:00:00Z'))).toEqual(['Daily 02-09T09:00']);
    expect(listed(await within('2026-02-06T00:00:00Z', '2026-02-07T00:00:00Z'))).toEqual([]);
  });

  it('finds a series by its first occurrence moved before its own start, in the occurrences and in the list', async () => {
    const user = await createUser(app.api, 'occurrence-earlier');
    const id = await series(user, 'Kickoff', '2026-02-02T10:00:00Z', {
      frequency: 'weekly',
      count: 3,
      // The first meeting, brought forward to the Friday before.
      overrides: [{ recurrence_id: '2026-02-02T10:00:00Z', start_time: '2026-01-30T09:00:00Z', end_time: '2026-01-30T10:00:00Z' }],
    });
    const window = 'start=2026-01-29T00:00:00Z&end=2026-01-31T00:00:00Z';
    expect(listed((await occurrences(window, user)).body)).toEqual(['Kickoff 01-30T09:00']);
    expect((await app.api.get(`/events?${window}`, { token: user.token })).body.items.map((event: { id: number }) => event.id)).toEqual([id]);
    expect(listed((await occurrences('start=2026-01-01T00:00:00Z&end=2026-03-01T00:00:00Z', user)).body)).toEqual(['Kickoff 01-30T09:00', 'Kickoff 02-09T10:00', 'Kickoff 02-16T10:00']);
    // Moved back to its own time, the series is found from its start again, and no earlier.
    const back = await app.api.put(`/events/${id}`, { recurrence_pattern: { frequency: 'weekly', count: 3 } }, { token: user.token });
    expect(back.status).toBe(200);
    expect((await app.api.get(`/events?${window}`, { token: user.token })).body.items).toEqual([]);
  });

  it('gives a changed occurrence its own title and location, and names every occurrence by the start its series gave it', async () => {
    const user = await createUser(app.api, 'occurrence-texts');
    const id = await series(user, 'Review', '2026-02-02T10:00:00Z', {
      frequency: 'daily',
      count: 4,
      exdates: ['2026-02-05T10:00:00Z'],
      overrides: [
        // Its texts only, at its own time.
        { recurrence_id: '2026-02-03T10:00:00Z', start_time: '2026-02-03T10:00:00Z', end_time: '2026-02-03T11:00:00Z', title: 'Review: budget', location: 'Board room' },
        // Moved, and somewhere else: nowhere.
        { recurrence_id: '2026-02-04T10:00:00Z', start_time: '2026-02-04T14:00:00Z', end_time: '2026-02-04T15:00:00Z', location: null },
        // Excluded: the exclusion wins.
        { recurrence_id: '2026-02-05T10:00:00Z', start_time: '2026-02-05T12:00:00Z', end_time: '2026-02-05T13:00:00Z', title: 'Never' },
      ],
    }, 1);
    await app.api.put(`/events/${id}`, { location: 'Room 1' }, { token: user.token });
    const listed = await occurrences('start=2026-02-01T00:00:00Z&end=2026-03-01T00:00:00Z', user);
    expect(listed.body.items.map(({ recurrence_id, title, location, start_time }: Record<string, unknown>) => ({ recurrence_id, title, location, start_time }))).toEqual([
      { recurrence_id: '2026-02-02T10:00:00.000Z', title: 'Review', location: 'Room 1', start_time: '2026-02-02T10:00:00.000Z' },
      { recurrence_id: '2026-02-03T10:00:00.000Z', title: 'Review: budget', location: 'Board room', start_time: '2026-02-03T10:00:00.000Z' },
      { recurrence_id: '2026-02-04T10:00:00.000Z', title: 'Review', location: null, start_time: '2026-02-04T14:00:00.000Z' },
    ]);
    const single = await createEvent(app.api, user, { title: 'Once', start_time: '2026-02-10T10:00:00Z', end_time: '2026-02-10T11:00:00Z' });
    const once = await occurrences('start=2026-02-10T00:00:00Z&end=2026-02-11T00:00:00Z', user);
    expect(once.body.items).toEqual([expect.objectContaining({ event_id: single, recurrence_id: null, title: 'Once' })]);
  });

  it('leaves out the occurrences its pattern excludes, the first among them; they still count towards COUNT', async () => {
    const user = await createUser(app.api, 'occurrence-exdates');
    const id = await series(user, 'Daily', '2026-02-02T10:00:00Z', { rrule: 'FREQ=DAILY;COUNT=5', exdates: ['2026-02-02T10:00:00Z', '2026-02-04T11:00:00+01:00'] });
    const february = 'start=2026-02-01T00:00:00Z&end=2026-03-01T00:00:00Z';
    expect(listed((await occurrences(february, user)).body)).toEqual(['Daily 02-03T10:00', 'Daily 02-05T10:00', 'Daily 02-06T10:00']);

    // Stored in UTC, sorted, once each.
    const skipped = await app.api.put(
      `/events/${id}`,
      { recurrence_pattern: { rrule: 'FREQ=DAILY;COUNT=5', exdates: ['2026-02-05T10:00:00Z', '2026-02-02T10:00:00Z', '2026-02-04T10:00:00Z', '2026-02-05T10:00:00Z'] } },
      { token: user.token },
    );
    expect(skipped.status).toBe(200);
    expect(skipped.body.recurrence_pattern.exdates).toEqual(['2026-02-02T10:00:00.000Z', '2026-02-04T10:00:00.000Z', '2026-02-05T10:00:00.000Z']);
    expect(listed((await occurrences(february, user)).body)).toEqual(['Daily 02-03T10:00', 'Daily 02-06T10:00']);
  });

  it('expands series begun years ago as rrule does from their start, within the budget', async () => {
    const user = await createUser(app.api, 'occurrence-old');
    const rules: [string, string][] = [
      ['2021-01-01T09:30:00Z', 'FREQ=HOURLY;INTERVAL=5'],
      ['2016-01-01T09:00:00Z', 'FREQ=DAILY;INTERVAL=3;BYMONTH=3'],
      ['2000-01-06T08:00:00Z', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;BYSETPOS=-1'],
      ['2025-10-01T09:00:00Z', 'FREQ=MINUTELY;INTERVAL=97;BYHOUR=9,10'],
    ];
    for (const [start, rrule] of rules) await series(user, rrule, start, { rrule });
    const window = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-15T00:00:00Z') };
    const response = await occurrences(`start=${window.start.toISOString()}&end=${window.end.toISOString()}`, user);
    expect(response.body.unexpanded).toEqual([]);
    // rrule stepping from each series' start, with no budget, is the reference.
    const expected = rules.flatMap(([start, rrule]) =>
      new RRule({ ...RRule.parseString(rrule), dtstart: new Date(start) })
        .between(new Date(window.start.getTime() - 3_600_000), window.end)
        .filter((occurrence) => occurrence.getTime() + 3_600_000 > window.start.getTime())
        .map((occurrence) => `${rrule} ${occurrence.toISOString()}`),
    );
    const listed = response.body.items.map((item: { title: string; start_time: string }) => `${item.title} ${item.start_time}`);
    expect(listed.sort()).toEqual(expected.sort());
    expect(listed.length).toBeGreaterThan(50);
  });

  it('returns the first `limit` and says the list was cut', async () => {
    const cut = await occurrences('start=2026-01-05T00:00:00Z&end=2026-01-31T00:00:00Z&q=ten&limit=3');
    expect(listed(cut.body)).toEqual(['Ten days 01-05T12:00', 'Ten days 01-06T12:00', 'Ten days 01-07T12:00']);
    expect(cut.body.truncated).toBe(true);
    const whole = await occurrences('start=2026-01-05T00:00:00Z&end=2026-01-31T00:00:00Z&q=ten&limit=10');
    expect(whole.body.truncated).toBe(false);
  });

  it('cuts a list of many single events and a series between them at `limit`, in order', async () => {
    const user = await createUser(app.api, 'occurrence-many');
    const hours = [9, 11, 13, 15, 17];
    for (const hour of hours) {
      const at = `2026-03-02T${String(hour).padStart(2, '0')}`;
      await createEvent(app.api, user, { title: `At ${hour}`, start_time: `${at}:00:00Z`, end_time: `${at}:30:00Z` });
    }
    // Created last, and every two hours from 10:00.
    await series(user, 'Every two hours', '2026-03-02T10:00:00Z', { rrule: 'FREQ=HOURLY;INTERVAL=2;COUNT=5' }, 0.5);
    const march = 'start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z';
    const cut = await occurrences(`${march}&limit=4`, user);
    expect(listed(cut.body)).toEqual(['At 9 03-02T09:00', 'Every two hours 03-02T10:00', 'At 11 03-02T11:00', 'Every two hours 03-02T12:00']);
    expect(cut.body.truncated).toBe(true);
    const whole = await occurrences(`${march}&limit=10`, user);
    expect(listed(whole.body)).toHaveLength(10);
    expect(whole.body.truncated).toBe(false);
    expect((await occurrences(`${march}&limit=9`, user)).body.truncated).toBe(true);
  });

  it('cuts short a rule that never matches, naming its event, and lists the others', async () => {
    const user = await createUser(app.api, 'occurrence-never');
    // Stepping day by day to the year 9999 for a 30 February takes rrule seconds.
    const never = await series(user, 'Never', '2026-01-05T09:00:00Z', { rrule: 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30' });
    await createEvent(app.api, user, { title: 'Fine', start_time: '2026-01-06T09:00:00Z', end_time: '2026-01-06T10:00:00Z' });
    const response = await occurrences('start=2026-01-01T00:00:00Z&end=2026-02-01T00:00:00Z', user);
    expect(response.status).toBe(200);
    expect(listed(response.body)).toEqual(['Fine 01-06T09:00']);
    expect(response.body.unexpanded).toEqual([never]);
  });

  it("spends the user's expansion time, refusing the user, and no one else, once it is gone; the export spends it too", async () => {
    // 150 ms at once, and barely any more: a rule that never matches takes the whole of a rule's 100 ms.
    const limited = await startTestApp({ EXPANSION_BURST_MS: '150', EXPANSION_RATE_MS: '1' });
    try {
      const [user, other] = await Promise.all([createUser(limited.api, 'expansion-spender'), createUser(limited.api, 'expansion-bystander')]);
      const january5th = { start_time: '2026-01-05T09:00:00Z', end_time: '2026-01-05T10:00:00Z', is_recurring: true };
      const never = await createEvent(limited.api, user, { ...january5th, recurrence_pattern: { rrule: 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30' } });
      await createEvent(limited.api, other, { ...january5th, recurrence_pattern: { frequency: 'daily' } });
      const january = (who: TestUser) => limited.api.get('/events/occurrences?start=2026-01-01T00:00:00Z&end=2026-02-01T00:00:00Z', { token: who.token });

      // The rule takes 100 ms, then the 50 left, cut shorter. A timer that fires a little early
      // can leave a millisecond or two for another list or two.
      const answers = [];
      for (let asked = 0; asked < 6 && answers.at(-1)?.status !== 429; asked++) answers.push(await january(user));
      const refused = answers.pop()!;
      expect(answers.map((answer) => [answer.status, answer.body.unexpanded])).toEqual(Array(answers.length).fill([200, [never]]));
      expect(answers.length).toBeGreaterThanOrEqual(2);
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: 'too_many_requests', message: expect.stringMatching(/^Too many milliseconds of recurrence expansion: send again in \d+ s$/) });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await limited.api.get('/events.ics', { token: user.token })).status).toBe(429);

      const theirs = await january(other);
      expect(theirs.status).toBe(200);
      expect(theirs.body.items.length).toBeGreaterThan(0);
      expect(theirs.body.unexpanded).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it.each([
    ['no window', ''],
    ['no end', 'start=2026-01-01T00:00:00Z'],
    ['an end before the start', 'start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z'],
    ['a window over 366 days', 'start=2026-01-01T00:00:00Z&end=2027-01-03T00:00:00Z'],
    ['a time without a zone', 'start=2026-01-01T00:00:00&end=2026-01-02T00:00:00Z'],
    ['a limit of 0', 'start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z&limit=0'],
  ])('refuses %s with 422', async (_, query) => {
    const response = await occurrences(query);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('validation_error');
  });

  it('needs a valid access token', async () => {
    expect((await app.api.get('/events/occurrences?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z')).status).toBe(401);
  });
});

describe('conflicts', () => {
  const at = (day: number, hour: number, minute = 0) => `2026-03-0${day}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00.000Z`;
  const conflicts = (user: TestUser, query: string) => app.api.get(`/events/conflicts?${query}`, { token: user.token });
  const named = (body: { items: { first: { title: string; start_time: string }; second: { title: string; start_time: string } }[] }) =>
    body.items.map(({ first, second }) => `${first.title} ${first.start_time.slice(8, 16)} x ${second.title} ${second.start_time.slice(8, 16)}`);

  it("pairs the overlapping occurrences of the caller's events, their own and shared, and no others", async () => {
    const [user, colleague] = await Promise.all([createUser(app.api, 'double-booked'), createUser(app.api, 'colleague')]);
    await createEvent(app.api, user, { title: 'Review', start_time: at(2, 9), end_time: at(2, 10) });
    await createEvent(app.api, user, { title: 'Call', start_time: at(2, 9, 30), end_time: at(2, 10, 30) });
    // Back to back with the call: no conflict.
    await createEvent(app.api, user, { title: 'Lunch', start_time: at(2, 10, 30), end_time: at(2, 11, 30) });
    // Daily for three days; its own occurrences never conflict with each other.
    await createEvent(app.api, user, { title: 'Standup', start_time: at(2, 9, 45), end_time: at(2, 9, 55), is_recurring: true, recurrence_pattern: { frequency: 'daily', count: 3 } });
    const shared = await createEvent(app.api, colleague, { title: 'Workshop', start_time: at(3, 9), end_time: at(3, 12) });
    await share(app.api, colleague, shared, user, 'viewer');
    // The colleague's own event, not shared: not the user's conflict.
    await createEvent(app.api, colleague, { title: 'Private', start_time: at(4, 9), end_time: at(4, 10) });

    const found = await conflicts(user, `start=${at(1, 0)}&end=${at(5, 0)}`);
    expect(found.status).toBe(200);
    expect(named(found.body)).toEqual([
      'Review 02T09:00 x Call 02T09:30',
      'Review 02T09:00 x Standup 02T09:45',
      'Call 02T09:30 x Standup 02T09:45',
      'Workshop 03T09:00 x Standup 03T09:45',
    ]);
    expect(found.body.items[3]).toEqual({
      first: expect.objectContaining({ event_id: shared, role: 'viewer', recurrence_id: null, end_time: at(3, 12) }),
      second: expect.objectContaining({ recurrence_id: at(3, 9, 45), is_recurring: true, role: 'owner' }),
    });
    expect(found.body.truncated).toBe(false);
    // The colleague sees none: their two events do not overlap, and the user's are not theirs.
    expect((await conflicts(colleague, `start=${at(1, 0)}&end=${at(5, 0)}`)).body.items).toEqual([]);

    const first = await conflicts(user, `start=${at(1, 0)}&end=${at(5, 0)}&limit=2`);
    expect([named(first.body), first.body.truncated]).toEqual([['Review 02T09:00 x Call 02T09:30', 'Review 02T09:00 x Standup 02T09:45'], true]);
    // A window sees the occurrences in it.
    expect(named((await conflicts(user, `start=${at(3, 0)}&end=${at(4, 0)}`)).body)).toEqual(['Workshop 03T09:00 x Standup 03T09:45']);
    // A series whose occurrences overlap each other (a daily event of 26 hours) is not booked twice.
    await createEvent(app.api, user, { title: 'Retreat', start_time: at(6, 9), end_time: at(7, 11), is_recurring: true, recurrence_pattern: { frequency: 'daily', count: 2 } });
    expect((await conflicts(user, `start=${at(6, 0)}&end=${at(9, 0)}`)).body.items).toEqual([]);
  });

  it.each([
    ['no end', `start=${at(1, 0)}`, 'query.end'],
    ['an end before the start', `start=${at(2, 0)}&end=${at(1, 0)}`, 'query.end'],
    ['a window over 366 days', 'start=2026-01-01T00:00:00Z&end=2027-06-01T00:00:00Z', 'query.end'],
    ['a limit of 0', `start=${at(1, 0)}&end=${at(2, 0)}&limit=0`, 'query.limit'],
  ])('refuses %s with 422 naming the field, and answers no one without a token', async (_, query, path) => {
    const response = await conflicts(owner, query);
    expect(response.status).toBe(422);
    expect(response.body.error.details.fields.map((field: { path: string }) => field.path)).toContain(path);
    expect((await app.api.get(`/events/conflicts?start=${at(1, 0)}&end=${at(2, 0)}`)).status).toBe(401);
  });
});

describe('update', () => {
  it('changes only the given fields and records one version with a changelog row per changed field', async () => {
    const id = await createEvent(app.api, owner);
    const updated = await app.api.put(
      `/events/${id}`,
      { title: 'Planning v2', location: null, description: 'Quarterly planning', change_description: 'Renamed, no room' },
      { token: owner.token },
    );
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('"2"');
    expect(updated.body).toMatchObject({ title: 'Planning v2', location: null, description: 'Quarterly planning', version: 2 });

    const version = await app.api.get(`/events/${id}/history/2`, { token: owner.token });
    expect(version.body).toMatchObject({ version_number: 2, change_description: 'Renamed, no room', data: { title: 'Planning v2', location: null } });
    const changelog = await app.api.get(`/events/${id}/changelog`, { token: owner.token });
    const rows = changelog.body.items.filter((row: { version_number: number }) => row.version_number === 2);
    expect(rows).toEqual([
      expect.objectContaining({ field_name: 'title', old_value: 'Planning', new_value: 'Planning v2', created_by: { id: owner.id, username: owner.username } }),
      expect.objectContaining({ field_name: 'location', old_value: 'Room 1', new_value: null }),
    ]);
  });

  it('makes no version for a PUT that changes nothing', async () => {
    const id = await createEvent(app.api, owner);
    for (const body of [{}, { title: 'Planning' }, { start_time: '2026-06-01T11:00:00+02:00' }]) {
      const response = await app.api.put(`/events/${id}`, body, { token: owner.token });
      expect(response.status).toBe(200);
      expect(response.body.version).toBe(1);
    }
    expect((await app.api.get(`/events/${id}/history`, { token: owner.token })).body).toHaveLength(1);
  });

  it('turning recurrence off clears the rule', async () => {
    const id = await createEvent(app.api, owner, { is_recurring: true, recurrence_pattern: { frequency: 'daily', count: 3 } });
    const updated = await app.api.put(`/events/${id}`, { is_recurring: false }, { token: owner.token });
    expect(updated.body).toMatchObject({ is_recurring: false, recurrence_pattern: null, version: 2 });
  });

  it('checks the merged result: moving only the start past the end is refused and changes nothing', async () => {
    const id = await createEvent(app.api, owner);
    const response = await app.api.put(`/events/${id}`, { start_time: '2026-06-01T10:30:00Z' }, { token: owner.token });
    expect(response.status).toBe(422);
    expect(response.body.error.details.fields).toEqual([{ path: 'body.end_time', message: 'must be after start_time' }]);
    expect((await app.api.get(`/events/${id}`, { token: owner.token })).body.version).toBe(1);
  });
});

describe('If-Match', () => {
  it('applies a PUT whose If-Match is current, and refuses a stale one with 412, changing nothing', async () => {
    const id = await createEvent(app.api, owner);
    const fresh = await app.api.put(`/events/${id}`, { title: 'A' }, { token: owner.token, headers: { 'if-match': '"1"' } });
    expect(fresh.status).toBe(200);

    const stale = await app.api.put(`/events/${id}`, { title: 'B' }, { token: owner.token, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'precondition_failed', details: { current_version: 2 } });
    const current = await app.api.get(`/events/${id}`, { token: owner.token });
    expect(current.body).toMatchObject({ title: 'A', version: 2 });
  });

  it('accepts * and lists of tags, never weak or malformed tags', async () => {
    const id = await createEvent(app.api, owner);
    const put = (ifMatch: string, title: string) => app.api.put(`/events/${id}`, { title }, { token: owner.token, headers: { 'if-match': ifMatch } });
    expect((await put('*', 'one')).status).toBe(200);
    expect((await put('"1", "2"', 'two')).status).toBe(200);
    expect((await put('W/"3"', 'three')).status).toBe(412);
    expect((await put('3', 'three')).status).toBe(412);
    expect((await put('"3"', 'three')).status).toBe(200);
  });

  it('guards DELETE too', async () => {
    const id = await createEvent(app.api, owner);
    await app.api.put(`/events/${id}`, { title: 'changed' }, { token: owner.token });
    expect((await app.api.delete(`/events/${id}`, { token: owner.token, headers: { 'if-match': '"1"' } })).status).toBe(412);
    expect((await app.api.delete(`/events/${id}`, { token: owner.token, headers: { 'if-match': '"2"' } })).status).toBe(204);
  });

  it('lets exactly one of several writers holding the same ETag win', async () => {
    const id = await createEvent(app.api, owner);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, n) => app.api.put(`/events/${id}`, { title: `writer ${n}` }, { token: owner.token, headers: { 'if-match': '"1"' } })),
    );
    expect(results.map((result) => result.status).sort()).toEqual([200, 412, 412, 412, 412]);
    expect((await app.api.get(`/events/${id}/history`, { token: owner.token })).body).toHaveLength(2);
  });
});

describe('concurrent edits', () => {
  it('records every one of many concurrent PUTs: unique version numbers, no field lost', async () => {
    const editor = await createUser(app.api, 'concurrent');
    const id = await createEvent(app.api, owner);
    await share(app.api, owner, id, editor, 'editor');
    const edits = [
      { title: 'New title' },
      { description: 'New description' },
      { location: 'New room' },
      { start_time: '2026-06-01T08:00:00Z' },
      { end_time: '2026-06-01T11:00:00Z' },
      { is_recurring: true, recurrence_pattern: { frequency: 'daily', count: 5 } },
    ];
    const results = await Promise.all(
      edits.map((body, n) => app.api.put(`/events/${id}`, body, { token: (n % 2 ? editor : owner).token })),
    );
    expect(results.map((result) => result.status)).toEqual(edits.map(() => 200));

    const history = await app.api.get(`/events/${id}/history`, { token: owner.token });
    expect(history.body.map((version: { version_number: number }) => version.version_number)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    const final = await app.api.get(`/events/${id}`, { token: owner.token });
    expect(final.body).toMatchObject({
      title: 'New title',
      description: 'New description',
      location: 'New room',
      start_time: '2026-06-01T08:00:00.000Z',
      end_time: '2026-06-01T11:00:00.000Z',
      is_recurring: true,
      recurrence_pattern: { frequency: 'daily', count: 5 },
      version: 7,
    });
    // Each version's changelog names exactly the fields of the PUT that made it.
    const changelog = await app.api.get(`/events/${id}/changelog`, { token: owner.token });
    const laterRows = changelog.body.items.filter((row: { version_number: number }) => row.version_number > 1);
    expect(laterRows).toHaveLength(7);
    expect(new Set(laterRows.map((row: { field_name: string }) => row.field_name))).toEqual(
      new Set(['title', 'description', 'location', 'start_time', 'end_time', 'is_recurring', 'recurrence_pattern']),
    );
  });
});

describe('delete', () => {
  it('removes the event with its history and sharing', async () => {
    const viewer = await createUser(app.api, 'deleted-viewer');
    const id = await createEvent(app.api, owner);
    await share(app.api, owner, id, viewer, 'viewer');
    expect((await app.api.delete(`/events/${id}`, { token: owner.token })).status).toBe(204);
    expect((await app.api.get(`/events/${id}`, { token: owner.token })).status).toBe(404);
    expect((await app.api.get(`/events/${id}/history`, { token: viewer.token })).status).toBe(404);
    expect((await app.api.get('/events', { token: viewer.token })).body.total).toBe(0);
    expect((await app.api.delete(`/events/${id}`, { token: owner.token })).status).toBe(404);
  });
});
