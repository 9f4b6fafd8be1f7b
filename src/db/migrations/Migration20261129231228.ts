import { Migration } from '@mikro-orm/migrations';

export class Migration20261129231228 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "event_document_update" ("id" bigserial primary key, "event_id" int not null, "author_id" int not null, "update" bytea not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "event_document_update_event_id_index" on "event_document_update" ("event_id");`);

    this.addSql(`create table "event_document" ("event_id" int not null, "state" bytea not null, "updated_at" timestamptz not null, constraint "event_document_pkey" primary key ("event_id"));`);

    this.addSql(`alter table "event_document_update" add constraint "event_document_update_event_id_foreign" foreign key ("event_id") references "event" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "event_document_update" add constraint "event_document_update_author_id_foreign" foreign key ("author_id") references "user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "event_document" add constraint "event_document_event_id_foreign" foreign key ("event_id") references "event" ("id") on update cascade on delete cascade;`);

    // Payloads too large for NOTIFY, for @socket.io/postgres-adapter (not an entity: the adapter owns it).
    this.addSql(`create table "socket_io_attachments" ("id" bigserial unique, "created_at" timestamptz default now(), "payload" bytea);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "event_document_update" cascade;`);

    this.addSql(`drop table if exists "event_document" cascade;`);

    this.addSql(`drop table if exists "socket_io_attachments";`);
  }

}
