import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grantCredits } from '../helpers/agent';
import { insertBacklog, openTasks } from '../helpers/backlog';
import { FakeModel } from '../helpers/fake-model';
import { TestApp } from '../helpers/harness';
import { deploymentEnv, startWorker, type ServiceProcess } from '../helpers/service-process';
import { until } from '../helpers/until';

/** Issue 13's 10,000 (SCALE_BACKLOG overrides): about 2 ms of worker CPU per job drains it in under a minute on a 2-core machine. */
const BACKLOG = Number(process.env.SCALE_BACKLOG ?? 10_000);
const COST = 20;

/**
 * A backlog of analysis jobs (SCALE_BACKLOG, 10,000 by default) drained by a separate worker process (the real one; the model a local
 * server that answers at once). The tasks, their charges and their jobs are inserted directly, as 10,000
 * requests would leave them.
 */
describe(`a queue backlog of ${BACKLOG} jobs`, { skip: !process.env.TEST_DATABASE_URL && 'needs TEST_DATABASE_URL (a separate worker process)' }, () => {
  let t: TestApp;
  let worker: ServiceProcess | undefined;
  const model = new FakeModel();
  const sql = (text: string, values: unknown[] = []) => t.orm.em.fork().getConnection().execute(text, values);

  before(async () => {
    await model.start();
    t = await new TestApp('postgres', { AGENT_WORKER_IN_PROCESS: 'false' }).start();
  });
  after(async () => {
    await worker?.stop();
    await t.stop();
    await model.stop();
  });

  test('every task ends completed or failed-and-refunded exactly once, charged once', async (context) => {
    const user = await t.activeUser();
    await grantCredits(t, user.id, BACKLOG * COST);
    const em = t.orm.em.fork();
    const ids = await em.transactional((tx) => insertBacklog(
      (text, values) => tx.getConnection().execute(text, values, 'all', tx.getTransactionContext()),
      user.id, BACKLOG, COST,
    ));
    assert.equal(ids.length, BACKLOG);
    for (let i = 0; i < ids.length; i += 1000) await t.app.services.queue.enqueueMany(ids.slice(i, i + 1000));

    const started = Date.now();
    worker = await startWorker(deploymentEnv(t.databaseUrl, { LOG_LEVEL: 'info', AGENT_WORKER_CONCURRENCY: '48', AGENT_WORKER_BATCH_SIZE: '8', DATABASE_POOL_MAX: '20', AGENT_STORAGE_DIR: t.config.agentStorageDir, AGENT_STRANDED_AFTER_SECONDS: '3600', AGENT_OPENAI_BASE_URL: model.url, AGENT_OPENAI_API_KEY: 'sk-test', AGENT_MODEL: 'test-model' }));
    // Bounded so a stalled queue fails the test (inside the 300 s per-file timeout at 10,000); drain rates are in the README ("Faults").
    let open = BACKLOG;
    await until(async () => (open = await openTasks(sql, user.id)) === 0, () => `the backlog drained (${open} tasks still open; worker said: ${JSON.stringify(worker!.logs.filter((line) => Number(line.level) >= 40).slice(0, 3))})`, { timeoutMs: 60_000 + BACKLOG * 15, intervalMs: 500 });
    const seconds = (Date.now() - started) / 1000;
    context.diagnostic(`drained ${BACKLOG} jobs in ${seconds.toFixed(1)} s (${Math.round(BACKLOG / seconds)} jobs/s, worker start included)`);

    const statuses = await sql('select status, count(*)::int as n, count(refund_transaction_id)::int as refunded from tasks where user_id = ? group by status', [user.id]);
    assert.equal(statuses.reduce((sum: number, row: any) => sum + row.n, 0), BACKLOG);
    for (const row of statuses as any[]) assert.equal(row.refunded, row.status === 'failed' ? row.n : 0, JSON.stringify(row));
    const ledger = await sql(`select kind, count(*)::int as rows, count(distinct reference)::int as tasks from transactions where user_id = ? and kind in ('analysis', 'refund') group by kind`, [user.id]);
    const charges = (ledger as any[]).find((row) => row.kind === 'analysis');
    assert.deepEqual({ rows: charges.rows, tasks: charges.tasks }, { rows: BACKLOG, tasks: BACKLOG }, 'one charge per task');
    const refunds = (ledger as any[]).find((row) => row.kind === 'refund') ?? { rows: 0, tasks: 0 };
    assert.equal(refunds.rows, refunds.tasks, 'at most one refund per task');
    const [{ credits, sum }] = await sql(`select u.credits, (select sum(case when type = 'CREDIT' then value_in_credits else -value_in_credits end)::int from transactions where user_id = u.id) as sum from users u where id = ?`, [user.id]);
    assert.equal(credits, sum);
  });
});
