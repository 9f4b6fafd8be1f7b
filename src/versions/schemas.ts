import { z } from 'zod';
import type { EventChangeLog, EventVersion } from '../db/entities';
import { EventSnapshotResponse } from '../events/schemas';
import { EventIdParams, pageOf, Pagination, PathId, UserRef } from '../http/schemas';

export const VersionParams = EventIdParams.extend({ version_number: PathId.meta({ description: 'Version number' }) });

export const DiffParams = EventIdParams.extend({
  v1: PathId.meta({ description: 'Version to diff from' }),
  v2: PathId.meta({ description: 'Version to diff to' }),
});

export const ChangelogQuery = Pagination;

export const VersionSummary = z
  .object({
    version_number: z.number().int(),
    created_by: UserRef,
    created_at: z.string(),
    change_description: z.string().nullable(),
  })
  .meta({ id: 'VersionSummary' });

export const VersionDetail = VersionSummary.extend({ event_id: z.number().int(), data: EventSnapshotResponse }).meta({ id: 'Version' });

export const HistoryResponse = z.array(VersionSummary).meta({ id: 'History' });

export const ChangelogEntry = z
  .object({
    id: z.number().int(),
    version_number: z.number().int(),
    field_name: z.string(),
    old_value: z.unknown(),
    new_value: z.unknown(),
    created_by: UserRef,
    created_at: z.string(),
  })
  .meta({ id: 'ChangelogEntry' });

export const ChangelogPage = pageOf(ChangelogEntry).meta({ id: 'ChangelogPage' });

export const DiffResponse = z
  .object({
    event_id: z.number().int(),
    from_version: z.number().int(),
    to_version: z.number().int(),
    changes: z.array(
      z.object({
        field: z.string(),
        old_value: z.unknown(),
        new_value: z.unknown(),
        change_type: z.enum(['added', 'removed', 'modified']),
        text_diff: z
          .object({
            granularity: z.enum(['line', 'word']),
            parts: z.array(z.object({ op: z.enum(['equal', 'insert', 'delete']), text: z.string() })),
          })
          .optional(),
      }),
    ),
  })
  .meta({ id: 'Diff' });

type VersionSummary = z.infer<typeof VersionSummary>;
type Author = { createdBy: { id: number; username: string } };
type VersionDetail = z.infer<typeof VersionDetail>;
type ChangelogEntry = z.infer<typeof ChangelogEntry>;

export function presentVersionSummary(version: Pick<EventVersion, 'versionNumber' | 'createdAt' | 'changeDescription'> & Author): VersionSummary {
  return {
    version_number: version.versionNumber,
    created_by: { id: version.createdBy.id, username: version.createdBy.username },
    created_at: version.createdAt.toISOString(),
    change_description: version.changeDescription,
  };
}

export function presentVersion(version: EventVersion): VersionDetail {
  return { ...presentVersionSummary(version), event_id: version.event.id, data: version.data };
}

export function presentChangelogEntry(
  entry: Pick<EventChangeLog, 'id' | 'fieldName' | 'oldValue' | 'newValue' | 'createdAt'> & Author & { version: { versionNumber: number } },
): ChangelogEntry {
  return {
    id: entry.id,
    version_number: entry.version.versionNumber,
    field_name: entry.fieldName,
    old_value: entry.oldValue,
    new_value: entry.newValue,
    created_by: { id: entry.createdBy.id, username: entry.createdBy.username },
    created_at: entry.createdAt.toISOString(),
  };
}
