import { Migration } from '@mikro-orm/migrations';

/**
 * When an event's first occurrence starts, so that range queries find a series whose first
 * occurrence was moved earlier than its own start. No event stored before this had one (the rules
 * refused it), so the start is the first occurrence's.
 */
export class Migration20261201150000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "event" add column "series_start" timestamptz null;`);
    this.addSql(`update "event" set "series_start" = "start_time";`);
    this.addSql(`alter table "event" alter column "series_start" set not null;`);
    this.addSql(`create index "event_series_start_index" on "event" ("series_start");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "event_series_start_index";`);
    this.addSql(`alter table "event" drop column "series_start";`);
  }

}
