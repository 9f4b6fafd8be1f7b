import type { EventSnapshot } from '../../src/db/entities';
import type { Api } from './api';

export interface TestUser {
  id: number;
  username: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

let counter = 0;

/** Registers a new user with a unique name and logs it in. */
export async function createUser(api: Api, name = 'user'): Promise<TestUser> {
  counter += 1;
  const username = `${name}${counter}_${process.pid}`;
  const email = `${username}@example.com`;
  const password = 'correct horse battery';
  const registered = await api.post('/auth/register', { email, username, password });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const login = await api.post('/auth/login', { username, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: registered.body.id, username, email, password, token: login.body.access_token, refreshToken: login.body.refresh_token };
}

export const sampleEvent = (overrides: Record<string, unknown> = {}) => ({
  title: 'Planning',
  description: 'Quarterly planning',
  start_time: '2026-06-01T09:00:00Z',
  end_time: '2026-06-01T10:00:00Z',
  location: 'Room 1',
  ...overrides,
});

/** A whole event as its document holds it, for tests of documents and rooms. */
export const sampleSnapshot = (overrides: Partial<EventSnapshot> = {}): EventSnapshot => ({
  title: 'Planning',
  description: 'Agenda',
  location: null,
  start_time: '2026-06-01T09:00:00.000Z',
  end_time: '2026-06-01T10:00:00.000Z',
  is_recurring: false,
  recurrence_pattern: null,
  ...overrides,
});

/** Creates an event owned by `owner` and returns its id. */
export async function createEvent(api: Api, owner: TestUser, overrides: Record<string, unknown> = {}): Promise<number> {
  const created = await api.post('/events', sampleEvent(overrides), { token: owner.token });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}

/** Shares an event, failing loudly if the owner could not. */
export async function share(api: Api, owner: TestUser, eventId: number, user: TestUser, role: 'editor' | 'viewer'): Promise<void> {
  const shared = await api.post(`/events/${eventId}/share`, { user_id: user.id, role }, { token: owner.token });
  if (shared.status !== 201) throw new Error(`share failed: ${shared.status} ${JSON.stringify(shared.body)}`);
}
