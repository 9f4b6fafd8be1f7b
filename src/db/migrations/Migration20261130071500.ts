import { Migration } from '@mikro-orm/migrations';

export class Migration20261130071500 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "event" add column "series_end" timestamptz null;`);
    // Recurring events written before this are taken as endless (null) until their next write:
    // a range query may then list one whose series is over, but never misses one that is not.
    this.addSql(`update "event" set "series_end" = "end_time" where not "is_recurring";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "event" drop column "series_end";`);
  }

}
