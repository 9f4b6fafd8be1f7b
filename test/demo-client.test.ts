import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createEvent, createUser, type TestUser } from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * The demo client (client-demo/) in a real headless Chromium against the real server: what a
 * person sees when they log in and edit an event with others. Needs a Chromium binary: Debian's
 * `chromium` package, or CHROMIUM_PATH. Without one the suite says so and is skipped.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((file) => existsSync(file));
if (!CHROMIUM) console.warn('No Chromium found (install Debian\'s chromium or set CHROMIUM_PATH): the demo client browser test is skipped');

(CHROMIUM ? describe : describe.skip)('demo client, in a browser', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(__dirname, '../client-demo/build.mjs')]);
    // Versions only when asked for, so the one the test saves is version 2 however slow the run.
    app = await startTestApp({ COLLAB_QUIET_MS: '600000', COLLAB_MAX_DELAY_MS: '600000' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** Uncaught errors in any page: none is expected. */
  const pageErrors: Error[] = [];

  async function openPage(baseUrl = app.baseUrl, timezoneId?: string): Promise<Page> {
    const page = await browser.newPage({ timezoneId });
    // Fail at the step that waits in vain, well within the test's own timeout.
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => pageErrors.push(err));
    await page.goto(baseUrl);
    return page;
  }

  async function logIn(page: Page, user: TestUser): Promise<void> {
    await page.fill('#login-form [name=username]', user.username);
    await page.fill('#login-form [name=password]', user.password);
    await page.click('#login-form button');
    await page.waitForSelector('#calendar:not([hidden])');
  }

  const description = (page: Page) => page.inputValue('#field-description');

  it('registers, creates an event, and edits it live with an editor while a viewer watches', async () => {
    const alice = await openPage();
    await alice.fill('#register-form [name=email]', `alice${process.pid}@example.com`);
    await alice.fill('#register-form [name=username]', `alice${process.pid}`);
    await alice.fill('#register-form [name=password]', 'correct horse battery');
    await alice.click('#register-form button');
    await alice.waitForSelector('#calendar:not([hidden])');

    await alice.fill('#new-event-form [name=title]', 'Launch party');
    await alice.fill('#new-event-form [name=start_time]', '2026-09-01T18:00');
    await alice.fill('#new-event-form [name=end_time]', '2026-09-01T22:00');
    await alice.click('#new-event-form button');
    await alice.waitForSelector('#editor:not([hidden])');
    expect(await alice.textContent('#role')).toBe('you are the owner');
    expect(await alice.inputValue('#field-title')).toBe('Launch party');

    // Alice shares with Bob through the page; Carol gets view access through the API, as Alice.
    const [bobUser, carolUser] = await Promise.all([createUser(app.api, 'bob'), createUser(app.api, 'carol')]);
    await alice.fill('#share-form [name=user_id]', String(bobUser.id));
    await alice.selectOption('#share-form [name=role]', 'editor');
    await alice.click('#share-form button');
    await alice.waitForSelector('#status:text("Shared")');
    // The page keeps its session in sessionStorage (this file is compiled without the DOM's types).
    const aliceToken: string = await alice.evaluate("JSON.parse(sessionStorage.getItem('neofi-demo-session')).access_token");
    const events = await app.api.get('/events', { token: aliceToken });
    const shared = await app.api.post(`/events/${events.body.items[0].id}/share`, { user_id: carolUser.id, role: 'viewer' }, { token: aliceToken });
    expect(shared.status).toBe(201);

    const [bob, carol] = await Promise.all([openPage(), openPage()]);
    for (const [page, user] of [[bob, bobUser], [carol, carolUser]] as const) {
      await logIn(page, user);
      await page.click('#event-list button:text("Launch party")');
      await page.waitForSelector('#editor:not([hidden])');
    }
    expect(await bob.textContent('#role')).toBe('you can edit');
    expect(await carol.textContent('#role')).toBe('you can only view');
    expect(await carol.getAttribute('#field-description', 'readonly')).not.toBeNull();
    // Those who came later see who was already here, though no one answered them.
    await carol.waitForSelector(`#presence:has-text("alice${process.pid}")`);
    await bob.waitForSelector(`#presence:has-text("alice${process.pid}")`);

    // Alice starts an agenda; then she types at its end while Bob types at its start, at once.
    await alice.focus('#field-description');
    await alice.keyboard.type('Agenda: ');
    await bob.waitForFunction("document.querySelector('#field-description').value === 'Agenda: '");
    await bob.focus('#field-description');
    await Promise.all([
      alice.keyboard.press('Control+End').then(() => alice.keyboard.type('Bring snacks.')),
      bob.keyboard.press('Control+Home').then(() => bob.keyboard.type('DJ at nine. ')),
    ]);
    for (const page of [alice, bob, carol]) {
      await page.waitForFunction("document.querySelector('#field-description').value === 'DJ at nine. Agenda: Bring snacks.'").catch(async (err) => {
        throw new Error(`${err.message}: ${JSON.stringify(await Promise.all([alice, bob, carol].map(description)))}`);
      });
    }
    expect(await description(carol)).toBe(await description(alice));
    expect(await description(bob)).toBe(await description(alice));
    await alice.waitForSelector('#presence:has-text("in description")');

    // Alice saves a version: it shows in everyone's history, with the field that changed.
    await alice.waitForSelector('#status:text("All changes saved")');
    await bob.waitForSelector('#status:text("All changes saved")');
    await alice.click('#save-version');
    await alice.waitForSelector('#status:text("Saved as version 2")');
    for (const page of [alice, bob, carol]) await page.waitForSelector('#history li:has-text("v2") >> text=changed description');

    // Bob restores version 1 from the history: the REST rollback reaches every open page live.
    // A viewer is offered no restore, and the newest version none (it is the current state).
    expect(await carol.isVisible('#history .restore')).toBe(false);
    expect(await bob.isVisible('#history li:has-text("v2") .restore')).toBe(false);
    await bob.click('#history li:has-text("v1") .restore');
    await bob.waitForSelector('#status:text("Restored version 1 as version 3")');
    for (const page of [alice, bob, carol]) {
      await page.waitForSelector('#history li:has-text("v3 by"):has-text("Rolled back to version 1")');
      await page.waitForFunction("document.querySelector('#field-description').value === ''");
    }
    // Alice restores version 2 again, so what follows starts from it.
    await alice.click('#history li:has-text("v2") .restore');
    await alice.waitForSelector('#status:text("Restored version 2 as version 4")');
    await carol.waitForFunction("document.querySelector('#field-description').value === 'DJ at nine. Agenda: Bring snacks.'");

    // A viewer's typing goes nowhere.
    await carol.focus('#field-description');
    await carol.keyboard.type('HACKED');
    expect(await description(carol)).toBe(await description(alice));

    // Bob opens the event in a second tab as well: closing it leaves his first one present.
    const bobAgain = await openPage();
    await logIn(bobAgain, bobUser);
    await bobAgain.click('#event-list button:text("Launch party")');
    // The editor shows once joined: a field focused before then is hidden, and tells no one.
    await bobAgain.waitForSelector('#editor:not([hidden])');
    await bobAgain.focus('#field-title');
    const bobIn = (fields: string) => `#presence:has-text("${bobUser.username} (in ${fields})")`;
    await alice.waitForSelector(bobIn('description, title'));
    await bobAgain.close();
    await alice.waitForSelector(bobIn('description'));
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('keeps editing when the access token expires: it refreshes once and resends what was refused', async () => {
    const shortLived = await startTestApp({ ACCESS_TOKEN_TTL: '2s', COLLAB_QUIET_MS: '600000', COLLAB_MAX_DELAY_MS: '600000' });
    try {
      const user = await createUser(shortLived.api, 'dana');
      const page = await openPage(shortLived.baseUrl);
      await logIn(page, user);
      await page.fill('#new-event-form [name=title]', 'Retro');
      await page.fill('#new-event-form [name=start_time]', '2026-10-01T10:00');
      await page.fill('#new-event-form [name=end_time]', '2026-10-01T11:00');
      await page.click('#new-event-form button');
      await page.waitForSelector('#editor:not([hidden])');

      // Time has to pass for the token to expire; nothing to wait for but the clock.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await page.focus('#field-description');
      await page.keyboard.type('Written after expiry.');
      await page.waitForSelector('#status:text("All changes saved")');
      await page.click('#save-version');
      await page.waitForSelector('#status:text("Saved as version 2")');

      const login = await shortLived.api.post('/auth/login', { username: user.username, password: user.password });
      const events = await shortLived.api.get('/events', { token: login.body.access_token });
      expect(events.body.items[0].description).toBe('Written after expiry.');
      expect(pageErrors).toEqual([]);
    } finally {
      await shortLived.close();
    }
  }, 60_000);

  it("lists what comes up in the next 7 days: a weekly event once, from its rule, on the browser's clock; one time can be renamed or skipped; the calendar downloads and imports, or is subscribed to", async () => {
    const page = await openPage(app.baseUrl, 'America/New_York');
    const erin = await createUser(app.api, 'erin');
    await logIn(page, erin);
    expect(await page.textContent('#upcoming')).toBe('');
    // A datetime-local value in the page's own time zone, this far from now.
    const localInput = (fromNowMs: number): Promise<string> =>
      page.evaluate(`(() => { const at = new Date(Date.now() + ${fromNowMs}); return new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 16); })()`);
    const hour = 3_600_000;
    const week = 7 * 24 * hour;
    // It began a week ago: its next time is in an hour, the one after just beyond the 7 days.
    await page.fill('#new-event-form [name=title]', 'Weekly sync');
    await page.fill('#new-event-form [name=start_time]', await localInput(hour - week));
    await page.fill('#new-event-form [name=end_time]', await localInput(2 * hour - week));
    await page.check('#new-event-form [name=weekly]');
    await page.click('#new-event-form button');
    await page.waitForSelector('#editor:not([hidden])');
    await page.waitForSelector('#upcoming button:text("Weekly sync")');
    expect(await page.locator('#upcoming li').count()).toBe(1);
    expect(await page.locator('#event-list li').count()).toBe(1);
    const stored = await app.api.get('/events', { token: erin.token });
    expect(stored.body.items[0].recurrence_pattern).toEqual({ frequency: 'weekly', time_zone: 'America/New_York' });

    // Renaming it changes this week's title, and only that one.
    page.once('dialog', (dialog) => void dialog.accept('Weekly sync, with guests'));
    await page.click('#upcoming button.rename');
    await page.waitForSelector('#upcoming button:text("Weekly sync, with guests")');
    const renamed = (await app.api.get('/events', { token: erin.token })).body.items[0];
    const thisWeek = new Date(Date.parse(renamed.start_time) + week).toISOString();
    expect(renamed.title).toBe('Weekly sync');
    expect(renamed.recurrence_pattern.overrides).toEqual([expect.objectContaining({ recurrence_id: thisWeek, start_time: thisWeek, title: 'Weekly sync, with guests' })]);

    // Skipping it takes this week's out of the series, and only that one.
    await page.click('#upcoming button.skip');
    await page.waitForSelector('#upcoming li', { state: 'detached' });
    const skipped = (await app.api.get('/events', { token: erin.token })).body.items[0];
    expect(skipped.recurrence_pattern.exdates).toEqual([new Date(Date.parse(skipped.start_time) + week).toISOString()]);

    // The calendar file the page saves holds the series, on New York's clock, with the skipped time.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    expect(download.suggestedFilename()).toBe('events.ics');
    const ics = readFileSync((await download.path())!, 'utf8');
    expect(ics).toMatch(/^BEGIN:VCALENDAR\r\n/);
    expect(ics).toContain('SUMMARY:Weekly sync\r\n');
    expect(ics).toMatch(/\r\nEXDATE;TZID=America\/New_York:\d{8}T\d{6}\r\n/);

    // Imported again, its event is known by its UID and not made twice; in another account it is made.
    await page.setInputFiles('#import-file', (await download.path())!);
    await page.waitForSelector('#status:text("skipped Weekly sync (already here, as event")');
    expect(await page.textContent('#status')).toMatch(/^Imported 0 events from \S+; skipped Weekly sync \(already here, as event \d+, and unchanged\)$/);
    expect(await page.locator('#event-list li').count()).toBe(1);
    const frank = await createUser(app.api, 'frank');
    const copied = await app.api.post('/events/import', undefined, { token: frank.token, raw: ics, headers: { 'content-type': 'text/calendar' } });
    const [original] = (await app.api.get('/events', { token: erin.token })).body.items;
    expect(copied.body.items).toEqual([expect.objectContaining({ title: original.title, start_time: original.start_time, end_time: original.end_time })]);
    // The change of the skipped time is not written: it changes no occurrence.
    expect(copied.body.items[0].recurrence_pattern).toEqual({ rrule: 'FREQ=WEEKLY', time_zone: 'America/New_York', exdates: original.recurrence_pattern.exdates });

    // A subscription address, which a calendar program fetches without a token; none is shown before.
    expect(await page.isVisible('#feed')).toBe(false);
    await page.click('#subscribe');
    await page.waitForSelector('#feed', { state: 'visible' });
    const feed = await fetch(await page.inputValue('#feed-url'));
    expect(feed.status).toBe(200);
    expect(await feed.text()).toContain('SUMMARY:Weekly sync\r\n');

    // A file that changed the event updates it.
    const changed = Buffer.from(ics.replace('SUMMARY:Weekly sync\r\n', 'SUMMARY:Weekly sync in room 2\r\n'));
    await page.setInputFiles('#import-file', { name: 'changed.ics', mimeType: 'text/calendar', buffer: changed });
    await page.waitForSelector('#status:text("Imported 0 events, updated 1 from changed.ics")');
    await page.waitForSelector('#event-list button:text("Weekly sync in room 2")');

    // Two events at once are marked, each with the other; the one after them is not.
    await createEvent(app.api, erin, { title: 'Dentist', start_time: new Date(Date.now() + 2 * hour).toISOString(), end_time: new Date(Date.now() + 3 * hour).toISOString() });
    await createEvent(app.api, erin, { title: 'Dinner', start_time: new Date(Date.now() + 4 * hour).toISOString(), end_time: new Date(Date.now() + 5 * hour).toISOString() });
    await page.fill('#new-event-form [name=title]', 'School run');
    await page.fill('#new-event-form [name=start_time]', await localInput(2.5 * hour));
    await page.fill('#new-event-form [name=end_time]', await localInput(3.5 * hour));
    await page.uncheck('#new-event-form [name=weekly]');
    await page.click('#new-event-form button');
    await page.waitForSelector('#upcoming button:text("School run")');
    const upcoming = await page.locator('#upcoming li').allTextContents();
    // Each line without its local time.
    expect(upcoming.map((line) => line.replace(/ \d+\/\d+\/\d+, \S+ [AP]M/, ''))).toEqual(['Dentist overlaps School run', 'School run overlaps Dentist', 'Dinner']);
    expect(await page.isVisible('#upcoming .conflict')).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
