import { EventEmitter } from 'node:events';

interface SessionEvents {
  /** Sessions ended before their tokens expire: a logout, or a refresh token used twice. */
  ended: [sessionIds: string[]];
}

/** What the auth service announces once committed, so open sockets of ended sessions close. */
export class SessionFeed extends EventEmitter<SessionEvents> {}
