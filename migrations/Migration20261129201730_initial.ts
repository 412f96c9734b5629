import { Migration } from '@mikro-orm/migrations';

export class Migration20261129201730_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "users" ("id" varchar(40) not null, "email" varchar(320) not null, "password_hash" varchar(255) null, "first_name" varchar(200) not null, "last_name" varchar(200) null, "credits" int not null default 0, "is_active" boolean not null default false, "is_dark_mode" boolean not null default true, "two_factor_method" varchar(10) null, "totp_secret" text null, "totp_pending_secret" text null, "totp_last_step" int null, "google_id" varchar(64) null, "stripe_customer_id" varchar(64) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);
    // The last line of defence for "balances never go negative".
    this.addSql(`alter table "users" add constraint "users_credits_non_negative" check ("credits" >= 0);`);
    this.addSql(`alter table "users" add constraint "users_google_id_unique" unique ("google_id");`);
    this.addSql(`create index "users_stripe_customer_id_index" on "users" ("stripe_customer_id");`);

    this.addSql(`create table "sessions" ("id" varchar(45) not null, "user_id" varchar(40) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, constraint "sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);

    this.addSql(`create table "otps" ("id" varchar(40) not null, "user_id" varchar(40) not null, "type" varchar(20) not null, "code_hash" varchar(64) not null, "attempts" int not null default 0, "expires_at" timestamptz not null, "created_at" timestamptz not null, constraint "otps_pkey" primary key ("id"));`);
    this.addSql(`alter table "otps" add constraint "otps_user_id_type_unique" unique ("user_id", "type");`);

    this.addSql(`create table "api_keys" ("id" varchar(45) not null, "user_id" varchar(40) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "api_keys_pkey" primary key ("id"));`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_user_id_unique" unique ("user_id");`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "otps" add constraint "otps_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_keys" add constraint "api_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "sessions" drop constraint "sessions_user_id_foreign";`);

    this.addSql(`alter table "otps" drop constraint "otps_user_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_user_id_foreign";`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "sessions" cascade;`);

    this.addSql(`drop table if exists "otps" cascade;`);

    this.addSql(`drop table if exists "api_keys" cascade;`);
  }

}
