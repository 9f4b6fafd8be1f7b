import type { ApiResponse, RequestOptions } from './support/api';
import { createEvent, createUser, sampleEvent, type TestUser } from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * A sweep of bad input: every one must get a clean 4xx in the one error shape, never a 500 or a
 * stack trace, and a rejected write must leave nothing behind.
 */

let app: TestApp;
let owner: TestUser;
let friend: TestUser;
/** A plain (non-recurring) event owned by `owner`, shared with `friend` as a viewer. */
let eventId: number;
/** A recurring event whose rule ends on 2026-06-30. */
let recurringId: number;

beforeAll(async () => {
  app = await startTestApp();
  owner = await createUser(app.api, 'bad');
  friend = await createUser(app.api, 'friend');
  eventId = await createEvent(app.api, owner);
  recurringId = await createEvent(app.api, owner, {
    is_recurring: true,
    recurrence_pattern: { frequency: 'daily', until: '2026-06-30T09:00:00Z' },
  });
  const shared = await app.api.post(`/events/${eventId}/share`, { user_id: friend.id, role: 'viewer' }, { token: owner.token });
  if (shared.status !== 201) throw new Error(`share failed: ${shared.status} ${JSON.stringify(shared.body)}`);
});
afterAll(() => app.close());

// ---------------------------------------------------------------------------------------------
// Helpers

const ERROR_KEYS = ['code', 'message', 'details'];

/** The response is a clean error: this status and code, the one shape, no internals leaked. */
function expectError(response: ApiResponse, status: number, code: string): void {
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  // Status and code together, with the body, so a failure shows what came back.
  expect({ status: response.status, body: response.body }).toMatchObject({ status, body: { error: { code } } });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(text).not.toMatch(/stack/i);
  expect(text).not.toContain('at /');
  expect(Object.keys(response.body)).toEqual(['error']);
  const { error } = response.body;
  expect(typeof error.code).toBe('string');
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(error)) expect(ERROR_KEYS).toContain(key);
}

/** A 422 whose details.fields are well formed and name every path in `paths` (a RegExp: some path matching it). */
function expectValidation(response: ApiResponse, ...paths: (string | RegExp)[]): void {
  expectError(response, 422, 'validation_error');
  const { details } = response.body.error;
  expect(Object.keys(details)).toEqual(['fields']);
  expect(Array.isArray(details.fields)).toBe(true);
  expect(details.fields.length).toBeGreaterThan(0);
  for (const field of details.fields) {
    expect(Object.keys(field).sort()).toEqual(['message', 'path']);
    expect(field.path).toMatch(/^(body|path|query)(\.|$)/);
    expect(typeof field.message).toBe('string');
  }
  const named = details.fields.map((field: { path: string }) => field.path);
  expect(named).toEqual(expect.arrayContaining(paths.map((path) => (typeof path === 'string' ? path : expect.stringMatching(path)))));
}

const auth = (options: RequestOptions = {}): RequestOptions => ({ token: owner.token, ...options });

/** What a rejected write must not change: the event, its history and its sharing. */
async function stateOf(id: number) {
  const [event, history, changelog, permissions] = await Promise.all([
    app.api.get(`/events/${id}`, auth()),
    app.api.get(`/events/${id}/history`, auth()),
    app.api.get(`/events/${id}/changelog?limit=100`, auth()),
    app.api.get(`/events/${id}/permissions`, auth()),
  ]);
  expect([event.status, history.status, changelog.status, permissions.status]).toEqual([200, 200, 200, 200]);
  return {
    event: event.body,
    etag: event.headers.get('etag'),
    historyLength: history.body.length,
    changelogTotal: changelog.body.total,
    permissions: permissions.body,
  };
}

/** How many events each test user can see, to show a rejected create wrote nothing. */
async function eventCounts() {
  const [mine, theirs] = await Promise.all([
    app.api.get('/events?limit=1', auth()),
    app.api.get('/events?limit=1', { token: friend.token }),
  ]);
  expect([mine.status, theirs.status]).toEqual([200, 200]);
  return { mine: mine.body.total, theirs: theirs.body.total };
}

/** Runs a write that must be rejected, and checks both events and the event count are untouched. */
async function rejectedWrite(write: () => Promise<ApiResponse>): Promise<ApiResponse> {
  const [beforePlain, beforeRecurring, beforeCounts] = await Promise.all([stateOf(eventId), stateOf(recurringId), eventCounts()]);
  const response = await write();
  const [afterPlain, afterRecurring, afterCounts] = await Promise.all([stateOf(eventId), stateOf(recurringId), eventCounts()]);
  expect(afterPlain).toEqual(beforePlain);
  expect(afterRecurring).toEqual(beforeRecurring);
  expect(afterCounts).toEqual(beforeCounts);
  return response;
}

const long = (length: number) => 'x'.repeat(length);

// ---------------------------------------------------------------------------------------------
// Bodies that are not JSON objects

const NOT_JSON = [
  ['truncated', '{"title": "Planning"'],
  ['single quotes', "{'title': 'Planning'}"],
  ['unquoted key', '{title: "Planning"}'],
  ['trailing comma', '{"title": "Planning",}'],
  ['bare word', 'hello'],
  ['two objects', '{}{}'],
  ['prototype poisoning', '{"__proto__": {"isAdmin": true}, "title": "x"}'],
];

const NOT_AN_OBJECT = [
  ['an empty array', '[]'],
  ['an array of an event', JSON.stringify([sampleEvent()])],
  ['a string', '"Planning"'],
  ['null', 'null'],
  ['a number', '42'],
  ['true', 'true'],
];

describe.each([
  ['POST /events', 'POST', () => '/events'],
  ['PUT /events/{id}', 'PUT', () => `/events/${eventId}`],
  ['POST /events/{id}/share', 'POST', () => `/events/${eventId}/share`],
  ['PUT /events/{id}/permissions/{user_id}', 'PUT', () => `/events/${eventId}/permissions/${friend.id}`],
])('%s with a body that is not a JSON object', (_name, method, path) => {
  it.each(NOT_JSON)('rejects malformed JSON (%s) with 400 bad_request', async (_case, raw) => {
    const response = await rejectedWrite(() =>
      app.api.request(method, path(), undefined, auth({ raw, headers: { 'content-type': 'application/json' } })),
    );
    expectError(response, 400, 'bad_request');
  });

  it.each(NOT_AN_OBJECT)('rejects %s with 400 bad_request', async (_case, raw) => {
    const response = await rejectedWrite(() =>
      app.api.request(method, path(), undefined, auth({ raw, headers: { 'content-type': 'application/json' } })),
    );
    expectError(response, 400, 'bad_request');
  });
});

// ---------------------------------------------------------------------------------------------
// POST /events: field by field

const CREATE_CASES: [string, Record<string, unknown>, string][] = [
  ['title a number', { title: 42 }, 'body.title'],
  ['title null', { title: null }, 'body.title'],
  ['title an empty string', { title: '' }, 'body.title'],
  ['title only spaces', { title: '   ' }, 'body.title'],
  ['title 201 characters', { title: long(201) }, 'body.title'],
  ['title an array', { title: ['Planning'] }, 'body.title'],
  ['description a number', { description: 5 }, 'body.description'],
  ['description null', { description: null }, 'body.description'],
  ['description 10001 characters', { description: long(10_001) }, 'body.description'],
  ['start_time not a date', { start_time: 'tomorrow' }, 'body.start_time'],
  ['start_time a number', { start_time: 1780304400000 }, 'body.start_time'],
  ['start_time without a time zone', { start_time: '2026-06-01T09:00:00' }, 'body.start_time'],
  ['start_time a date only', { start_time: '2026-06-01' }, 'body.start_time'],
  ['start_time month 13 day 45', { start_time: '2026-13-45T00:00:00Z' }, 'body.start_time'],
  ['start_time February 30', { start_time: '2026-02-30T09:00:00Z' }, 'body.start_time'],
  ['start_time hour 25', { start_time: '2026-06-01T25:00:00Z' }, 'body.start_time'],
  ['start_time missing', { start_time: undefined }, 'body.start_time'],
  ['end_time not a date', { end_time: 'later' }, 'body.end_time'],
  ['end_time without a time zone', { end_time: '2026-06-01T10:00:00' }, 'body.end_time'],
  ['end_time month 13 day 45', { end_time: '2026-13-45T00:00:00Z' }, 'body.end_time'],
  ['end_time null', { end_time: null }, 'body.end_time'],
  ['end_time missing', { end_time: undefined }, 'body.end_time'],
  ['location a number', { location: 7 }, 'body.location'],
  ['location 501 characters', { location: long(501) }, 'body.location'],
  ['is_recurring "yes"', { is_recurring: 'yes' }, 'body.is_recurring'],
  ['is_recurring 1', { is_recurring: 1 }, 'body.is_recurring'],
  ['is_recurring "true"', { is_recurring: 'true' }, 'body.is_recurring'],
  ['is_recurring null', { is_recurring: null }, 'body.is_recurring'],
  ['recurrence_pattern a string', { is_recurring: true, recurrence_pattern: 'daily' }, 'body.recurrence_pattern'],
  ['recurrence_pattern an array', { is_recurring: true, recurrence_pattern: [] }, 'body.recurrence_pattern'],
  ['an unknown field', { colour: 'red' }, 'body.colour'],
  ['an id', { id: 1 }, 'body.id'],
  ['an owner_id', { owner_id: 1 }, 'body.owner_id'],
  ['a version', { version: 5 }, 'body.version'],
  ['a change_description (update only)', { change_description: 'x' }, 'body.change_description'],
  ['end_time before start_time', { start_time: '2026-06-01T10:00:00Z', end_time: '2026-06-01T09:00:00Z' }, 'body.end_time'],
  ['end_time equal to start_time', { start_time: '2026-06-01T10:00:00Z', end_time: '2026-06-01T10:00:00Z' }, 'body.end_time'],
  [
    'end_time equal to start_time in another offset',
    { start_time: '2026-06-01T10:00:00Z', end_time: '2026-06-01T12:00:00+02:00' },
    'body.end_time',
  ],
  ['is_recurring true without recurrence_pattern', { is_recurring: true }, 'body.recurrence_pattern'],
  ['is_recurring true with a null recurrence_pattern', { is_recurring: true, recurrence_pattern: null }, 'body.recurrence_pattern'],
  ['recurrence_pattern with is_recurring false', { is_recurring: false, recurrence_pattern: { frequency: 'daily' } }, 'body.recurrence_pattern'],
  ['recurrence_pattern without is_recurring', { recurrence_pattern: { frequency: 'daily' } }, 'body.recurrence_pattern'],
];

const recurring = (pattern: unknown) => ({ is_recurring: true, recurrence_pattern: pattern });

const BAD_PATTERNS: [string, unknown, string | RegExp][] = [
  ['frequency "hourly"', { frequency: 'hourly' }, 'body.recurrence_pattern.frequency'],
  ['no frequency', { interval: 2 }, 'body.recurrence_pattern.frequency'],
  ['an empty pattern', {}, /^body\.recurrence_pattern\./],
  ['interval 0', { frequency: 'daily', interval: 0 }, 'body.recurrence_pattern.interval'],
  ['interval 1.5', { frequency: 'daily', interval: 1.5 }, 'body.recurrence_pattern.interval'],
  ['interval "2"', { frequency: 'daily', interval: '2' }, 'body.recurrence_pattern.interval'],
  ['count 0', { frequency: 'daily', count: 0 }, 'body.recurrence_pattern.count'],
  ['count and until together', { frequency: 'daily', count: 3, until: '2026-07-01T00:00:00Z' }, 'body.recurrence_pattern.until'],
  ['until not a date', { frequency: 'daily', until: 'next month' }, 'body.recurrence_pattern.until'],
  ['by_weekday ["XX"]', { frequency: 'weekly', by_weekday: ['XX'] }, 'body.recurrence_pattern.by_weekday.0'],
  ['by_weekday []', { frequency: 'weekly', by_weekday: [] }, 'body.recurrence_pattern.by_weekday'],
  ['by_weekday "MO"', { frequency: 'weekly', by_weekday: 'MO' }, 'body.recurrence_pattern.by_weekday'],
  ['by_month_day [0]', { frequency: 'monthly', by_month_day: [0] }, 'body.recurrence_pattern.by_month_day.0'],
  ['by_month_day [32]', { frequency: 'monthly', by_month_day: [32] }, 'body.recurrence_pattern.by_month_day.0'],
  ['an unknown pattern field', { frequency: 'daily', every: 2 }, 'body.recurrence_pattern.every'],
  ['rrule "FREQ=FOO"', { rrule: 'FREQ=FOO' }, 'body.recurrence_pattern.rrule'],
  ['rrule "garbage"', { rrule: 'garbage' }, 'body.recurrence_pattern.rrule'],
  ['rrule "FREQ=DAILY;COUNT=abc"', { rrule: 'FREQ=DAILY;COUNT=abc' }, 'body.recurrence_pattern.rrule'],
  ['rrule "FREQ=DAILY;BYMONTH=13"', { rrule: 'FREQ=DAILY;BYMONTH=13' }, 'body.recurrence_pattern.rrule'],
  ['rrule "FREQ=WEEKLY;BYDAY=XX"', { rrule: 'FREQ=WEEKLY;BYDAY=XX' }, 'body.recurrence_pattern.rrule'],
  ['rrule "COUNT=3" (no FREQ)', { rrule: 'COUNT=3' }, 'body.recurrence_pattern.rrule'],
  ['rrule with a DTSTART', { rrule: 'DTSTART:20260601T090000Z\nRRULE:FREQ=DAILY' }, 'body.recurrence_pattern.rrule'],
  ['rrule empty', { rrule: '' }, 'body.recurrence_pattern.rrule'],
  ['rrule a number', { rrule: 5 }, 'body.recurrence_pattern.rrule'],
  ['rrule with structured fields', { rrule: 'FREQ=DAILY', frequency: 'daily' }, /^body\.recurrence_pattern\.(rrule|frequency)$/],
  ['an unknown time_zone', { frequency: 'daily', time_zone: 'Mars/Olympus_Mons' }, 'body.recurrence_pattern.time_zone'],
  ['exdates not dates', { frequency: 'daily', exdates: ['next Monday'] }, 'body.recurrence_pattern.exdates.0'],
  ['exdates empty', { frequency: 'daily', exdates: [] }, 'body.recurrence_pattern.exdates'],
  ['an offset for a time_zone', { rrule: 'FREQ=DAILY', time_zone: '+01:00' }, 'body.recurrence_pattern.time_zone'],
  ['an override ending before it starts', { frequency: 'daily', overrides: [{ recurrence_id: '2026-06-02T09:00:00Z', start_time: '2026-06-02T11:00:00Z', end_time: '2026-06-02T10:00:00Z' }] }, 'body.recurrence_pattern.overrides.0.end_time'],
  ['an occurrence moved twice', { frequency: 'daily', overrides: [1, 2].map((hour) => ({ recurrence_id: '2026-06-02T09:00:00Z', start_time: `2026-06-02T1${hour}:00:00Z`, end_time: `2026-06-02T1${hour}:30:00Z` })) }, 'body.recurrence_pattern.overrides'],
  ['an occurrence given an empty title', { frequency: 'daily', overrides: [{ recurrence_id: '2026-06-02T09:00:00Z', start_time: '2026-06-02T09:00:00Z', end_time: '2026-06-02T10:00:00Z', title: '  ' }] }, 'body.recurrence_pattern.overrides.0.title'],
  ['an occurrence given a field events lack', { frequency: 'daily', overrides: [{ recurrence_id: '2026-06-02T09:00:00Z', start_time: '2026-06-02T09:00:00Z', end_time: '2026-06-02T10:00:00Z', colour: 'red' }] }, 'body.recurrence_pattern.overrides.0.colour'],
  ['structured until before start_time', { frequency: 'daily', until: '2026-05-31T09:00:00Z' }, 'body.recurrence_pattern.until'],
];

describe('POST /events rejects bad fields with a 422 naming the field, and creates nothing', () => {
  it.each(CREATE_CASES)('%s', async (_case, overrides, path) => {
    const response = await rejectedWrite(() => app.api.post('/events', sampleEvent(overrides), auth()));
    expectValidation(response, path);
  });

  it.each(BAD_PATTERNS)('recurrence_pattern with %s', async (_case, pattern, path) => {
    const response = await rejectedWrite(() => app.api.post('/events', sampleEvent(recurring(pattern)), auth()));
    expectValidation(response, path);
  });

  it('reports every bad field at once', async () => {
    const response = await rejectedWrite(() =>
      app.api.post('/events', { title: 7, start_time: 'soon', end_time: 'later', is_recurring: 'yes', extra: 1 }, auth()),
    );
    expectValidation(response, 'body.title', 'body.start_time', 'body.end_time', 'body.is_recurring', 'body.extra');
  });

  it('treats an empty body as an empty object: 422 for the required fields', async () => {
    const response = await rejectedWrite(() => app.api.post('/events', undefined, auth()));
    expectValidation(response, 'body.title', 'body.start_time', 'body.end_time');
    expect(response.body.error.details.fields).toEqual([
      { path: 'body.title', message: 'is required' },
      { path: 'body.start_time', message: 'is required' },
      { path: 'body.end_time', message: 'is required' },
    ]);
  });
});

describe('POST /events accepts the edges of what is valid', () => {
  it('takes a 200-character title and a 10000-character description', async () => {
    const response = await app.api.post('/events', sampleEvent({ title: long(200), description: long(10_000) }), auth());
    expect(response.status).toBe(201);
    expect(response.body.title).toHaveLength(200);
    expect(response.body.description).toHaveLength(10_000);
  });

  it('takes times in any offset and returns them in UTC', async () => {
    const response = await app.api.post(
      '/events',
      sampleEvent({ start_time: '2026-06-01T11:00:00+02:00', end_time: '2026-06-01T10:30:00Z' }),
      auth(),
    );
    expect(response.status).toBe(201);
    expect(response.body.start_time).toBe('2026-06-01T09:00:00.000Z');
    expect(response.body.end_time).toBe('2026-06-01T10:30:00.000Z');
  });

  it('takes a structured weekly rule, with its weekdays in week order', async () => {
    const response = await app.api.post(
      '/events',
      sampleEvent(recurring({ frequency: 'weekly', interval: 2, by_weekday: ['WE', 'MO', 'WE'], count: 10 })),
      auth(),
    );
    expect(response.status).toBe(201);
    expect(response.body.is_recurring).toBe(true);
    expect(response.body.recurrence_pattern).toEqual({ frequency: 'weekly', interval: 2, by_weekday: ['MO', 'WE'], count: 10 });
  });

  it('takes a structured rule with until, returned in UTC', async () => {
    const response = await app.api.post(
      '/events',
      sampleEvent(recurring({ frequency: 'monthly', by_month_day: [15, 1, -1], until: '2026-12-31T23:00:00-01:00' })),
      auth(),
    );
    expect(response.status).toBe(201);
    expect(response.body.recurrence_pattern).toEqual({
      frequency: 'monthly',
      by_month_day: [-1, 1, 15],
      until: '2027-01-01T00:00:00.000Z',
    });
  });

  it('takes an RRULE and returns it normalised, as a string', async () => {
    const response = await app.api.post('/events', sampleEvent(recurring({ rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10' })), auth());
    expect(response.status).toBe(201);
    const { rrule } = response.body.recurrence_pattern;
    expect(typeof rrule).toBe('string');
    expect(Object.keys(response.body.recurrence_pattern)).toEqual(['rrule']);
    expect(rrule).not.toMatch(/^RRULE:/);
    expect(rrule.split(';').sort()).toEqual(['BYDAY=MO,WE', 'COUNT=10', 'FREQ=WEEKLY']);
    const again = await app.api.get(`/events/${response.body.id}`, auth());
    expect(again.body.recurrence_pattern).toEqual({ rrule });
  });

  it('accepts an "RRULE:" prefix and drops it', async () => {
    const response = await app.api.post('/events', sampleEvent(recurring({ rrule: 'RRULE:FREQ=DAILY;COUNT=5' })), auth());
    expect(response.status).toBe(201);
    expect(typeof response.body.recurrence_pattern.rrule).toBe('string');
    expect(response.body.recurrence_pattern.rrule).not.toMatch(/RRULE:/);
    expect(response.body.recurrence_pattern.rrule.split(';').sort()).toEqual(['COUNT=5', 'FREQ=DAILY']);
  });

  it('accepts application/json with a charset', async () => {
    const response = await app.api.request(
      'POST',
      '/events',
      undefined,
      auth({ raw: JSON.stringify(sampleEvent()), headers: { 'content-type': 'application/json; charset=utf-8' } }),
    );
    expect(response.status).toBe(201);
  });
});

// ---------------------------------------------------------------------------------------------
// PUT /events/{id}: field by field, and rules checked against the merged result

const UPDATE_CASES: [string, () => number, Record<string, unknown>, string][] = [
  ['title a number', () => eventId, { title: 42 }, 'body.title'],
  ['title null', () => eventId, { title: null }, 'body.title'],
  ['title only spaces', () => eventId, { title: '   ' }, 'body.title'],
  ['title 201 characters', () => eventId, { title: long(201) }, 'body.title'],
  ['description a number', () => eventId, { description: 1 }, 'body.description'],
  ['description 10001 characters', () => eventId, { description: long(10_001) }, 'body.description'],
  ['start_time not a date', () => eventId, { start_time: 'tomorrow' }, 'body.start_time'],
  ['start_time without a time zone', () => eventId, { start_time: '2026-06-01T09:30:00' }, 'body.start_time'],
  ['start_time month 13 day 45', () => eventId, { start_time: '2026-13-45T00:00:00Z' }, 'body.start_time'],
  ['start_time null', () => eventId, { start_time: null }, 'body.start_time'],
  ['end_time without a time zone', () => eventId, { end_time: '2026-06-01T10:30:00' }, 'body.end_time'],
  ['end_time month 13 day 45', () => eventId, { end_time: '2026-13-45T00:00:00Z' }, 'body.end_time'],
  ['location a number', () => eventId, { location: 7 }, 'body.location'],
  ['is_recurring "yes"', () => eventId, { is_recurring: 'yes' }, 'body.is_recurring'],
  ['change_description 501 characters', () => eventId, { title: 'New', change_description: long(501) }, 'body.change_description'],
  ['an unknown field', () => eventId, { colour: 'red' }, 'body.colour'],
  ['an id', () => eventId, { id: 99 }, 'body.id'],
  ['an owner_id', () => eventId, { owner_id: 99 }, 'body.owner_id'],
  ['a version', () => eventId, { version: 99 }, 'body.version'],
  ['a valid field next to an invalid one', () => eventId, { title: 'Changed', end_time: 'never' }, 'body.end_time'],
  ['a valid field next to an unknown one', () => eventId, { title: 'Changed', colour: 'red' }, 'body.colour'],
  // The event runs 09:00-10:00 on 2026-06-01: move one side only.
  ['only end_time, before start_time', () => eventId, { end_time: '2026-06-01T08:00:00Z' }, 'body.end_time'],
  ['only end_time, equal to start_time', () => eventId, { end_time: '2026-06-01T09:00:00Z' }, 'body.end_time'],
  ['only start_time, after end_time', () => eventId, { start_time: '2026-06-01T11:00:00Z' }, 'body.end_time'],
  ['only start_time, equal to end_time', () => eventId, { start_time: '2026-06-01T10:00:00Z' }, 'body.end_time'],
  ['both, swapped', () => eventId, { start_time: '2026-06-02T10:00:00Z', end_time: '2026-06-02T09:00:00Z' }, 'body.end_time'],
  ['is_recurring true without a pattern', () => eventId, { is_recurring: true }, 'body.recurrence_pattern'],
  ['a pattern on a non-recurring event', () => eventId, { recurrence_pattern: { frequency: 'daily' } }, 'body.recurrence_pattern'],
  [
    'a pattern with is_recurring false',
    () => eventId,
    { is_recurring: false, recurrence_pattern: { frequency: 'daily' } },
    'body.recurrence_pattern',
  ],
  ['a null pattern on a recurring event', () => recurringId, { recurrence_pattern: null }, 'body.recurrence_pattern'],
  // The recurring event starts 2026-06-01T09:00Z and its rule ends 2026-06-30T09:00Z.
  ['start_time moved past the rule\'s until', () => recurringId, { start_time: '2026-07-01T09:00:00Z', end_time: '2026-07-01T10:00:00Z' }, 'body.recurrence_pattern.until'],
  [
    'an until before start_time',
    () => recurringId,
    { recurrence_pattern: { frequency: 'daily', until: '2026-05-01T00:00:00Z' } },
    'body.recurrence_pattern.until',
  ],
];

describe('PUT /events/{id} rejects bad fields with a 422 naming the field, and writes nothing', () => {
  it.each(UPDATE_CASES)('%s', async (_case, id, body, path) => {
    const response = await rejectedWrite(() => app.api.put(`/events/${id()}`, body, auth()));
    expectValidation(response, path);
  });

  it.each(BAD_PATTERNS.filter(([name]) => !name.startsWith('structured until')))(
    'recurrence_pattern with %s',
    async (_case, pattern, path) => {
      const response = await rejectedWrite(() => app.api.put(`/events/${recurringId}`, { recurrence_pattern: pattern }, auth()));
      expectValidation(response, path);
    },
  );

  it('still accepts a valid one-sided move afterwards', async () => {
    const moved = await app.api.put(`/events/${recurringId}`, { end_time: '2026-06-01T11:00:00Z' }, auth());
    expect(moved.status).toBe(200);
    expect(moved.body.end_time).toBe('2026-06-01T11:00:00.000Z');
    const back = await app.api.put(`/events/${recurringId}`, { end_time: '2026-06-01T10:00:00Z' }, auth());
    expect(back.status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Ids in every path position

interface RouteCase {
  method: string;
  template: string;
  body?: () => unknown;
}

const ID_ROUTES: RouteCase[] = [
  { method: 'GET', template: '/events/{id}' },
  { method: 'PUT', template: '/events/{id}', body: () => ({ title: 'Changed by a bad id' }) },
  { method: 'DELETE', template: '/events/{id}' },
  { method: 'POST', template: '/events/{id}/share', body: () => ({ user_id: friend.id, role: 'editor' }) },
  { method: 'GET', template: '/events/{id}/permissions' },
  { method: 'PUT', template: '/events/{id}/permissions/{user_id}', body: () => ({ role: 'editor' }) },
  { method: 'DELETE', template: '/events/{id}/permissions/{user_id}' },
  { method: 'GET', template: '/events/{id}/history' },
  { method: 'GET', template: '/events/{id}/history/{version_number}' },
  { method: 'POST', template: '/events/{id}/rollback/{version_number}' },
  { method: 'GET', template: '/events/{id}/changelog' },
  { method: 'GET', template: '/events/{id}/diff/{v1}/{v2}' },
];

const BAD_IDS = ['abc', '1.5', '-1', '0', '1e3', '99999999999', ' 1', '1 ', '0x10', '+1', '9999999999', '2147483648', '١'];

function validParams(): Record<string, string> {
  return { id: String(eventId), user_id: String(friend.id), version_number: '1', v1: '1', v2: '1' };
}

function fill(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(params[name]));
}

const PARAM_CASES = ID_ROUTES.flatMap((route) =>
  [...route.template.matchAll(/\{(\w+)\}/g)].map((match) => [`${route.method} ${route.template}`, match[1], route] as const),
);

describe.each(PARAM_CASES)('%s with a bad {%s}', (_name, param, route) => {
  it.each(BAD_IDS)('rejects %j with a 422 (never a 500), writing nothing', async (bad) => {
    const path = fill(route.template, { ...validParams(), [param]: bad });
    const response = await rejectedWrite(() => app.api.request(route.method, path, route.body?.(), auth()));
    expectValidation(response, `path.${param}`);
  });
});

describe('well-formed ids that do not exist are 404 not_found', () => {
  const MISSING_EVENT_IDS = ['2147483647', '999999'];
  it.each(ID_ROUTES.flatMap((route) => MISSING_EVENT_IDS.map((id) => [`${route.method} ${route.template}`, id, route] as const)))(
    '%s with id %s',
    async (_name, id, route) => {
      const path = fill(route.template, { ...validParams(), id });
      const response = await rejectedWrite(() => app.api.request(route.method, path, route.body?.(), auth()));
      expectError(response, 404, 'not_found');
    },
  );

  it.each([
    ['GET', '/events/{id}/history/{version_number}'],
    ['POST', '/events/{id}/rollback/{version_number}'],
  ])('%s %s with a version that does not exist', async (method, template) => {
    const path = fill(template, { ...validParams(), version_number: '999' });
    const response = await rejectedWrite(() => app.api.request(method, path, undefined, auth()));
    expectError(response, 404, 'not_found');
  });

  it.each([
    ['PUT', { role: 'editor' }],
    ['DELETE', undefined],
  ])('%s /events/{id}/permissions/{user_id} for a user without access', async (method, body) => {
    const path = `/events/${eventId}/permissions/2147483647`;
    const response = await rejectedWrite(() => app.api.request(method, path, body, auth()));
    expectError(response, 404, 'not_found');
  });

  it('POST /events/{id}/share with a user that does not exist', async () => {
    const response = await rejectedWrite(() =>
      app.api.post(`/events/${eventId}/share`, { user_id: 2147483647, role: 'viewer' }, auth()),
    );
    expectError(response, 404, 'not_found');
  });
});

// ---------------------------------------------------------------------------------------------
// Query parameters

describe('query parameters', () => {
  it.each([
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['limit=x', 'query.limit'],
    ['limit=1.5', 'query.limit'],
    ['limit=-5', 'query.limit'],
    ['limit=1&limit=2', 'query.limit'],
    ['offset=-1', 'query.offset'],
    ['offset=x', 'query.offset'],
    ['offset=99999999999', 'query.offset'],
    ['start=tomorrow', 'query.start'],
    ['start=2026-06-01', 'query.start'],
    ['start=2026-06-01T09:00:00', 'query.start'],
    ['start=2026-13-45T00:00:00Z', 'query.start'],
    ['end=later', 'query.end'],
    ['end=2026-06-01T09:00:00', 'query.end'],
    ['start=2026-06-02T00:00:00Z&end=2026-06-01T00:00:00Z', 'query.end'],
    ['start=2026-06-01T00:00:00Z&end=2026-06-01T00:00:00Z', 'query.end'],
    [`q=${'x'.repeat(201)}`, 'query.q'],
    ['q=%20%20', 'query.q'],
    ['role=admin', 'query.role'],
  ])('GET /events?%s is a 422 naming %s', async (query, path) => {
    const response = await app.api.get(`/events?${query}`, auth());
    expectValidation(response, path);
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['limit=x', 'query.limit'],
    ['offset=-1', 'query.offset'],
  ])('GET /events/{id}/changelog?%s is a 422 naming %s', async (query, path) => {
    const response = await app.api.get(`/events/${eventId}/changelog?${query}`, auth());
    expectValidation(response, path);
  });

  it('accepts the edges: limit 1 and 100, offset 0, start before end', async () => {
    for (const query of ['limit=1', 'limit=100', 'offset=0', 'start=2026-01-01T00:00:00Z&end=2026-12-31T00:00:00Z']) {
      const response = await app.api.get(`/events?${query}`, auth());
      expect({ query, status: response.status }).toEqual({ query, status: 200 });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Body size and media types

describe('body size', () => {
  const huge = () => sampleEvent({ description: long(150_000) });

  it('POST /events over 100kb is a 413 payload_too_large', async () => {
    const response = await rejectedWrite(() => app.api.post('/events', huge(), auth()));
    expectError(response, 413, 'payload_too_large');
  });

  it('PUT /events/{id} over 100kb is a 413 payload_too_large', async () => {
    const response = await rejectedWrite(() => app.api.put(`/events/${eventId}`, { description: long(150_000) }, auth()));
    expectError(response, 413, 'payload_too_large');
  });

  it('a form over 100kb on /auth/login is a 413 payload_too_large', async () => {
    const response = await app.api.post('/auth/login', undefined, { form: { username: long(150_000), password: 'x' } });
    expectError(response, 413, 'payload_too_large');
  });

  it('a body just under the limit is read and validated (422, not 413)', async () => {
    const response = await rejectedWrite(() => app.api.post('/events', sampleEvent({ description: long(90_000) }), auth()));
    expectValidation(response, 'body.description');
  });
});

describe('media types', () => {
  const json = () => JSON.stringify(sampleEvent());

  it.each([
    ['text/plain', 'POST', '/events'],
    ['text/plain', 'PUT', '/events/{id}'],
    ['text/plain', 'POST', '/events/{id}/share'],
    ['application/xml', 'POST', '/events'],
    ['application/octet-stream', 'PUT', '/events/{id}'],
    ['text/plain', 'POST', '/auth/register'],
    ['text/plain', 'POST', '/auth/login'],
  ])('a %s body on %s %s is a 415 unsupported_media_type', async (type, method, template) => {
    const response = await rejectedWrite(() =>
      app.api.request(method, fill(template, validParams()), undefined, auth({ raw: json(), headers: { 'content-type': type } })),
    );
    expectError(response, 415, 'unsupported_media_type');
  });

  it.each([
    ['POST', '/events', () => ({ ...sampleEvent(), title: 'From a form' })],
    ['PUT', '/events/{id}', () => ({ title: 'From a form' })],
    ['POST', '/events/{id}/share', () => ({ user_id: String(friend.id), role: 'editor' })],
    ['PUT', '/events/{id}/permissions/{user_id}', () => ({ role: 'editor' })],
    ['POST', '/auth/register', () => ({ email: 'form@example.com', username: 'formuser', password: 'long enough' })],
  ])('a form-encoded body on %s %s is a 415 (only /auth/login takes forms)', async (method, template, form) => {
    const response = await rejectedWrite(() =>
      app.api.request(method, fill(template, validParams()), undefined, auth({ form: form() as Record<string, string> })),
    );
    expectError(response, 415, 'unsupported_media_type');
  });

  it('the form is refused on /auth/register: the user was not created', async () => {
    const login = await app.api.post('/auth/login', { username: 'formuser', password: 'long enough' });
    expectError(login, 401, 'unauthorized');
  });
});

// ---------------------------------------------------------------------------------------------
// Sharing bodies

type ShareCase = [string, () => unknown, string | RegExp];

describe('POST /events/{id}/share rejects bad bodies, sharing nothing', () => {
  it.each(([
    ['user_id as a string', () => ({ user_id: String(friend.id), role: 'editor' }), 'body.user_id'],
    ['user_id "2"', () => ({ user_id: '2', role: 'editor' }), 'body.user_id'],
    ['user_id 0', () => ({ user_id: 0, role: 'editor' }), 'body.user_id'],
    ['user_id 1.5', () => ({ user_id: 1.5, role: 'editor' }), 'body.user_id'],
    ['user_id too large', () => ({ user_id: 99999999999, role: 'editor' }), 'body.user_id'],
    ['user_id missing', () => ({ role: 'editor' }), 'body.user_id'],
    ['role "owner"', () => ({ user_id: friend.id, role: 'owner' }), 'body.role'],
    ['role "admin"', () => ({ user_id: friend.id, role: 'admin' }), 'body.role'],
    ['role "Editor"', () => ({ user_id: friend.id, role: 'Editor' }), 'body.role'],
    ['role missing', () => ({ user_id: friend.id }), 'body.role'],
    ['an unknown field', () => ({ user_id: friend.id, role: 'editor', note: 'hi' }), 'body.note'],
    ['users: []', () => ({ users: [] }), 'body.users'],
    ['users not an array', () => ({ users: { user_id: friend.id, role: 'editor' } }), 'body.users'],
    ['users with a bad role', () => ({ users: [{ user_id: friend.id, role: 'owner' }] }), 'body.users.0.role'],
    ['users with a string user_id', () => ({ users: [{ user_id: '2', role: 'editor' }] }), 'body.users.0.user_id'],
    [
      'users naming someone twice',
      () => ({ users: [{ user_id: friend.id, role: 'editor' }, { user_id: friend.id, role: 'viewer' }] }),
      'body.users',
    ],
    ['sharing with yourself', () => ({ user_id: owner.id, role: 'editor' }), 'body.user_id'],
    ['an empty object', () => ({}), /^body\./],
  ] as ShareCase[]).map(([name, body, path]) => [name, path, body] as const))('%s is a 422 naming %s', async (_case, path, body) => {
    const response = await rejectedWrite(() => app.api.post(`/events/${eventId}/share`, body(), auth()));
    expectValidation(response, path);
  });

  it.each([
    ['role "admin"', { role: 'admin' }, 'body.role'],
    ['role missing', {}, 'body.role'],
    ['role a number', { role: 1 }, 'body.role'],
    ['an unknown field', { role: 'editor', user_id: 5 }, 'body.user_id'],
  ])('PUT /events/{id}/permissions/{user_id} with %s is a 422 naming %s', async (_case, body, path) => {
    const response = await rejectedWrite(() => app.api.put(`/events/${eventId}/permissions/${friend.id}`, body, auth()));
    expectValidation(response, path);
  });
});

// ---------------------------------------------------------------------------------------------
// Routes and methods

describe('unknown routes and wrong methods', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/events/1/nope'],
    ['POST', '/events/1/share/extra'],
    ['GET', '/events/abc/unknown'],
    ['PUT', '/event/1'],
  ])('%s %s is a 404 not_found', async (method, path) => {
    const response = await app.api.request(method, path, undefined, auth());
    expectError(response, 404, 'not_found');
  });

  const WRONG_METHODS: [string, string, string][] = [
    ['PATCH', '/events/{id}', 'DELETE, GET, HEAD, PUT'],
    ['DELETE', '/events', 'GET, HEAD, POST'],
    ['PUT', '/events', 'GET, HEAD, POST'],
    ['POST', '/events/{id}', 'DELETE, GET, HEAD, PUT'],
    ['POST', '/events/{id}/history', 'GET, HEAD'],
    ['DELETE', '/events/{id}/changelog', 'GET, HEAD'],
    ['GET', '/events/{id}/share', 'POST'],
    ['GET', '/events/{id}/rollback/{version_number}', 'POST'],
    ['GET', '/auth/login', 'POST'],
  ];
  const sendWrongMethod = (method: string, template: string) => {
    const body = method === 'GET' ? undefined : { title: 'Changed by a 405' };
    return app.api.request(method, fill(template, validParams()), body, auth());
  };

  it.each(WRONG_METHODS)('%s %s is a 405 method_not_allowed, changing nothing', async (method, template) => {
    const response = await rejectedWrite(() => sendWrongMethod(method, template));
    expectError(response, 405, 'method_not_allowed');
  });

  // Beyond the error-shape contract: RFC 9110 section 15.5.6 says a 405 MUST carry Allow.
  it.each(WRONG_METHODS)('%s %s says which methods are allowed (Allow: %s)', async (method, template, allowed) => {
    const response = await sendWrongMethod(method, template);
    expect(response.status).toBe(405);
    const allow = (response.headers.get('allow') ?? '').split(',').map((name) => name.trim()).filter(Boolean).sort();
    expect(allow).toEqual(expect.arrayContaining(allowed.split(', ').filter((name) => name !== 'HEAD')));
  });
});

// ---------------------------------------------------------------------------------------------
// After the whole sweep

describe('after the sweep', () => {
  it('the original events are exactly as they were created', async () => {
    const plain = await stateOf(eventId);
    expect(plain.event).toMatchObject({ ...sampleEvent(), start_time: '2026-06-01T09:00:00.000Z', end_time: '2026-06-01T10:00:00.000Z', version: 1 });
    expect(plain.historyLength).toBe(1);
    expect(plain.permissions.map((permission: { user_id: number; role: string }) => [permission.user_id, permission.role])).toEqual([
      [owner.id, 'owner'],
      [friend.id, 'viewer'],
    ]);
    const recurringEvent = await stateOf(recurringId);
    // Two valid PUTs moved end_time out and back.
    expect(recurringEvent.historyLength).toBe(3);
    expect(recurringEvent.event.recurrence_pattern).toEqual({ frequency: 'daily', until: '2026-06-30T09:00:00.000Z' });
  });
});
