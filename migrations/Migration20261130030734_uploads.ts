import { Migration } from '@mikro-orm/migrations';

export class Migration20261130030734_uploads extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "uploads" ("id" varchar(40) not null, "owner_id" varchar(40) not null, "file_name" varchar(255) not null, "storage_key" varchar(200) not null, "size_bytes" int not null, "category" varchar(32) not null, "mime_type" varchar(100) not null, "created_at" timestamptz not null, "task_id" varchar(40) null, constraint "uploads_pkey" primary key ("id"));`);
    this.addSql(`create index "uploads_created_at_index" on "uploads" ("created_at");`);

    this.addSql(`alter table "uploads" add constraint "uploads_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "uploads" cascade;`);
  }

}
