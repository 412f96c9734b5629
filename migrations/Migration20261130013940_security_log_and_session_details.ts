import { Migration } from '@mikro-orm/migrations';

export class Migration20261130013940_security_log_and_session_details extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "security_events" ("id" varchar(47) not null, "user_id" varchar(40) not null, "kind" varchar(24) not null, "ip" varchar(45) null, "user_agent" varchar(512) null, "detail" jsonb not null, "created_at" timestamptz not null, constraint "security_events_pkey" primary key ("id"));`);
    this.addSql(`create index "security_events_user_page_index" on "security_events" ("user_id", "created_at" desc, "id" desc);`);

    this.addSql(`alter table "security_events" add constraint "security_events_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "sessions" add column "last_used_at" timestamptz null, add column "ip" varchar(45) null, add column "user_agent" varchar(512) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "security_events" cascade;`);

    this.addSql(`alter table "sessions" drop column "last_used_at", drop column "ip", drop column "user_agent";`);
  }

}
