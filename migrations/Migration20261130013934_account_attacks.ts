import { Migration } from '@mikro-orm/migrations';

export class Migration20261130013934_account_attacks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "recovery_codes" ("id" varchar(50) not null, "user_id" varchar(40) not null, "code_hash" varchar(64) not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "recovery_codes_pkey" primary key ("id"));`);
    this.addSql(`create index "recovery_codes_user_id_index" on "recovery_codes" ("user_id");`);

    this.addSql(`create table "code_attempts" ("id" varchar(50) not null, "user_id" varchar(40) not null, "flow" varchar(20) not null, "failures" int not null default 0, "locked_until" timestamptz null, "updated_at" timestamptz not null, constraint "code_attempts_pkey" primary key ("id"));`);
    this.addSql(`alter table "code_attempts" add constraint "code_attempts_user_id_flow_unique" unique ("user_id", "flow");`);

    this.addSql(`alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "code_attempts" add constraint "code_attempts_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "otps" add column "registration" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "recovery_codes" cascade;`);

    this.addSql(`drop table if exists "code_attempts" cascade;`);

    this.addSql(`alter table "otps" drop column "registration";`);
  }

}
