import { Migration } from '@mikro-orm/migrations';

/** The login throttle's table counts registrations too: it is named for what it holds. */
export class Migration20261201120000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "login_failure" rename to "password_attempt";`);
    this.addSql(`alter index "login_failure_expire_index" rename to "password_attempt_expire_index";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter index "password_attempt_expire_index" rename to "login_failure_expire_index";`);
    this.addSql(`alter table "password_attempt" rename to "login_failure";`);
  }

}
