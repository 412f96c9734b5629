import { Migration } from '@mikro-orm/migrations';

/**
 * Triggers that announce committed changes on the `clara_events` channel (src/events/event-bus.ts): task
 * progress, balances, and anything that can end a caller's credentials. In the database, so every writer
 * is covered, and delivered only at commit.
 */
export class Migration20261206204500_change_events extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create or replace function clara_notify_task() returns trigger language plpgsql as $$
begin
  perform pg_notify('clara_events', json_build_object('topic', 'task', 'userId', new.user_id, 'taskId', new.id, 'status', new.status)::text);
  return null;
end $$;`);
    this.addSql(`create or replace function clara_notify_balance() returns trigger language plpgsql as $$
begin
  perform pg_notify('clara_events', json_build_object('topic', 'balance', 'userId', new.id, 'credits', new.credits)::text);
  return null;
end $$;`);
    this.addSql(`create or replace function clara_notify_caller() returns trigger language plpgsql as $$
declare
  owner varchar;
begin
  if tg_table_name = 'users' and tg_op = 'DELETE' then owner := old.id;
  elsif tg_table_name = 'users' then owner := new.id;
  elsif tg_op = 'DELETE' then owner := old.user_id;
  else owner := new.user_id;
  end if;
  perform pg_notify('clara_events', json_build_object('topic', 'caller', 'userId', owner)::text);
  return null;
end $$;`);
    this.addSql(`create trigger tasks_created_event after insert on "tasks" for each row execute function clara_notify_task();`);
    this.addSql(`create trigger tasks_progress_event after update on "tasks" for each row when (old.status is distinct from new.status or old.error is distinct from new.error) execute function clara_notify_task();`);
    this.addSql(`create trigger users_balance_event after update on "users" for each row when (old.credits is distinct from new.credits) execute function clara_notify_balance();`);
    this.addSql(`create trigger users_caller_event after update on "users" for each row when (old.is_active is distinct from new.is_active or old.deactivated_at is distinct from new.deactivated_at or old.erased_at is distinct from new.erased_at or old.password_hash is distinct from new.password_hash or old.email is distinct from new.email) execute function clara_notify_caller();`);
    this.addSql(`create trigger users_deleted_caller_event after delete on "users" for each row execute function clara_notify_caller();`);
    this.addSql(`create trigger sessions_caller_event after update on "sessions" for each row when (old.revoked_at is distinct from new.revoked_at or old.expires_at is distinct from new.expires_at) execute function clara_notify_caller();`);
    this.addSql(`create trigger sessions_deleted_caller_event after delete on "sessions" for each row execute function clara_notify_caller();`);
    this.addSql(`create trigger api_keys_caller_event after update or delete on "api_keys" for each row execute function clara_notify_caller();`);
  }

  override async down(): Promise<void> {
    for (const [table, trigger] of [['tasks', 'tasks_created_event'], ['tasks', 'tasks_progress_event'], ['users', 'users_balance_event'], ['users', 'users_caller_event'], ['users', 'users_deleted_caller_event'], ['sessions', 'sessions_caller_event'], ['sessions', 'sessions_deleted_caller_event'], ['api_keys', 'api_keys_caller_event']]) {
      this.addSql(`drop trigger if exists ${trigger} on "${table}";`);
    }
    this.addSql('drop function if exists clara_notify_task(); drop function if exists clara_notify_balance(); drop function if exists clara_notify_caller();');
  }

}
