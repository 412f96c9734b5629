import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { grantCredits } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

/** The dashboard an app shows: the user, a page of transactions with their tasks, a page of tasks with charge, refund and report. */
const DASHBOARD = `query ($tasks: Int!, $transactions: Int!) { viewer {
  id credits
  transactions(first: $transactions) { totalCount edges { node { id valueInCredits valueInFiat { amount } task { id status } } } pageInfo { hasNextPage } }
  tasks(first: $tasks) { edges { node { id status charge { id valueInCredits } refund { id } report { summary findings { kind severity } files { fileName } } } } }
} }`;

for (const db of testDatabases()) {
  describe(`nested fields are batched: statements per request stay constant as pages grow (${db})`, () => {
    // No worker in this process: the only ORM statements while a request runs are the request's own.
    const t = new TestApp(db, { AGENT_WORKER_IN_PROCESS: 'false' }, { recordQueries: true });
    let user: Awaited<ReturnType<TestApp['activeUser']>>;
    before(async () => {
      await t.start();
      user = await t.activeUser();
      await grantCredits(t, user.id, 20 * 24);
      const em = () => t.orm.em.fork() as EntityManager;
      for (let i = 0; i < 24; i++) {
        const started = await t.gql('mutation ($i: StartAnalysisInput!) { startAnalysis(input: $i) { task { id } userErrors { message } } }', {
          i: { prompt: `Claim ${i}: the bridge opened in 1932.`, files: [{ name: `note${i}.txt`, contentBase64: Buffer.from(`Note ${i} from 2020.`).toString('base64') }] },
        }, user.token);
        const taskId = started.body.data.startAnalysis.task.id;
        // Done here instead of by a worker: two in three completed with a report, the others failed and refunded.
        if (i % 3 === 2) await t.app.services.tasks.fail(em(), taskId, 'test failure');
        else await t.app.services.tasks.run(em(), taskId, 1, true);
      }
    });
    after(() => t.stop());

    const statementsFor = async (variables: { tasks: number; transactions: number }) => {
      t.queries.length = 0;
      const res = await t.gql(DASHBOARD, variables, user.token);
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
      return { count: t.queries.length, data: res.body.data.viewer };
    };

    test('a page of 2 and a page of 24 tasks (and 3 vs 40 transactions) cost the same number of statements', async () => {
      const small = await statementsFor({ tasks: 2, transactions: 3 });
      const large = await statementsFor({ tasks: 24, transactions: 40 });
      assert.equal(small.data.tasks.edges.length, 2);
      assert.equal(large.data.tasks.edges.length, 24);
      assert.equal(large.data.transactions.edges.length, 33, 'the grant, 24 charges and 8 refunds');
      const nodes = large.data.tasks.edges.map((edge: { node: any }) => edge.node);
      assert.ok(nodes.every((task: any) => task.charge?.valueInCredits === 20), 'every task leads to its charge');
      assert.equal(nodes.filter((task: any) => task.refund).length, 8, 'failed tasks lead to their refund');
      assert.equal(nodes.filter((task: any) => task.report).length, 16, 'completed tasks carry their report');
      assert.equal(large.data.transactions.edges.filter((edge: { node: any }) => edge.node.task?.id).length, 32, 'every charge and refund leads to its task');
      assert.equal(large.count, small.count, `statements: ${small.count} for the small page, ${large.count} for the large one:\n${t.queries.join('\n')}`);
      // The caller, two pages, the count, and one batched read each for tasks and transactions.
      assert.ok(large.count <= 6, `${large.count} statements`);
      // Hand-written reads are recorded too, so the counts above cannot pass by missing them: the transactions
      // page, its count and the batched transactions; the tasks page and the batched tasks.
      const reads = (table: string) => t.queries.filter((query) => query.includes(`from "${table}"`)).length;
      assert.equal(reads('transactions'), 3, t.queries.join('\n'));
      assert.equal(reads('tasks'), 2, t.queries.join('\n'));
    });
  });
}
