import { Migration } from '@mikro-orm/migrations';

/** The UID an event was imported under, looked up by owner when the same file comes again. */
export class Migration20261201140000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "event" add column "ical_uid" varchar(255) null;`);
    this.addSql(`create index "event_owner_id_ical_uid_index" on "event" ("owner_id", "ical_uid");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "event_owner_id_ical_uid_index";`);
    this.addSql(`alter table "event" drop column "ical_uid";`);
  }

}
