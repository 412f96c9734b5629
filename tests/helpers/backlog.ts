import { randomBytes } from 'node:crypto';

/** Runs one statement with `?` placeholders (inside the caller's transaction) and answers its rows. */
export type Query = (text: string, values: unknown[]) => Promise<any[]>;

/**
 * `count` queued analysis tasks of one user, each with its charge in the ledger and the balance lowered to
 * match, as that many accepted requests would leave them (their jobs are queued separately). Answers the ids.
 */
export async function insertBacklog(query: Query, userId: string, count: number, cost: number): Promise<string[]> {
  const seed = randomBytes(4).toString('hex');
  await query(`
    with backlog as (select 'task_' || md5(? || i) as id, 'transaction_' || md5('charge' || ? || i) as charge, i from generate_series(1, ?) as i),
    queued as (
      insert into tasks (id, user_id, status, prompt, inputs, cost, charge_transaction_id, created_at, updated_at)
      select id, ?, 'queued', 'Backlog claim ' || i || ': the bridge opened in 1932.', '[]', ?, charge, now(), now() from backlog
    )
    insert into transactions (id, user_id, type, kind, description, value_in_credits, fiat_cents, balance_after, reference, created_at, updated_at)
    select charge, ?, 'DEBIT', 'analysis', 'Analysis ' || id, ?, 0, (select credits from users where id = ?) - ? * i, id, now(), now() from backlog`, [seed, seed, count, userId, cost, userId, cost, userId, cost]);
  await query('update users set credits = credits - ? where id = ?', [count * cost, userId]);
  return (await query(`select id from tasks where user_id = ? and id in (select 'task_' || md5(? || i) from generate_series(1, ?) as i)`, [userId, seed, count])).map((row: { id: string }) => row.id);
}

/** How many of the user's tasks are still queued or running (the backlog not yet drained). */
export async function openTasks(query: Query, userId: string): Promise<number> {
  const [{ open }] = await query(`select count(*)::int as open from tasks where user_id = ? and status in ('queued', 'running')`, [userId]);
  return open;
}
