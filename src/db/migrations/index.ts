import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261129224129 } from './Migration20261129224129';
import { Migration20261129231228 } from './Migration20261129231228';
import { Migration20261130071500 } from './Migration20261130071500';
import { Migration20261201080000 } from './Migration20261201080000';
import { Migration20261201120000 } from './Migration20261201120000';
import { Migration20261201130000 } from './Migration20261201130000';
import { Migration20261201140000 } from './Migration20261201140000';
import { Migration20261201150000 } from './Migration20261201150000';

/** Every migration, oldest first. `npm run migration:create` writes a new file; add it here. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261129224129_initial_schema', class: Migration20261129224129 },
  { name: 'Migration20261129231228_event_documents', class: Migration20261129231228 },
  { name: 'Migration20261130071500_event_series_end', class: Migration20261130071500 },
  { name: 'Migration20261201080000_login_failures', class: Migration20261201080000 },
  { name: 'Migration20261201120000_password_attempts', class: Migration20261201120000 },
  { name: 'Migration20261201130000_calendar_feeds', class: Migration20261201130000 },
  { name: 'Migration20261201140000_event_ical_uid', class: Migration20261201140000 },
  { name: 'Migration20261201150000_event_series_start', class: Migration20261201150000 },
];
