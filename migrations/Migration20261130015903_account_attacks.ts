import { Migration } from '@mikro-orm/migrations';

export class Migration20261130015903_account_attacks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "recovery_codes" ("id" varchar(50) not null, "user_id" varchar(40) not null, "code_hash" varchar(64) not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "recovery_codes_pkey" primary key ("id"));`);
    this.addSql(`create index "recovery_codes_user_id_index" on "recovery_codes" ("user_id");`);

    this.addSql(`create table "code_attempts" ("id" varchar(50) not null, "user_id" varchar(40) not null, "flow" varchar(20) not null, "failures" int not null default 0, "locked_until" timestamptz null, "updated_at" timestamptz not null, constraint "code_attempts_pkey" primary key ("id"));`);
    this.addSql(`alter table "code_attempts" add constraint "code_attempts_user_id_flow_unique" unique ("user_id", "flow");`);

    this.addSql(`create table "registrations" ("id" varchar(50) not null, "user_id" varchar(40) not null, "created_account" boolean not null default false, "session_id" varchar(45) not null, "password_hash" varchar(255) not null, "first_name" varchar(200) not null, "last_name" varchar(200) null, "created_at" timestamptz not null, constraint "registrations_pkey" primary key ("id"));`);
    this.addSql(`create index "registrations_user_id_index" on "registrations" ("user_id");`);
    this.addSql(`create index "registrations_session_id_index" on "registrations" ("session_id");`);

    this.addSql(`alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "code_attempts" add constraint "code_attempts_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "registrations" add constraint "registrations_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "registrations" add constraint "registrations_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "otps" add column "registration_id" varchar(50) null;`);
    this.addSql(`alter table "otps" add constraint "otps_registration_id_foreign" foreign key ("registration_id") references "registrations" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "otps" drop constraint "otps_registration_id_foreign";`);
    this.addSql(`alter table "otps" drop column "registration_id";`);
    this.addSql(`drop table if exists "registrations" cascade;`);
    this.addSql(`drop table if exists "code_attempts" cascade;`);
    this.addSql(`drop table if exists "recovery_codes" cascade;`);
  }

}
