import { z } from 'zod';
import type { Role } from '../db/entities';
import type { VersionNotice } from '../events/feed';
import { Id } from '../http/schemas';

/**
 * The `/collab` Socket.IO protocol, shared by the hub, the tests and the demo client. Requests with
 * an ack get either their result or `{error}`; problems outside an ack arrive as an `error` event.
 */

/** Largest Yjs update accepted in one message; larger ones are refused with `payload_too_large`. */
export const MAX_UPDATE_BYTES = 1024 * 1024;
/** Largest presence state relayed, as JSON. */
export const MAX_AWARENESS_BYTES = 4 * 1024;

const Binary = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'must be binary (a Yjs update)');

export const JoinPayload = z.strictObject({
  event_id: Id,
  /** The client's state vector: the answer then holds only what the client lacks. */
  state_vector: Binary.optional(),
});

export const LeavePayload = z.strictObject({ event_id: Id });

export const UpdatePayload = z.strictObject({
  event_id: Id,
  update: Binary.refine((update) => update.byteLength > 0, 'must not be empty'),
});

export const AwarenessPayload = z.strictObject({
  event_id: Id,
  /** Presence to show others (who is here, which field they are in); null when leaving. */
  state: z
    .record(z.string(), z.unknown())
    .nullable()
    .refine((state) => JSON.stringify(state).length <= MAX_AWARENESS_BYTES, `must be at most ${MAX_AWARENESS_BYTES} bytes of JSON`),
});

export const CheckpointPayload = z.strictObject({
  event_id: Id,
  description: z.string().trim().max(500).optional(),
});

export const AuthPayload = z.strictObject({ token: z.string().min(1).max(4096) });

export interface CollabError {
  code: string;
  message: string;
  details?: unknown;
}

export type Ack<T> = T | { error: CollabError };

export interface JoinResult {
  role: Role;
  /** The event's current version number. */
  version: number;
  /** Yjs update bringing the client's document up to the server's (all of it without a state vector). */
  state: Uint8Array;
  /** The server's state vector: send back, as an `update`, whatever the server lacks. */
  state_vector: Uint8Array;
}

export interface ClientToServerEvents {
  join(payload: z.input<typeof JoinPayload>, ack: (result: Ack<JoinResult>) => void): void;
  leave(payload: z.input<typeof LeavePayload>, ack?: (result: Ack<{ ok: true }>) => void): void;
  update(payload: z.input<typeof UpdatePayload>, ack?: (result: Ack<{ ok: true }>) => void): void;
  awareness(payload: z.input<typeof AwarenessPayload>): void;
  checkpoint(payload: z.input<typeof CheckpointPayload>, ack?: (result: Ack<{ version: number | null }>) => void): void;
  /** Swaps in a fresh access token (same user) without reconnecting. */
  auth(payload: z.input<typeof AuthPayload>, ack?: (result: Ack<{ expires_at: string }>) => void): void;
}

/** Someone's presence in an event, as the others get it. */
export interface Presence {
  event_id: number;
  user: { id: number; username: string };
  /** Tells apart one user's several connections (tabs, devices): presence is per connection. */
  connection: string;
  /** What they announced; null when that connection left. */
  state: Record<string, unknown> | null;
}

export interface ServerToClientEvents {
  update(payload: { event_id: number; update: Uint8Array }): void;
  awareness(payload: Presence): void;
  version(payload: { event_id: number } & VersionNotice): void;
  permission(payload: { event_id: number; role: Role }): void;
  removed(payload: { event_id: number; reason: 'access_revoked' | 'event_deleted' }): void;
  error(payload: { event_id?: number } & CollabError): void;
}

/** The protocol in brief, shown at /docs next to the REST API. */
export const PROTOCOL_MARKDOWN = `
## Real-time collaboration: Socket.IO namespace \`/collab\`

Connect with \`io('<server>/collab', { auth: { token: '<access token>' } })\`; a missing, forged or
expired token fails the connection (\`connect_error\`, \`err.data.code = "unauthorized"\`).
Requests with an ack answer with their result or \`{error: {code, message, details?}}\`.

| client -> server | ack |
| --- | --- |
| \`join {event_id, state_vector?}\` | \`{role, version, state, state_vector}\`: \`state\` is a Yjs update (only what your state vector lacks); send back, as an \`update\`, whatever the server's \`state_vector\` lacks |
| \`update {event_id, update}\` (binary Yjs update; editors and owners) | \`{ok: true}\` once stored in PostgreSQL |
| \`awareness {event_id, state}\` (presence, JSON; held in memory while in the room, sent to those who join later, never stored) | - |
| \`checkpoint {event_id, description?}\` | \`{version}\`: the new version number, or null if nothing changed |
| \`leave {event_id}\` | \`{ok: true}\`; a join of the event still being checked is cancelled (its ack: \`join_cancelled\`) |
| \`auth {token}\` (a fresh access token, same user) | \`{expires_at}\` |

| server -> client | when |
| --- | --- |
| \`update {event_id, update}\` | someone else's edit, a REST write or a rollback |
| \`version {event_id, version_number, created_by, change_description, changes}\` | any new version |
| \`awareness {event_id, user, connection, state}\` | someone's presence changed (\`state: null\`: that connection left; one user may have several); right after your join, one for each connection that has a presence |
| \`permission {event_id, role}\` | your role changed |
| \`removed {event_id, reason}\` | your access was revoked or the event deleted; you left the room |
| \`error {event_id?, code, message}\` | a request without an ack failed, live edits could not become a version, or your session ended (logout; \`unauthorized\`, then the server disconnects you) |

Document: one \`Y.Map\` named \`event\`; \`title\`, \`description\`, \`location\` are \`Y.Text\`;
\`start_time\`, \`end_time\` (ISO strings), \`is_recurring\`, \`recurrence_pattern\` are plain values.
An update that would break the REST rules is answered with \`validation_error\` and repaired by a
server edit every copy receives. After \`unauthorized\`, \`forbidden\`, \`resync_required\` or
\`too_many_requests\` (a socket's message budget is spent: wait \`details.retry_after_seconds\`), join
again with your document to resend what the server did not take.
`;
