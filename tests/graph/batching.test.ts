import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { grantCredits } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { ADMIN_KEY, TestApp } from '../helpers/harness';

/** The dashboard an app shows: the user, a page of transactions with their tasks, a page of tasks with charge, refund and report. */
const NESTED = `
  transactions(first: $transactions) { totalCount edges { node { id valueInCredits valueInFiat { amount } task { id status } } } pageInfo { hasNextPage } }
  tasks(first: $tasks) { edges { node { id status charge { id valueInCredits } refund { id } report { summary findings { kind severity } files { fileName } } } } }`;
const DASHBOARD = `query ($tasks: Int!, $transactions: Int!) { viewer { id credits ${NESTED} } }`;
/** The same nested fields read by an operator through the admin key (the user is not the caller). */
const ADMIN_VIEW = `query ($id: ID!, $tasks: Int!, $transactions: Int!) { adminUser(id: $id) { id credits ${NESTED} } }`;

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

    test('the admin key follows the same user\'s ledger to its tasks and each task to its charge and refund, batched alike', async () => {
      const own = await statementsFor({ tasks: 24, transactions: 40 });
      t.queries.length = 0;
      const res = await t.gql(ADMIN_VIEW, { id: user.id, tasks: 24, transactions: 40 }, ADMIN_KEY);
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
      const seen = res.body.data.adminUser;
      assert.deepEqual(seen.tasks, own.data.tasks, 'every charge, refund and report, as the owner sees them');
      assert.deepEqual(seen.transactions, own.data.transactions, 'every charge and refund leads to its task');
      assert.equal(seen.transactions.edges.filter((edge: { node: any }) => edge.node.task?.id).length, 32);
      assert.ok(t.queries.length <= own.count + 1, `${t.queries.length} statements for the admin, ${own.count} for the owner:\n${t.queries.join('\n')}`);
    });

    test('a nested row is read only under its parent\'s owner: someone else\'s id through node is null', async () => {
      const other = await t.activeUser();
      const taskId = (await statementsFor({ tasks: 1, transactions: 1 })).data.tasks.edges[0].node.id;
      const res = await t.gql('query ($id: ID!) { node(id: $id) { id } }', { id: taskId }, other.token);
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
      assert.equal(res.body.data.node, null);
      const mine = await t.gql('query ($id: ID!) { node(id: $id) { id } }', { id: taskId }, user.token);
      assert.equal(mine.body.data.node?.id, taskId);
    });

    test('reads answered from the caller\'s own row fork no unit of work (GraphQL viewer and user, REST user); a mutation does', async () => {
      const root = t.orm.em;
      const fork = root.fork;
      let forks = 0;
      root.fork = function (this: typeof root, ...args: Parameters<typeof fork>) {
        forks++;
        return fork.apply(this, args);
      } as typeof fork;
      try {
        const viewer = await t.gql('{ viewer { id credits } }', {}, user.token);
        assert.equal(viewer.body.data.viewer.id, user.id);
        const read = await t.gql('query ($id: ID!) { user(id: $id) { id email } }', { id: user.id }, user.token);
        assert.equal(read.body.data.user.id, user.id);
        assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 200);
        assert.equal(forks, 0, 'no EntityManager forked for reads of the caller');
        const changed = await t.gql('mutation ($input: UpdateUserInput!) { updateUser(input: $input) { user { firstName } userErrors { message } } }', { input: { firstName: 'Forked' } }, user.token);
        assert.equal(changed.body.data?.updateUser?.user?.firstName, 'Forked', JSON.stringify(changed.body));
        assert.equal(forks, 1, 'the mutation forked one, shared by every copy of its context');
      } finally {
        root.fork = fork;
      }
    });
  });
}
