import { Migration } from '@mikro-orm/migrations';

export class Migration20261129202955_credits extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "stripe_events" ("id" varchar(255) not null, "type" varchar(100) not null, "processed_at" timestamptz not null, constraint "stripe_events_pkey" primary key ("id"));`);

    this.addSql(`create table "transactions" ("id" varchar(45) not null, "user_id" varchar(40) not null, "type" varchar(6) not null, "kind" varchar(16) not null, "description" text not null, "value_in_credits" int not null, "fiat_cents" int not null, "balance_after" int not null, "reference" varchar(64) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "transactions_pkey" primary key ("id"), constraint transactions_balance_non_negative check (balance_after >= 0), constraint transactions_fiat_non_negative check (fiat_cents >= 0), constraint transactions_value_positive check (value_in_credits > 0));`);
    // Keyset pages (newest first, optionally by type) read these indexes in order: the same cost at any depth.
    this.addSql(`create index "transactions_user_type_page_index" on "transactions" ("user_id", "type", "created_at" desc, "id" desc);`);
    this.addSql(`create index "transactions_user_page_index" on "transactions" ("user_id", "created_at" desc, "id" desc);`);
    // A purchase is granted once, a task charged or refunded once (NULL references, admin adjustments, repeat).
    this.addSql(`alter table "transactions" add constraint "transactions_kind_reference_unique" unique ("kind", "reference");`);

    this.addSql(`create table "purchases" ("id" varchar(41) not null, "user_id" varchar(40) not null, "status" varchar(10) not null default 'pending', "credits" int not null, "amount_cents" int not null, "currency" varchar(3) not null, "checkout_session_id" varchar(255) null, "paid_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "purchases_pkey" primary key ("id"), constraint purchases_amount_positive check (amount_cents > 0), constraint purchases_credits_positive check (credits > 0));`);
    this.addSql(`create index "purchases_user_id_index" on "purchases" ("user_id");`);
    // A Checkout Session pays for one purchase only.
    this.addSql(`alter table "purchases" add constraint "purchases_checkout_session_id_unique" unique ("checkout_session_id");`);

    this.addSql(`alter table "transactions" add constraint "transactions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "purchases" add constraint "purchases_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "stripe_events" cascade;`);

    this.addSql(`drop table if exists "transactions" cascade;`);

    this.addSql(`drop table if exists "purchases" cascade;`);
  }

}
