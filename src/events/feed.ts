import { EventEmitter } from 'node:events';
import type { Role } from '../db/entities';
import type { FieldChange } from './fields';

export interface VersionNotice {
  version_number: number;
  created_by: { id: number; username: string };
  change_description: string | null;
  changes: FieldChange[];
}

export interface CommittedChange {
  eventId: number;
  /** The version the commit made, if it changed a field. */
  version: VersionNotice | null;
  /** The Yjs update a REST write or rollback made to the document, for open copies of it. */
  update: Uint8Array | null;
}

interface FeedEvents {
  committed: [CommittedChange];
  roleChanged: [{ eventId: number; userId: number; role: Role }];
  accessRemoved: [{ eventId: number; userId: number }];
  deleted: [{ eventId: number }];
}

/**
 * What the services announce after a commit, so open documents and sockets can follow: the
 * collaboration hub listens. Emitted only after the transaction commits.
 */
export class EventFeed extends EventEmitter<FeedEvents> {}
