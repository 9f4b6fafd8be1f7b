import ICAL from 'ical.js';
import { User } from '../src/db/entities';
import { createEvent, createUser, sampleEvent, share, type TestUser } from './support/fixtures';
import { startTestApp, withClient, type TestApp } from './support/test-app';

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

const LONG_TITLE = 'Ünïcödé planning, with everyone who signed up for the autumn offsite in Zürich';

/** A zoned weekly series with an exclusion and changes, a daily series with UNTIL, and a single event with a long title. */
async function createSampleCalendar(user: TestUser): Promise<void> {
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
}

describe('iCalendar export', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await createUser(app.api, 'ical');
    await createSampleCalendar(user);
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

describe('iCalendar import', () => {
  const importing = (user: TestUser, ics: string, query = '') =>
    app.api.post(`/events/import${query}`, undefined, { token: user.token, raw: ics, headers: { 'content-type': 'text/calendar' } });
  const occurrencesOf = async (user: TestUser) => {
    const listed = await app.api.get('/events/occurrences?start=2026-10-01T00:00:00Z&end=2027-01-01T00:00:00Z', { token: user.token });
    return listed.body.items.map((item: { title: string; location: string | null; start_time: string; end_time: string }) => [item.title, item.location, item.start_time, item.end_time]);
  };

  it('reads back what the export writes: the same occurrences, series, zones, exclusions and changed occurrences', async () => {
    const [from, to] = await Promise.all([createUser(app.api, 'import-from'), createUser(app.api, 'import-to')]);
    await createSampleCalendar(from);
    const ics = (await app.api.get('/events.ics', { token: from.token })).body;

    const imported = await importing(to, ics);
    expect(imported.status).toBe(201);
    expect(imported.body.skipped).toEqual([]);
    expect(imported.body.items.map((event: { title: string; role: string; version: number }) => [event.title, event.role, event.version])).toEqual([
      ['Team sync', 'owner', 1],
      ['Standup', 'owner', 1],
      [LONG_TITLE, 'owner', 1],
    ]);
    const [series] = imported.body.items;
    expect(series.recurrence_pattern).toMatchObject({ time_zone: 'Europe/Berlin', exdates: ['2026-10-19T07:00:00.000Z'] });
    expect(series.description).toBe('Agenda: roadmap;\nhiring, budget \\ misc');
    expect(await occurrencesOf(to)).toEqual(await occurrencesOf(from));
    const history = await app.api.get(`/events/${series.id}/history`, { token: to.token });
    expect(history.body.map((version: { change_description: string }) => version.change_description)).toEqual(['Imported']);

    // The events keep their UIDs: exported again, they are the same events to a calendar program.
    const uids = (ics: string) => vevents(ics).map((event) => event.uid);
    expect(uids((await app.api.get('/events.ics', { token: to.token })).body)).toEqual(uids(ics));
    // The same file again makes nothing twice and changes nothing, for the importer or for the
    // exporter, whose series the file writes in another form.
    for (const user of [to, from]) {
      const again = await importing(user, ics);
      expect(again.status).toBe(200);
      expect([again.body.items, again.body.updated]).toEqual([[], []]);
      expect(again.body.skipped.map(({ reason }: { reason: string }) => reason)).toEqual(Array(3).fill(expect.stringMatching(/^already here, as event \d+, and unchanged$/)));
      const events = (await app.api.get('/events', { token: user.token })).body;
      expect(events.items.map((event: { version: number }) => event.version)).toEqual([1, 1, 1]);
    }

    // A file that changed an event changes it here, as an edit: a version that a rollback undoes.
    const edited = await importing(to, ics.replace('SUMMARY:Standup', 'SUMMARY:Daily standup').replace('FREQ=DAILY;UNTIL=20261028T000000Z', 'FREQ=DAILY;UNTIL=20261030T000000Z'));
    expect(edited.status).toBe(200);
    expect(edited.body.updated).toEqual([
      expect.objectContaining({ title: 'Daily standup', version: 2, recurrence_pattern: { rrule: 'FREQ=DAILY;UNTIL=20261030T000000Z' } }),
    ]);
    const changes = await app.api.get(`/events/${edited.body.updated[0].id}/history`, { token: to.token });
    expect(changes.body.map((version: { change_description: string }) => version.change_description)).toEqual(['Imported', 'Imported']);
    // Another server's UID of the same form is not one of this server's events.
    const stranger = await createUser(app.api, 'import-stranger');
    const elsewhere = await importing(stranger, ics.replace(/UID:event-(\d+)@127\.0\.0\.1/g, 'UID:event-$1@example.com'));
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.items).toHaveLength(3);
  });

  it('carries a series whose first occurrence was moved before its start both ways', async () => {
    const [from, to] = await Promise.all([createUser(app.api, 'earlier-from'), createUser(app.api, 'earlier-to')]);
    await createEvent(app.api, from, {
      title: 'Kickoff',
      start_time: '2026-11-02T10:00:00Z',
      end_time: '2026-11-02T11:00:00Z',
      is_recurring: true,
      recurrence_pattern: { rrule: 'FREQ=WEEKLY;COUNT=2', overrides: [{ recurrence_id: '2026-11-02T10:00:00Z', start_time: '2026-10-30T09:00:00Z', end_time: '2026-10-30T10:00:00Z' }] },
    });
    const ics = (await app.api.get('/events.ics', { token: from.token })).body;
    const [series] = vevents(ics);
    const expanded = series.iterator();
    const starts = [expanded.next(), expanded.next()].map((start) => series.getOccurrenceDetails(start!).startDate.toJSDate().toISOString());
    expect(starts).toEqual(['2026-10-30T09:00:00.000Z', '2026-11-09T10:00:00.000Z']);

    const imported = await importing(to, ics);
    expect([imported.status, imported.body.skipped]).toEqual([201, []]);
    expect(await occurrencesOf(to)).toEqual(await occurrencesOf(from));
    expect((await occurrencesOf(to))[0]).toEqual(['Kickoff', 'Room 1', '2026-10-30T09:00:00.000Z', '2026-10-30T10:00:00.000Z']);
  });

  it("knows the events shared with the importer: an editor takes the file's changes, a viewer is told, neither gets a copy", async () => {
    const [owner, editor, viewer] = await Promise.all(['shared-owner', 'shared-editor', 'shared-viewer'].map((name) => createUser(app.api, name)));
    const id = await createEvent(app.api, owner, { title: 'Board meeting' });
    await share(app.api, owner, id, editor, 'editor');
    await share(app.api, owner, id, viewer, 'viewer');
    for (const user of [editor, viewer]) {
      const ics = (await app.api.get('/events.ics', { token: user.token })).body;
      const again = await importing(user, ics);
      expect([again.status, again.body.items, again.body.updated]).toEqual([200, [], []]);
      expect(again.body.skipped).toEqual([expect.objectContaining({ reason: `already here, as event ${id}, and unchanged` })]);
    }
    const renamed = (await app.api.get('/events.ics', { token: owner.token })).body.replace('SUMMARY:Board meeting', 'SUMMARY:Board meeting (moved)');
    const byViewer = await importing(viewer, renamed);
    expect([byViewer.body.items, byViewer.body.updated]).toEqual([[], []]);
    expect(byViewer.body.skipped[0].reason).toBe(`already here, as event ${id}, which could not take the file's fields: Only editors and the owner can edit this event`);
    const byEditor = await importing(editor, renamed);
    expect(byEditor.body.updated).toEqual([expect.objectContaining({ id, title: 'Board meeting (moved)', role: 'editor', version: 2 })]);
    for (const user of [owner, editor, viewer]) expect((await app.api.get('/events', { token: user.token })).body.total).toBe(1);

    // In one file with an event of the viewer's own, that one is updated and the shared one refused.
    const own = await createEvent(app.api, viewer, { title: 'Dentist' });
    const both = (await app.api.get('/events.ics', { token: viewer.token })).body.replace('SUMMARY:Board meeting (moved)', 'SUMMARY:Board meeting (again)').replace('SUMMARY:Dentist', 'SUMMARY:Dentist (moved)');
    const mixed = await importing(viewer, both);
    expect(mixed.body.updated).toEqual([expect.objectContaining({ id: own, title: 'Dentist (moved)', version: 2 })]);
    expect(mixed.body.skipped).toEqual([expect.objectContaining({ title: 'Board meeting (again)', reason: expect.stringMatching(/^already here, as event \d+, which could not take the file's fields/) })]);
  });

  it('lets two users import changes to the same shared events at once, whatever order their files list them in', async () => {
    const [owner, editor] = await Promise.all(['order-owner', 'order-editor'].map((name) => createUser(app.api, name)));
    const made = await app.api.post('/events/batch', { events: Array.from({ length: 40 }, (_, n) => sampleEvent({ title: `Shared ${n}` })) }, { token: owner.token });
    const ids: number[] = made.body.items.map((event: { id: number }) => event.id);
    for (const id of ids) await share(app.api, owner, id, editor, 'editor');
    const ics = (await app.api.get('/events.ics', { token: owner.token })).body as string;
    const [head, ...rest] = ics.split('BEGIN:VEVENT');
    const events = rest.map((event) => `BEGIN:VEVENT${event.replace('END:VCALENDAR', '')}`);
    const file = (listed: string[], by: string) => `${head}${listed.join('').replace(/SUMMARY:Shared/g, `SUMMARY:${by}`)}END:VCALENDAR\r\n`;
    const [first, second] = await Promise.all([importing(owner, file(events, 'Owner')), importing(editor, file([...events].reverse(), 'Editor'))]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.body.updated.length, second.body.updated.length]).toEqual([40, 40]);
  });

  it('makes the events of one file once when it is imported twice at the same time', async () => {
    const user = await createUser(app.api, 'import-twice');
    const ics = ['BEGIN:VCALENDAR', ...[1, 2, 3].map((n) => `BEGIN:VEVENT\r\nUID:twice-${n}@example.com\r\nSUMMARY:Twice ${n}\r\nDTSTART:20261026T12000${n}Z\r\nDTEND:20261026T130000Z\r\nEND:VEVENT`), 'END:VCALENDAR'].join('\r\n');
    const [first, second] = await Promise.all([importing(user, ics), importing(user, ics)]);
    expect([first.body.items.length, second.body.items.length].sort()).toEqual([0, 3]);
    expect((await app.api.get('/events', { token: user.token })).body.total).toBe(3);
  });

  it('writes all of an import or none of it: a failure while updating one event undoes the events made and the other updates', async () => {
    const own = await startTestApp({}, { expectWarnings: true });
    try {
      const user = await createUser(own.api, 'import-atomic');
      const file = (titles: string[]) =>
        ['BEGIN:VCALENDAR', ...titles.map((title, n) => `BEGIN:VEVENT\r\nUID:atomic-${n}@example.com\r\nSUMMARY:${title}\r\nDTSTART:2026102${n}T120000Z\r\nDTEND:2026102${n}T130000Z\r\nEND:VEVENT`), 'END:VCALENDAR'].join('\r\n');
      const post = (ics: string) => own.api.post('/events/import', undefined, { token: user.token, raw: ics, headers: { 'content-type': 'text/calendar' } });
      expect((await post(file(['First', 'Second']))).status).toBe(201);
      // The database refuses the second event's new version, as a full disk or a lost connection would.
      await withClient(own.databaseUrl, (client) =>
        client.query(`
          create function refuse_version() returns trigger language plpgsql as $$
          begin raise exception 'refused by the test'; end $$;
          create trigger refuse_version before insert on event_version for each row
          when (new.data->>'title' = 'Second, renamed') execute function refuse_version();`),
      );

      const failed = await post(file(['First, renamed', 'Second, renamed', 'Third']));
      expect(failed.status).toBe(500);
      expect(failed.body.error.code).toBe('internal_error');
      const events = (await own.api.get('/events', { token: user.token })).body;
      expect(events.items.map((event: { title: string; version: number }) => [event.title, event.version])).toEqual([
        ['First', 1],
        ['Second', 1],
      ]);
    } finally {
      await own.close();
    }
  });

  it("reads other programs' files, and skips, saying why, what it cannot hold", async () => {
    const user = await createUser(app.api, 'import-other');
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//Another program//EN',
      // Outlook names zones its own way, and defines them in the file.
      'BEGIN:VTIMEZONE',
      'TZID:W. Europe Standard Time',
      'BEGIN:STANDARD',
      'DTSTART:16011028T030000',
      'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10',
      'TZOFFSETFROM:+0200',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
      'BEGIN:DAYLIGHT',
      'DTSTART:16010325T020000',
      'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0200',
      'END:DAYLIGHT',
      'END:VTIMEZONE',
      // A zone under a name of the file's own, an hour ahead of UTC all year.
      'BEGIN:VTIMEZONE',
      'TZID:Office time',
      'BEGIN:STANDARD',
      'DTSTART:19700101T000000',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
      'END:VTIMEZONE',
      'BEGIN:VEVENT',
      'UID:outlook-1',
      'SUMMARY:Dentist',
      'DTSTART;TZID=W. Europe Standard Time:20261020T100000',
      'DTEND;TZID=W. Europe Standard Time:20261020T110000',
      'END:VEVENT',
      // Floating times, read on the clock the request names; an end by duration; no summary.
      'BEGIN:VEVENT',
      'UID:floating-1',
      'DTSTART:20261021T090000',
      'DURATION:PT45M',
      'RRULE:FREQ=WEEKLY;COUNT=3',
      'END:VEVENT',
      // A series in New York, one occurrence cancelled and one changed.
      'BEGIN:VEVENT',
      'UID:series-1',
      'SUMMARY:Call',
      'DTSTART;TZID=America/New_York:20261026T090000',
      'DTEND;TZID=America/New_York:20261026T093000',
      'RRULE:FREQ=DAILY;COUNT=4',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:series-1',
      'RECURRENCE-ID;TZID=America/New_York:20261027T090000',
      'STATUS:CANCELLED',
      'DTSTART;TZID=America/New_York:20261027T090000',
      'DTEND;TZID=America/New_York:20261027T093000',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:series-1',
      'RECURRENCE-ID;TZID=America/New_York:20261028T090000',
      'SUMMARY:Long call',
      'DTSTART;TZID=America/New_York:20261028T090000',
      'DTEND;TZID=America/New_York:20261028T110000',
      'END:VEVENT',
      // What this server does not hold.
      'BEGIN:VEVENT',
      'UID:all-day',
      'SUMMARY:Holiday',
      'DTSTART;VALUE=DATE:20261026',
      'DTEND;VALUE=DATE:20261027',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:rdate',
      'SUMMARY:Odd days',
      'DTSTART:20261026T120000Z',
      'DTEND:20261026T130000Z',
      'RDATE:20261029T120000Z',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:outlook-series',
      'SUMMARY:Weekly in Outlook',
      'DTSTART;TZID=W. Europe Standard Time:20261020T100000',
      'DTEND;TZID=W. Europe Standard Time:20261020T110000',
      'RRULE:FREQ=WEEKLY;COUNT=2',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:office-series',
      'SUMMARY:Weekly in office time',
      'DTSTART;TZID=Office time:20261020T100000',
      'DTEND;TZID=Office time:20261020T110000',
      'RRULE:FREQ=WEEKLY',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:office-1',
      'SUMMARY:Once in office time',
      'DTSTART;TZID=Office time:20261022T100000',
      'DTEND;TZID=Office time:20261022T110000',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:orphan',
      'RECURRENCE-ID:20261101T100000Z',
      'SUMMARY:Moved',
      'DTSTART:20261101T120000Z',
      'DTEND:20261101T130000Z',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:backwards',
      'SUMMARY:Backwards',
      'DTSTART:20261026T120000Z',
      'DTEND:20261026T110000Z',
      'END:VEVENT',
      'BEGIN:VEVENT',
      `UID:${'x'.repeat(256)}`,
      'SUMMARY:Long UID',
      'DTSTART:20261026T120000Z',
      'DTEND:20261026T130000Z',
      'RRULE:FREQ=DAILY;COUNT=3',
      'END:VEVENT',
      // A change of that series: skipped with it, not reported as a change without its series.
      'BEGIN:VEVENT',
      `UID:${'x'.repeat(256)}`,
      'RECURRENCE-ID:20261027T120000Z',
      'SUMMARY:Long UID, moved',
      'DTSTART:20261027T150000Z',
      'DTEND:20261027T160000Z',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:outlook-1',
      'SUMMARY:Dentist again',
      'DTSTART:20261026T120000Z',
      'DTEND:20261026T130000Z',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    const imported = await importing(user, ics, '?time_zone=Europe/Berlin');
    expect(imported.status).toBe(201);
    expect(imported.body.items.map((event: { title: string }) => event.title)).toEqual(['Dentist', '(No title)', 'Call', 'Weekly in Outlook', 'Once in office time']);
    const [dentist, floating, call, outlookSeries, office] = imported.body.items;
    // 10:00 in Berlin summer time: Outlook's name for Berlin's zone.
    expect([dentist.start_time, dentist.end_time]).toEqual(['2026-10-20T08:00:00.000Z', '2026-10-20T09:00:00.000Z']);
    // A series keeps Berlin's clock: 10:00 on both sides of 25 October.
    expect(outlookSeries.recurrence_pattern).toEqual({ rrule: 'FREQ=WEEKLY;COUNT=2', time_zone: 'Europe/Berlin' });
    // By the file's own definition of its zone.
    expect(office.start_time).toBe('2026-10-22T09:00:00.000Z');
    expect(floating).toMatchObject({ start_time: '2026-10-21T07:00:00.000Z', end_time: '2026-10-21T07:45:00.000Z', recurrence_pattern: { rrule: 'FREQ=WEEKLY;COUNT=3', time_zone: 'Europe/Berlin' } });
    expect(call.recurrence_pattern).toEqual({
      rrule: 'FREQ=DAILY;COUNT=4',
      time_zone: 'America/New_York',
      exdates: ['2026-10-27T13:00:00.000Z'],
      overrides: [{ recurrence_id: '2026-10-28T13:00:00.000Z', start_time: '2026-10-28T13:00:00.000Z', end_time: '2026-10-28T15:00:00.000Z', title: 'Long call' }],
    });
    expect(imported.body.skipped).toEqual([
      { uid: 'all-day', title: 'Holiday', reason: 'is an all-day event, which this server does not hold' },
      { uid: 'rdate', title: 'Odd days', reason: 'has RDATE occurrences, which this server does not hold' },
      { uid: 'office-series', title: 'Weekly in office time', reason: expect.stringContaining('"Office time", which is not an IANA time zone') },
      { uid: 'backwards', title: 'Backwards', reason: 'end_time must be after start_time' },
      { uid: 'x'.repeat(256), title: 'Long UID', reason: 'has a UID longer than 255 characters' },
      { uid: 'outlook-1', title: 'Dentist again', reason: 'repeats the UID of an event before it' },
      { uid: 'orphan', title: 'Moved', reason: 'changes an occurrence of a series that is not in the file' },
    ]);
    // Floating 09:00 in Berlin stays 09:00 there when the clocks go back on 25 October, and so
    // does Outlook's 10:00.
    expect((await occurrencesOf(user)).filter(([title]: string[]) => title === 'Weekly in Outlook').map(([, , start]: string[]) => start)).toEqual([
      '2026-10-20T08:00:00.000Z',
      '2026-10-27T09:00:00.000Z',
    ]);
    expect((await occurrencesOf(user)).filter(([title]: string[]) => !['Dentist', 'Weekly in Outlook', 'Once in office time'].includes(title))).toEqual([
      ['(No title)', null, '2026-10-21T07:00:00.000Z', '2026-10-21T07:45:00.000Z'],
      ['Call', null, '2026-10-26T13:00:00.000Z', '2026-10-26T13:30:00.000Z'],
      ['(No title)', null, '2026-10-28T08:00:00.000Z', '2026-10-28T08:45:00.000Z'],
      ['Long call', null, '2026-10-28T13:00:00.000Z', '2026-10-28T15:00:00.000Z'],
      ['Call', null, '2026-10-29T13:00:00.000Z', '2026-10-29T13:30:00.000Z'],
      ['(No title)', null, '2026-11-04T08:00:00.000Z', '2026-11-04T08:45:00.000Z'],
    ]);
  });

  it('refuses what is not an iCalendar object, too many events, other media types and strangers', async () => {
    const user = await createUser(app.api, 'import-refused');
    const notCalendar = await importing(user, 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nEND:VCARD\r\n');
    expect(notCalendar.status).toBe(400);
    expect(notCalendar.body.error.code).toBe('bad_request');
    expect((await importing(user, 'hello')).status).toBe(400);
    expect((await importing(user, '')).status).toBe(422);
    const many = ['BEGIN:VCALENDAR', ...Array.from({ length: 1001 }, (_, n) => `BEGIN:VEVENT\r\nUID:${n}\r\nDTSTART:20261026T120000Z\r\nDTEND:20261026T130000Z\r\nEND:VEVENT`), 'END:VCALENDAR'].join('\r\n');
    const tooMany = await importing(user, many);
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.error.details.fields).toEqual([{ path: 'body', message: 'holds 1001 events, more than 1000: import it in parts' }]);
    expect((await app.api.post('/events/import', { events: [] }, { token: user.token })).status).toBe(415);
    expect((await importing(user, 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', '?time_zone=Mars/Olympus')).status).toBe(422);
    expect((await app.api.post('/events/import', undefined, { raw: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', headers: { 'content-type': 'text/calendar' } })).status).toBe(401);
    // A value ical.js cannot read costs its event, not the file.
    const malformed = await importing(
      user,
      ['BEGIN:VCALENDAR', 'BEGIN:VEVENT', 'UID:bad', 'SUMMARY:Bad', 'DTSTART:garbage', 'DTEND:20261026T130000Z', 'END:VEVENT', 'BEGIN:VEVENT', 'UID:good', 'SUMMARY:Good', 'DTSTART:20261026T120000Z', 'DTEND:20261026T130000Z', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n'),
    );
    expect(malformed.status).toBe(201);
    expect(malformed.body.items.map((event: { title: string }) => event.title)).toEqual(['Good']);
    expect(malformed.body.skipped).toEqual([{ uid: 'bad', title: 'Bad', reason: expect.stringMatching(/^could not be read: /) }]);
    await app.api.delete(`/events/${malformed.body.items[0].id}`, { token: user.token });

    const empty = await importing(user, 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ items: [], updated: [], skipped: [] });
    expect((await app.api.get('/events', { token: user.token })).body.total).toBe(0);
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

  it('answers a program that polls with the tag it has 304 until the events change', async () => {
    const [user, colleague] = await Promise.all([createUser(app.api, 'feed-poll'), createUser(app.api, 'feed-poll-colleague')]);
    const id = await createEvent(app.api, user, { title: 'Own' });
    const url = await feedOf(user);
    const poll = async (tag: string) => {
      const response = await fetch(url, { headers: { 'if-none-match': tag } });
      return { status: response.status, tag: response.headers.get('etag')!, body: await response.text() };
    };
    const first = await fetch(url);
    const tag = first.headers.get('etag')!;
    expect(tag).toMatch(/^W\/"[A-Za-z0-9_-]{27}"$/);
    expect(await poll(tag)).toEqual({ status: 304, tag, body: '' });

    // An edit, a newly shared event and a deletion each make another file.
    await app.api.put(`/events/${id}`, { title: 'Own, renamed' }, { token: user.token });
    const edited = await poll(tag);
    expect([edited.status, vevents(edited.body).map((event) => event.summary)]).toEqual([200, ['Own, renamed']]);
    const shared = await createEvent(app.api, colleague, { title: 'Shared' });
    await share(app.api, colleague, shared, user, 'viewer');
    const sharing = await poll(edited.tag);
    expect([sharing.status, vevents(sharing.body).length]).toEqual([200, 2]);
    await app.api.delete(`/events/${shared}`, { token: colleague.token });
    const deleted = await poll(sharing.tag);
    expect([deleted.status, deleted.tag]).toEqual([200, edited.tag]);
    // The owner's export is tagged the same way, for its own address.
    const exported = await app.api.get('/events.ics', { token: user.token });
    expect((await app.api.get('/events.ics', { token: user.token, headers: { 'if-none-match': exported.headers.get('etag')! } })).status).toBe(304);
  });

  it('answers 30 fetches at once, then one every 10 s, for each feed', async () => {
    const [user, other] = await Promise.all([createUser(app.api, 'feed-often'), createUser(app.api, 'feed-other')]);
    const [url, otherUrl] = await Promise.all([feedOf(user), feedOf(other)]);
    const statuses = await Promise.all(Array.from({ length: 31 }, async () => (await fetch(url)).status));
    expect(statuses.filter((status) => status === 200)).toHaveLength(30);
    const refused = await fetch(url);
    expect(refused.status).toBe(429);
    // About 10 s, less whatever the fetches above took.
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(5);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(10);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_requests');
    // Other feeds, and the owner's own requests, are not held back.
    expect((await fetch(otherUrl)).status).toBe(200);
    expect((await app.api.get('/events.ics', { token: user.token })).status).toBe(200);
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
