import { Migration } from '@mikro-orm/migrations';

/** Failed logins, counted by rate-limiter-flexible's PostgreSQL store (its table layout); not an entity. */
export class Migration20261201080000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "login_failure" ("key" varchar(255) primary key, "points" integer not null default 0, "expire" bigint);`);
    this.addSql(`create index "login_failure_expire_index" on "login_failure" ("expire");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "login_failure";`);
  }

}
