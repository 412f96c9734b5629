import { Migration } from '@mikro-orm/migrations';

export class Migration20261206210000_idempotency_keys extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "idempotency_keys" ("id" bigserial primary key, "scope" varchar(64) not null, "key" varchar(255) not null, "operation" varchar(64) not null, "fingerprint" varchar(64) not null, "state" varchar(16) not null, "response" text null, "created_at" timestamptz not null, "completed_at" timestamptz null);`);
    this.addSql(`create index "idempotency_keys_created_at_index" on "idempotency_keys" ("created_at");`);
    this.addSql(`alter table "idempotency_keys" add constraint "idempotency_keys_scope_key_unique" unique ("scope", "key");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "idempotency_keys" cascade;`);
  }

}
