import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createAnalysisQueue, type AnalysisQueue } from '../../src/agent/analysis-queue';
import { newId } from '../../src/core/ids';
import { sharedPoolExecutor } from '../../src/database/shared-pool';
import { Metrics } from '../../src/observability/metrics';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';
import { until } from '../helpers/until';

for (const db of testDatabases()) {
  /** Jobs fetched together (one batch of 4) still succeed, retry and give up each on its own. */
  describe(`the analysis queue's batches (${db})`, () => {
    let t: TestApp;
    let queue: AnalysisQueue;
    before(async () => {
      t = await new TestApp(db, { AGENT_WORKER_IN_PROCESS: 'false', AGENT_RETRY_LIMIT: '1', AGENT_RETRY_DELAY_SECONDS: '0' }).start();
      queue = createAnalysisQueue(t.config, sharedPoolExecutor(t.orm), pino({ level: 'silent' }), new Metrics());
    });
    after(async () => {
      await queue.stop();
      await t.stop();
    });

    test('a job that throws is retried alone; one out of retries is given up once; the others run once', async () => {
      const [flaky, broken, ...fine] = Array.from({ length: 4 }, () => newId('task'));
      const attempts = new Map<string, number[]>();
      const givenUp: string[] = [];
      // Queued before the worker starts, so its first fetch takes all four in one batch.
      await queue.enqueueMany([flaky, broken, ...fine]);
      await queue.work(4, 4, async ({ taskId }, attempt) => {
        attempts.set(taskId, [...(attempts.get(taskId) ?? []), attempt]);
        if (taskId === broken || (taskId === flaky && attempt === 1)) throw new Error(`attempt ${attempt} of ${taskId} failed`);
      }, async ({ taskId }) => void givenUp.push(taskId));

      const sql = (text: string, values: unknown[] = []) => t.orm.em.fork().getConnection().execute(text, values);
      let open = 0;
      await until(async () => {
        open = (await sql(`select count(*)::int as open from pgboss.job where name in ('analysis', 'analysis-failed') and state in ('created', 'retry', 'active')`))[0].open;
        return open === 0 && givenUp.length > 0;
      }, () => `every job done and the broken one given up (${open} still open)`, { timeoutMs: 60_000, intervalMs: 100 });
      assert.deepEqual(Object.fromEntries(attempts), { [flaky]: [1, 2], [broken]: [1, 2], [fine[0]]: [1], [fine[1]]: [1] });
      assert.deepEqual(givenUp, [broken]);
      const states = await sql(`select state, count(*)::int as n from pgboss.job where name = 'analysis' group by state order by state`);
      assert.deepEqual(states.map((row: any) => [row.state, row.n]), [['completed', 3], ['failed', 1]]);
    });
  });
}
