import { Migration } from '@mikro-orm/migrations';

export class Migration20261206204000_admin_accounts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "users" add column "deactivated_at" timestamptz null, add column "erased_at" timestamptz null;`);
    this.addSql(`create index "users_page_index" on "users" ("created_at" desc, "id" desc);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "users_page_index";`);
    this.addSql(`alter table "users" drop column if exists "deactivated_at", drop column if exists "erased_at";`);
  }

}
