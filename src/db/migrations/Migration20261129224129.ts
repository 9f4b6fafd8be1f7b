import { Migration } from '@mikro-orm/migrations';

export class Migration20261129224129 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "event_role" as enum ('owner', 'editor', 'viewer');`);
    this.addSql(`create table "user" ("id" serial primary key, "email" varchar(255) not null, "username" varchar(50) not null, "hashed_password" varchar(255) not null, "is_active" boolean not null default true, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "user" add constraint "user_email_unique" unique ("email");`);
    this.addSql(`create unique index "user_username_lower_unique" on "user" (lower("username"));`);

    this.addSql(`create table "event" ("id" serial primary key, "title" varchar(200) not null, "description" text not null default '', "start_time" timestamptz not null, "end_time" timestamptz not null, "location" varchar(500) null, "is_recurring" boolean not null default false, "recurrence_pattern" jsonb null, "owner_id" int not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint event_end_after_start check (end_time > start_time));`);
    this.addSql(`create index "event_end_time_index" on "event" ("end_time");`);
    this.addSql(`create index "event_start_time_index" on "event" ("start_time");`);

    this.addSql(`create table "event_version" ("id" serial primary key, "event_id" int not null, "version_number" int not null, "data" jsonb not null, "created_by_id" int not null, "created_at" timestamptz not null, "change_description" text null);`);
    this.addSql(`alter table "event_version" add constraint "event_version_event_id_version_number_unique" unique ("event_id", "version_number");`);

    this.addSql(`create table "event_permission" ("id" serial primary key, "event_id" int not null, "user_id" int not null, "role" "event_role" not null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "event_permission_user_id_event_id_index" on "event_permission" ("user_id", "event_id");`);
    this.addSql(`alter table "event_permission" add constraint "event_permission_event_id_user_id_unique" unique ("event_id", "user_id");`);

    this.addSql(`create table "event_change_log" ("id" serial primary key, "event_id" int not null, "version_id" int not null, "field_name" varchar(50) not null, "old_value" jsonb null, "new_value" jsonb null, "created_by_id" int not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "event_change_log_event_id_id_index" on "event_change_log" ("event_id", "id");`);

    this.addSql(`create table "auth_session" ("id" uuid not null, "user_id" int not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, constraint "auth_session_pkey" primary key ("id"));`);
    this.addSql(`create index "auth_session_user_id_index" on "auth_session" ("user_id");`);

    this.addSql(`create table "refresh_token" ("id" serial primary key, "session_id" uuid not null, "token_hash" varchar(64) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null);`);
    this.addSql(`create index "refresh_token_session_id_index" on "refresh_token" ("session_id");`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_token_hash_unique" unique ("token_hash");`);

    this.addSql(`alter table "event" add constraint "event_owner_id_foreign" foreign key ("owner_id") references "user" ("id") on update cascade;`);

    this.addSql(`alter table "event_version" add constraint "event_version_event_id_foreign" foreign key ("event_id") references "event" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "event_version" add constraint "event_version_created_by_id_foreign" foreign key ("created_by_id") references "user" ("id") on update cascade;`);

    this.addSql(`alter table "event_permission" add constraint "event_permission_event_id_foreign" foreign key ("event_id") references "event" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "event_permission" add constraint "event_permission_user_id_foreign" foreign key ("user_id") references "user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "event_change_log" add constraint "event_change_log_event_id_foreign" foreign key ("event_id") references "event" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "event_change_log" add constraint "event_change_log_version_id_foreign" foreign key ("version_id") references "event_version" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "event_change_log" add constraint "event_change_log_created_by_id_foreign" foreign key ("created_by_id") references "user" ("id") on update cascade;`);

    this.addSql(`alter table "auth_session" add constraint "auth_session_user_id_foreign" foreign key ("user_id") references "user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "refresh_token" add constraint "refresh_token_session_id_foreign" foreign key ("session_id") references "auth_session" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "event" drop constraint "event_owner_id_foreign";`);

    this.addSql(`alter table "event_version" drop constraint "event_version_created_by_id_foreign";`);

    this.addSql(`alter table "event_permission" drop constraint "event_permission_user_id_foreign";`);

    this.addSql(`alter table "event_change_log" drop constraint "event_change_log_created_by_id_foreign";`);

    this.addSql(`alter table "auth_session" drop constraint "auth_session_user_id_foreign";`);

    this.addSql(`alter table "event_version" drop constraint "event_version_event_id_foreign";`);

    this.addSql(`alter table "event_permission" drop constraint "event_permission_event_id_foreign";`);

    this.addSql(`alter table "event_change_log" drop constraint "event_change_log_event_id_foreign";`);

    this.addSql(`alter table "event_change_log" drop constraint "event_change_log_version_id_foreign";`);

    this.addSql(`alter table "refresh_token" drop constraint "refresh_token_session_id_foreign";`);

    this.addSql(`drop table if exists "user" cascade;`);

    this.addSql(`drop table if exists "event" cascade;`);

    this.addSql(`drop table if exists "event_version" cascade;`);

    this.addSql(`drop table if exists "event_permission" cascade;`);

    this.addSql(`drop table if exists "event_change_log" cascade;`);

    this.addSql(`drop table if exists "auth_session" cascade;`);

    this.addSql(`drop table if exists "refresh_token" cascade;`);

    this.addSql(`drop type "event_role";`);
  }

}
