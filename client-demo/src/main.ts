import { io, type Socket } from 'socket.io-client';
import * as Y from 'yjs';
import type { Ack, ClientToServerEvents, CollabError, JoinResult, ServerToClientEvents } from '../../src/collab/protocol';
import { Api, ApiError } from './api';
import { bindText } from './text-binding';

/** The demo: log in, list and create events, edit one live with everyone else who has it open. */

type CollabSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Role = JoinResult['role'];

interface EventSummary {
  id: number;
  title: string;
  start_time: string;
  role: Role;
}

interface OccurrenceSummary {
  event_id: number;
  /** The start its series gave it, which names it in the pattern. */
  recurrence_id: string | null;
  title: string;
  start_time: string;
  end_time: string;
  is_recurring: boolean;
  role: Role;
}

/** The parts of a recurrence pattern the demo edits; the rest is sent back as it came. */
interface SeriesPattern {
  exdates?: string[];
  overrides?: { recurrence_id: string }[];
}

interface VersionSummary {
  version_number: number;
  created_by: { username: string };
  change_description: string | null;
  changes?: { field: string }[];
}

const TEXT_FIELDS = ['title', 'description', 'location'] as const;
const TIME_FIELDS = ['start_time', 'end_time'] as const;
const ROLE_LABELS: Record<Role, string> = { owner: 'you are the owner', editor: 'you can edit', viewer: 'you can only view' };
/** Updates applied from the server, which must not be sent back to it. */
const FROM_SERVER = Symbol('from server');

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const api = new Api();
let socket: CollabSocket | null = null;

/**
 * The event open in the editor. `present`: the others in its room, by connection, as one user may
 * have several (tabs, devices); shown by user.
 */
let open: {
  id: number;
  doc: Y.Doc;
  role: Role;
  unbind: (() => void)[];
  present: Map<string, { username: string; field: string | null }>;
  field: string | null;
} | null = null;

function status(message: string, isError = false): void {
  $('#status').textContent = message;
  $('#status').classList.toggle('error', isError);
}

function failed(err: unknown): void {
  status(err instanceof Error ? err.message : String(err), true);
}

function errorOf<T>(ack: Ack<T>): CollabError | null {
  return typeof ack === 'object' && ack !== null && 'error' in ack ? ack.error : null;
}

// --- session ---------------------------------------------------------------------------------

async function enter(): Promise<void> {
  $('#auth').hidden = true;
  $('#calendar').hidden = false;
  $('#whoami').hidden = $('#logout').hidden = false;
  $('#whoami').textContent = `${api.user!.username} (id ${api.user!.id})`;
  connect();
  await listEvents();
}

function leaveSession(): void {
  closeEvent();
  socket?.disconnect();
  socket = null;
  $('#auth').hidden = false;
  $('#calendar').hidden = true;
  $('#whoami').hidden = $('#logout').hidden = true;
}

function connect(): void {
  // A function, so every (re)connection presents the current access token.
  socket = io('/collab', { auth: (send) => send({ token: api.accessToken }), transports: ['websocket'] });
  socket.on('connect_error', async (err: Error & { data?: { code?: string } }) => {
    if (err.data?.code !== 'unauthorized') return status(`Live connection: ${err.message}`, true);
    try {
      await api.refresh();
      socket?.connect();
    } catch {
      leaveSession();
      status('Your session has ended: log in again', true);
    }
  });
  socket.on('connect', () => {
    status('Connected');
    if (open) join(open.id).catch(failed); // after a dropped connection: resync both ways
  });
  socket.on('disconnect', () => status('Offline: edits are kept and sent when the connection is back', true));
  socket.on('update', ({ event_id, update }) => {
    if (open?.id === event_id) Y.applyUpdate(open.doc, new Uint8Array(update), FROM_SERVER);
  });
  socket.on('version', (version) => {
    if (open?.id === version.event_id) addVersion(version);
  });
  socket.on('awareness', ({ event_id, user, connection, state }) => {
    if (open?.id !== event_id || user.id === api.user?.id) return;
    if (state) open.present.set(connection, { username: user.username, field: typeof state.field === 'string' ? state.field : null });
    else open.present.delete(connection);
    showPresence();
  });
  socket.on('permission', ({ event_id, role }) => {
    if (open?.id !== event_id) return;
    setRole(role);
    status(`Your role is now ${role}`);
  });
  socket.on('removed', ({ event_id, reason }) => {
    if (open?.id !== event_id) return;
    closeEvent();
    status(reason === 'event_deleted' ? 'The event was deleted' : 'Your access to the event was removed', true);
    void listEvents();
  });
  socket.on('error', (error) => status(error.message, true));
}

// --- calendar --------------------------------------------------------------------------------

const WEEK_MS = 7 * 24 * 3_600_000;

/**
 * The caller's events, and what happens in the next 7 days (a weekly event there once a week),
 * each occurrence with the others it overlaps.
 */
async function listEvents(): Promise<void> {
  const now = Date.now();
  const nextWeek = `start=${new Date(now).toISOString()}&end=${new Date(now + WEEK_MS).toISOString()}`;
  const [page, upcoming, conflicts] = await Promise.all([
    api.get<{ items: EventSummary[] }>('/events?limit=100'),
    api.get<{ items: OccurrenceSummary[] }>(`/events/occurrences?${nextWeek}`),
    api.get<{ items: { first: OccurrenceSummary; second: OccurrenceSummary }[] }>(`/events/conflicts?${nextWeek}`),
  ]);
  const overlapping = new Map<string, string[]>();
  const noteOverlap = (occurrence: OccurrenceSummary, other: OccurrenceSummary) =>
    overlapping.set(occurrenceKey(occurrence), [...(overlapping.get(occurrenceKey(occurrence)) ?? []), other.title]);
  for (const { first, second } of conflicts.items) {
    noteOverlap(first, second);
    noteOverlap(second, first);
  }
  $('#event-list').replaceChildren(...page.items.map((event) => eventItem(event.id, event.title, `${localTime(event.start_time)} · ${event.role}`)));
  $('#upcoming').replaceChildren(...upcoming.items.map((occurrence) => upcomingItem(occurrence, overlapping.get(occurrenceKey(occurrence)) ?? [])));
}

const occurrenceKey = (occurrence: OccurrenceSummary) => `${occurrence.event_id} ${occurrence.start_time}`;

/** An occurrence, and what it overlaps; one of a series its caller may edit can be renamed or skipped, on its own. */
function upcomingItem(occurrence: OccurrenceSummary, overlaps: string[]): HTMLLIElement {
  const item = eventItem(occurrence.event_id, occurrence.title, localTime(occurrence.start_time));
  if (overlaps.length) {
    const note = document.createElement('span');
    note.className = 'conflict';
    note.textContent = ` overlaps ${overlaps.join(', ')}`;
    item.append(note);
  }
  if (occurrence.recurrence_id && occurrence.role !== 'viewer') {
    item.append(' ', actionButton('rename', 'Rename', () => renameOccurrence(occurrence)), ' ', actionButton('skip', 'Skip', () => skipOccurrence(occurrence)));
  }
  return item;
}

function actionButton(className: string, label: string, action: () => Promise<void>): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.textContent = label;
  button.addEventListener('click', () => action().catch(failed));
  return button;
}

/** Gives one occurrence a title of its own (an RFC 5545 RECURRENCE-ID); the others keep theirs. */
async function renameOccurrence(occurrence: OccurrenceSummary): Promise<void> {
  const title = prompt('Title of this occurrence only', occurrence.title)?.trim();
  if (!title) return;
  const { recurrence_id, start_time, end_time } = occurrence;
  await editSeries(occurrence, (pattern) => ({
    ...pattern,
    overrides: [...(pattern.overrides ?? []).filter((change) => change.recurrence_id !== recurrence_id), { recurrence_id: recurrence_id!, start_time, end_time, title }],
  }));
}

/** Takes one occurrence out of its series (an RFC 5545 EXDATE); the others stay. */
async function skipOccurrence(occurrence: OccurrenceSummary): Promise<void> {
  await editSeries(occurrence, (pattern) => ({ ...pattern, exdates: [...(pattern.exdates ?? []), occurrence.recurrence_id!] }));
}

/** Changes the pattern of an occurrence's series, then lists again. */
async function editSeries(occurrence: OccurrenceSummary, edit: (pattern: SeriesPattern) => SeriesPattern): Promise<void> {
  const path = `/events/${occurrence.event_id}`;
  const { recurrence_pattern: pattern } = await api.get<{ recurrence_pattern: SeriesPattern }>(path);
  await api.put(path, { recurrence_pattern: edit(pattern) });
  await listEvents();
}

/** The caller's events as an iCalendar file, for the browser to save. */
async function downloadCalendar(): Promise<void> {
  const calendar = await api.get<string>('/events.ics');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([calendar], { type: 'text/calendar' }));
  link.download = 'events.ics';
  link.click();
  // Revoked at once, the download could be cut off.
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

/** A new feed address for calendar programs to subscribe to; the one before stops working. */
async function showFeedAddress(): Promise<void> {
  const { url } = await api.post<{ url: string }>('/calendar-feed', undefined);
  $<HTMLInputElement>('#feed-url').value = url;
  $('#feed').hidden = false;
  $<HTMLInputElement>('#feed-url').select();
}

/** Makes the events of a calendar file the user's, and says what it updated and left out. */
async function importCalendar(input: HTMLInputElement): Promise<void> {
  const file = input.files?.[0];
  if (!file) return;
  input.value = '';
  const { items, updated, skipped } = await api.postCalendar<{ items: unknown[]; updated: unknown[]; skipped: { title: string | null; reason: string }[] }>(
    '/events/import',
    await file.text(),
  );
  const left = skipped.map((event) => `${event.title ?? 'an event'} (${event.reason})`).join('; ');
  const changed = updated.length ? `, updated ${updated.length}` : '';
  status(`Imported ${items.length} event${items.length === 1 ? '' : 's'}${changed} from ${file.name}${left ? `; skipped ${left}` : ''}`);
  await listEvents();
}

/** A list entry that opens the event. */
function eventItem(id: number, title: string, detail: string): HTMLLIElement {
  const item = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = title;
  button.addEventListener('click', () => openEvent(id).catch(failed));
  item.append(button, ` ${detail}`);
  return item;
}

const localTime = (iso: string) => new Date(iso).toLocaleString();

// --- the live editor ---------------------------------------------------------------------------

async function openEvent(id: number): Promise<void> {
  closeEvent();
  open = { id, doc: new Y.Doc(), role: 'viewer', unbind: [], present: new Map(), field: null };
  const doc = open.doc;
  await join(id);
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== FROM_SERVER) sendUpdate(id, update);
  });
  const map = doc.getMap('event');
  for (const field of TEXT_FIELDS) open.unbind.push(bindText($(`#field-${field}`), map.get(field) as Y.Text));
  const showTimes = () => {
    for (const field of TIME_FIELDS) $<HTMLInputElement>(`#field-${field}`).value = toLocalInput(String(map.get(field)));
    $('#editor-heading').textContent = String(map.get('title') ?? '');
  };
  map.observeDeep(showTimes);
  open.unbind.push(() => map.unobserveDeep(showTimes));
  showTimes();
  $('#editor').hidden = false;
  const history = await api.get<VersionSummary[]>(`/events/${id}/history`);
  $('#history').replaceChildren();
  for (const version of history) addVersion(version);
}

/** Joins the event's room; sends back whatever the server lacks (edits made offline). */
async function join(id: number): Promise<void> {
  if (!socket || !open) return;
  const doc = open.doc;
  const ack = await socket.emitWithAck('join', { event_id: id, state_vector: Y.encodeStateVector(doc) });
  const problem = errorOf(ack);
  if (problem) throw new Error(problem.message);
  const joined = ack as JoinResult;
  Y.applyUpdate(doc, new Uint8Array(joined.state), FROM_SERVER);
  const missing = Y.encodeStateAsUpdate(doc, new Uint8Array(joined.state_vector));
  if (Y.parseUpdateMeta(missing).to.size > 0) sendUpdate(id, missing);
  setRole(joined.role);
  if (open?.id !== id) return; // closed meanwhile
  // The server tells a newcomer who is here, and holds its presence for those who come later.
  open.present.clear();
  announce();
  showPresence();
}

function sendUpdate(id: number, update: Uint8Array): void {
  if (!socket?.connected) return; // the next join sends it
  status('Saving…');
  socket.emit('update', { event_id: id, update }, (ack) => {
    const problem = errorOf(ack);
    if (problem?.code === 'unauthorized') return void renewToken().catch(failed);
    status(problem?.message ?? 'All changes saved', problem !== null);
  });
}

/** The access token expired mid-session: get a fresh one, and join again to resend what was refused. */
async function renewToken(): Promise<void> {
  await api.refresh();
  await socket?.emitWithAck('auth', { token: api.accessToken });
  if (open) await join(open.id);
}

function setRole(role: Role): void {
  if (!open) return;
  open.role = role;
  const readOnly = role === 'viewer';
  for (const field of [...TEXT_FIELDS, ...TIME_FIELDS]) $<HTMLInputElement>(`#field-${field}`).readOnly = readOnly;
  $<HTMLButtonElement>('#save-version').disabled = readOnly;
  $('#share-form').hidden = role !== 'owner';
  $('#history').classList.toggle('read-only', readOnly);
  $('#role').textContent = ROLE_LABELS[role];
}

function closeEvent(): void {
  if (!open) return;
  socket?.emit('leave', { event_id: open.id });
  for (const unbind of open.unbind) unbind();
  open.doc.destroy();
  open = null;
  $('#editor').hidden = true;
}

/** Tells the room you are here, and in which field. */
function announce(): void {
  if (open) socket?.emit('awareness', { event_id: open.id, state: { field: open.field } });
}

function showPresence(): void {
  const fieldsByUser = new Map<string, Set<string>>();
  for (const { username, field } of open?.present.values() ?? []) {
    const fields = fieldsByUser.get(username) ?? new Set();
    if (field) fields.add(field);
    fieldsByUser.set(username, fields);
  }
  const names = [...fieldsByUser].map(([username, fields]) => (fields.size ? `${username} (in ${[...fields].join(', ')})` : username));
  $('#presence').textContent = names.length ? `Also here: ${names.join(', ')}` : 'No one else is here';
}

function addVersion(version: VersionSummary): void {
  const item = document.createElement('li');
  item.value = version.version_number;
  const changes = version.changes?.map((change) => change.field).join(', ');
  item.textContent = `v${version.version_number} by ${version.created_by.username}${version.change_description ? `: ${version.change_description}` : ''}`;
  // A rollback is a REST write: everyone with the event open gets it live, as an edit and a version.
  const restore = document.createElement('button');
  restore.type = 'button';
  restore.className = 'restore';
  restore.textContent = 'Restore';
  restore.addEventListener('click', () => restoreVersion(version.version_number).catch(failed));
  item.append(' ', restore);
  if (changes) {
    const detail = document.createElement('div');
    detail.className = 'changes';
    detail.textContent = `changed ${changes}`;
    item.append(detail);
  }
  $('#history').prepend(item);
}

async function restoreVersion(versionNumber: number): Promise<void> {
  if (!open) return;
  const latest = $<HTMLLIElement>('#history li').value;
  const event = await api.post<{ version: number }>(`/events/${open.id}/rollback/${versionNumber}`, {});
  status(event.version > latest ? `Restored version ${versionNumber} as version ${event.version}` : `The event already matches version ${versionNumber}`);
}

/** ISO time <-> the local "YYYY-MM-DDTHH:mm" a datetime-local input holds. */
function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string {
  return new Date(value).toISOString();
}

// --- wiring ------------------------------------------------------------------------------------

function onSubmit(selector: string, handle: (data: FormData, form: HTMLFormElement) => Promise<void>): void {
  $<HTMLFormElement>(selector).addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    handle(new FormData(form), form).catch(failed);
  });
}

const text = (data: FormData, name: string) => String(data.get(name) ?? '');

onSubmit('#login-form', async (data) => {
  await api.login(text(data, 'username'), text(data, 'password'));
  await enter();
});

onSubmit('#register-form', async (data) => {
  await api.register(text(data, 'email'), text(data, 'username'), text(data, 'password'));
  await enter();
});

onSubmit('#new-event-form', async (data, form) => {
  const created = await api.post<{ id: number }>('/events', {
    title: text(data, 'title'),
    start_time: fromLocalInput(text(data, 'start_time')),
    end_time: fromLocalInput(text(data, 'end_time')),
    // On this browser's clock: a 09:00 meeting stays at 09:00 when the clocks change.
    ...(data.get('weekly') ? { is_recurring: true, recurrence_pattern: { frequency: 'weekly', time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone } } : {}),
  });
  form.reset();
  await listEvents();
  await openEvent(created.id);
});

onSubmit('#share-form', async (data, form) => {
  if (!open) return;
  await api.post(`/events/${open.id}/share`, { user_id: Number(data.get('user_id')), role: text(data, 'role') });
  form.reset();
  status('Shared');
});

for (const field of TIME_FIELDS) {
  $<HTMLInputElement>(`#field-${field}`).addEventListener('change', (event) => {
    const value = (event.target as HTMLInputElement).value;
    if (open && value) open.doc.getMap('event').set(field, fromLocalInput(value));
  });
}

// Presence: which field you are in, for the others in the room.
for (const element of document.querySelectorAll<HTMLElement>('[data-field]')) {
  element.addEventListener('focus', () => {
    if (!open) return;
    open.field = element.dataset.field ?? null;
    announce();
  });
}

$('#save-version').addEventListener('click', async () => {
  if (!open || !socket) return;
  const ack = await socket.emitWithAck('checkpoint', { event_id: open.id });
  const problem = errorOf(ack);
  if (problem) return status(problem.message, true);
  const { version } = ack as { version: number | null };
  status(version === null ? 'Nothing new to save' : `Saved as version ${version}`);
});

$('#close-event').addEventListener('click', () => closeEvent());

$('#export').addEventListener('click', () => downloadCalendar().catch(failed));
$('#subscribe').addEventListener('click', () => showFeedAddress().catch(failed));
$<HTMLInputElement>('#import-file').addEventListener('change', (event) => importCalendar(event.target as HTMLInputElement).catch(failed));

$('#logout').addEventListener('click', () => {
  api.logout().catch(failed).finally(leaveSession);
});

if (api.user) {
  enter().catch((err) => {
    if (err instanceof ApiError && err.status === 401) leaveSession();
    else failed(err);
  });
}
