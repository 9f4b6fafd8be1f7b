import { Migration } from '@mikro-orm/migrations';

/** Each user's calendar feed: the hash of the secret in its address. */
export class Migration20261201130000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "user" add column "calendar_feed_hash" varchar(64) null;`);
    this.addSql(`alter table "user" add constraint "user_calendar_feed_hash_unique" unique ("calendar_feed_hash");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "user" drop constraint "user_calendar_feed_hash_unique";`);
    this.addSql(`alter table "user" drop column "calendar_feed_hash";`);
  }

}
