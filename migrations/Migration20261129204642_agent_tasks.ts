import { Migration } from '@mikro-orm/migrations';

export class Migration20261129204642_agent_tasks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "tasks" ("id" varchar(40) not null, "user_id" varchar(40) not null, "status" text check ("status" in ('queued', 'running', 'completed', 'failed')) not null default 'queued', "prompt" text not null, "inputs" jsonb not null, "result" jsonb null, "error" text null, "cost" int not null, "attempts" int not null default 0, "charge_transaction_id" varchar(45) null, "refund_transaction_id" varchar(45) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "tasks_pkey" primary key ("id"));`);
    this.addSql(`create index "tasks_user_page_index" on "tasks" ("user_id", "created_at" desc, "id" desc);`);

    this.addSql(`alter table "tasks" add constraint "tasks_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "tasks" cascade;`);
  }

}
