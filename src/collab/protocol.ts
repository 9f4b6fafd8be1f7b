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

export interface ServerToClientEvents {
  update(payload: { event_id: number; update: Uint8Array }): void;
  awareness(payload: { event_id: number; user: { id: number; username: string }; state: Record<string, unknown> | null }): void;
  version(payload: { event_id: number } & VersionNotice): void;
  permission(payload: { event_id: number; role: Role }): void;
  removed(payload: { event_id: number; reason: 'access_revoked' | 'event_deleted' }): void;
  error(payload: { event_id?: number } & CollabError): void;
}
