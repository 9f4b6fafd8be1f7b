import ICAL from 'ical.js';
import { User } from '../src/db/entities';
import { createEvent, createUser, share, type TestUser } from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/**
 * A file as a calendar program reads it: Mozilla's ical.js, which also expands the series. Each
 * event's moved occurrences (VEVENTs with a RECURRENCE-ID) are related to it, not listed.
 */
function vevents(ics: string): ICAL.Event[] {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  for (const zone of calendar.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(zone);
  const all = calendar.getAllSubcomponents('vevent').map((vevent) => new ICAL.Event(vevent));
  const events = all.filter((event) => !event.isRecurrenceException());
  for (const exception of all.filter((event) => event.isRecurrenceException())) events.find((event) => event.uid === exception.uid)!.relateException(exception);
  return events;
}

describe('iCalendar export', () => {
  let user: TestUser;
  const LONG_TITLE = 'Ünïcödé planning, with everyone who signed up for the autumn offsite in Zürich';
  beforeAll(async () => {
    user = await createUser(app.api, 'ical');
    // Mondays at 09:00 in Berlin, whose clocks go back on 25 October; one week called off.
    await createEvent(app.api, user, {
      title: 'Team sync',
      description: 'Agenda: roadmap;\nhiring, budget \\ misc',
      location: 'Room 4, floor 2',
      start_time: '2026-10-12T07:00:00Z',
      end_time: '2026-10-12T07:30:00Z',
      is_recurring: true,
      recurrence_pattern: {
        frequency: 'weekly',
        by_weekday: ['MO'],
        count: 5,
        time_zone: 'Europe/Berlin',
        exdates: ['2026-10-19T07:00:00Z'],
        overrides: [
          // The 2 November meeting moves to Tuesday afternoon, as a planning meeting.
          { recurrence_id: '2026-11-02T08:00:00Z', start_time: '2026-11-03T13:00:00Z', end_time: '2026-11-03T14:00:00Z', title: 'Team planning', location: null },
          // 10:00 is not one of its times: written nowhere.
          { recurrence_id: '2026-10-26T09:00:00Z', start_time: '2026-10-27T13:00:00Z', end_time: '2026-10-27T14:00:00Z', title: 'Not an occurrence' },
        ],
      },
    });
    await createEvent(app.api, user, {
      title: 'Standup',
      start_time: '2026-10-24T08:00:00Z',
      end_time: '2026-10-24T08:15:00Z',
      is_recurring: true,
      recurrence_pattern: { rrule: 'FREQ=DAILY;UNTIL=20261028T000000Z' },
    });
    await createEvent(app.api, user, { title: LONG_TITLE, start_time: '2026-10-27T15:00:00Z', end_time: '2026-10-27T16:00:00Z', location: null });
  });

  const exported = async (query = '') => {
    const response = await app.api.get(`/events.ics${query}`, { token: user.token });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    return response.body as string;
  };

  it('writes each event once, a series with its rule, exclusions, moves and zone, which ical.js expands as we do', async () => {
    const ics = await exported();
    expect(ics.endsWith('\r\n')).toBe(true);
    // Folded at 75 octets, UTF-8 characters whole.
    for (const line of ics.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(ics).toContain('DTSTART;TZID=Europe/Berlin:20261012T090000');
    expect(ics.match(/BEGIN:VTIMEZONE/g)).toHaveLength(1);

    const events = vevents(ics);
    expect(events.map((event) => event.summary)).toEqual(['Team sync', 'Standup', LONG_TITLE]);
    expect(events[0]).toMatchObject({ description: 'Agenda: roadmap;\nhiring, budget \\ misc', location: 'Room 4, floor 2' });
    expect(new Set(events.map((event) => event.uid)).size).toBe(3);

    const theirs = events.flatMap((event) => {
      const starts: string[] = [];
      const iterator = event.iterator();
      for (let next = iterator.next(); next && starts.length < 50; next = iterator.next()) {
        const details = event.getOccurrenceDetails(next);
        starts.push(`${details.item.summary} ${details.startDate.toJSDate().toISOString()}`);
      }
      return starts;
    });
    const ours = await app.api.get('/events/occurrences?start=2026-10-01T00:00:00Z&end=2027-01-01T00:00:00Z', { token: user.token });
    const listed = ours.body.items.map((item: { title: string; start_time: string }) => `${item.title} ${item.start_time}`);
    expect(theirs.sort()).toEqual([...listed].sort());
    // Berlin's 09:00 is 07:00 UTC in summer time and 08:00 after; the 19th is called off.
    expect(listed.filter((entry: string) => entry.startsWith('Team'))).toEqual([
      'Team sync 2026-10-12T07:00:00.000Z',
      'Team sync 2026-10-26T08:00:00.000Z',
      'Team planning 2026-11-03T13:00:00.000Z',
      'Team sync 2026-11-09T08:00:00.000Z',
    ]);
    const exceptions = Object.values(events[0].exceptions);
    expect(exceptions).toHaveLength(1);
    expect(exceptions[0]).toMatchObject({ summary: 'Team planning', description: 'Agenda: roadmap;\nhiring, budget \\ misc', location: null });
    expect(ics).not.toContain('Not an occurrence');
  });

  it("takes the list's filters, and only the caller's events", async () => {
    expect(vevents(await exported('?q=standup')).map((event) => event.summary)).toEqual(['Standup']);
    const stranger = await createUser(app.api, 'ical-stranger');
    const theirs = await app.api.get('/events.ics', { token: stranger.token });
    expect(vevents(theirs.body)).toEqual([]);
    expect((await app.api.get('/events.ics?start=2026-10-02T00:00:00Z&end=2026-10-01T00:00:00Z', { token: user.token })).status).toBe(422);
    expect((await app.api.get('/events.ics')).status).toBe(401);
  });
});

describe('calendar feed', () => {
  const feedOf = async (user: TestUser): Promise<string> => {
    const made = await app.api.post('/calendar-feed', undefined, { token: user.token });
    expect(made.status).toBe(201);
    return made.body.url;
  };

  it("serves every event of its owner's, own and shared, without a token, until a new address replaces it or it is ended", async () => {
    const [user, colleague] = await Promise.all([createUser(app.api, 'feed'), createUser(app.api, 'feed-colleague')]);
    await createEvent(app.api, user, { title: 'Own' });
    await share(app.api, colleague, await createEvent(app.api, colleague, { title: 'Shared', start_time: '2026-06-02T09:00:00Z', end_time: '2026-06-02T10:00:00Z' }), user, 'viewer');
    const url = await feedOf(user);
    expect(url).toMatch(new RegExp(`^${app.baseUrl}/api/v1/calendar-feed/[A-Za-z0-9_-]{43}\\.ics$`));

    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(vevents(await fetched.text()).map((event) => event.summary)).toEqual(['Own', 'Shared']);

    const renewed = await feedOf(user);
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(renewed)).status).toBe(200);
    expect((await app.api.delete('/calendar-feed', { token: user.token })).status).toBe(204);
    expect((await fetch(renewed)).status).toBe(404);
  });

  it('keeps only a hash of its secret, and stops answering for a deactivated owner', async () => {
    const user = await createUser(app.api, 'feed-hash');
    const url = await feedOf(user);
    const secret = url.split('/').at(-1)!.replace(/\.ics$/, '');
    const em = app.database.orm.em.fork();
    const row = await em.findOneOrFail(User, user.id, { populate: ['calendarFeedHash'] });
    expect(row.calendarFeedHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.calendarFeedHash).not.toContain(secret);
    await em.nativeUpdate(User, { id: user.id }, { isActive: false });
    expect((await fetch(url)).status).toBe(404);
  });

  it('needs a token to make or end an address, and refuses what is not a secret', async () => {
    expect((await app.api.post('/calendar-feed')).status).toBe(401);
    expect((await app.api.delete('/calendar-feed')).status).toBe(401);
    expect((await fetch(`${app.baseUrl}/api/v1/calendar-feed/not-a-secret.ics`)).status).toBe(422);
    expect((await fetch(`${app.baseUrl}/api/v1/calendar-feed/${'A'.repeat(43)}.ics`)).status).toBe(404);
  });
});
