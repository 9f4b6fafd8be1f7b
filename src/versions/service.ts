import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { EventChangeLog, EventVersion } from '../db/entities';
import type { ChangeResult, EventsService } from '../events/service';
import { NotFound } from '../http/errors';
import { authorize } from '../permissions/access';
import { diffSnapshots, type FieldDiff } from './diff';

export interface VersionDiff {
  event_id: number;
  from_version: number;
  to_version: number;
  changes: FieldDiff[];
}

/** Reading history, and rollback, which writes through the events write path like any change. */
export class VersionsService {
  constructor(
    private readonly orm: MikroORM,
    private readonly events: EventsService,
  ) {}

  private get em(): EntityManager {
    return this.orm.em;
  }

  /** Every version, newest first, without the snapshots. */
  async history(actorId: number, eventId: number) {
    await authorize(this.em, eventId, actorId, 'viewer', 'read history');
    return this.em.find(
      EventVersion,
      { event: eventId },
      { exclude: ['data'], populate: ['createdBy'], orderBy: { versionNumber: 'desc' } },
    );
  }

  async version(actorId: number, eventId: number, versionNumber: number): Promise<EventVersion> {
    await authorize(this.em, eventId, actorId, 'viewer', 'read history');
    return this.find(eventId, versionNumber);
  }

  /** Makes a new version whose fields are those of an old one; history is never rewritten. */
  async rollback(actorId: number, eventId: number, versionNumber: number, ifMatch?: number[]): Promise<ChangeResult> {
    await authorize(this.em, eventId, actorId, 'editor', 'roll back this event');
    const target = await this.find(eventId, versionNumber);
    return this.events.change({
      eventId,
      actorId,
      patch: target.data,
      description: `Rolled back to version ${versionNumber}`,
      ifMatch,
    });
  }

  /** Field-level changes, oldest first. */
  async changelog(actorId: number, eventId: number, page: { limit: number; offset: number }) {
    await authorize(this.em, eventId, actorId, 'viewer', 'read history');
    const [items, total] = await this.em.findAndCount(
      EventChangeLog,
      { event: eventId },
      {
        populate: ['createdBy', 'version'],
        fields: ['*', 'createdBy.username', 'version.versionNumber'],
        orderBy: { id: 'asc' },
        limit: page.limit,
        offset: page.offset,
      },
    );
    return { items, total };
  }

  /** What changed between two versions, in either order. */
  async diff(actorId: number, eventId: number, from: number, to: number): Promise<VersionDiff> {
    await authorize(this.em, eventId, actorId, 'viewer', 'read history');
    const versions = await this.em.find(EventVersion, { event: eventId, versionNumber: { $in: [from, to] } });
    const snapshotOf = (number: number) => {
      const version = versions.find((candidate) => candidate.versionNumber === number);
      if (!version) throw new NotFound(`Version ${number} does not exist`);
      return version.data;
    };
    return { event_id: eventId, from_version: from, to_version: to, changes: diffSnapshots(snapshotOf(from), snapshotOf(to)) };
  }

  private async find(eventId: number, versionNumber: number): Promise<EventVersion> {
    const version = await this.em.findOne(EventVersion, { event: eventId, versionNumber }, { populate: ['createdBy'] });
    if (!version) throw new NotFound(`Version ${versionNumber} does not exist`);
    return version;
  }
}
