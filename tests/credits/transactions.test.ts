import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { newId } from '../../src/core/ids';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

const PAGE = `query ($first: Int, $after: String, $last: Int, $before: String, $type: TransactionType) { viewer {
  transactions(first: $first, after: $after, last: $last, before: $before, type: $type) {
    edges { cursor node { id type valueInCredits } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } } }`;

for (const db of testDatabases()) {
  describe(`transactions: paging and ownership (${db})`, () => {
    let t: TestApp;
    let owner: Awaited<ReturnType<TestApp['activeUser']>>;
    let stranger: Awaited<ReturnType<TestApp['activeUser']>>;
    /** The owner's 45 transactions, newest first, as the REST list returns them. */
    let all: any[];

    before(async () => {
      t = await new TestApp(db).start();
      owner = await t.activeUser();
      stranger = await t.activeUser();
      const em = () => t.orm.em.fork() as EntityManager;
      const credits = t.app.services.credits;
      await credits.adjust(em(), owner.id, 1000, 'opening balance');
      for (let i = 0; i < 44; i++) {
        if (i % 4 === 3) await credits.adjust(em(), owner.id, i, `grant ${i}`);
        else await credits.spend(em(), owner.id, i + 1, { kind: 'analysis', reference: newId('task') });
      }
      await credits.adjust(em(), stranger.id, 5, 'someone else');
      all = (await t.rest('GET', `/users/${owner.id}/transactions?limit=100`, { auth: owner.token })).body.data;
    });
    after(() => t.stop());

    test('REST: newest first, default page 20, limit/offset as in PostgreSQL', async () => {
      assert.equal(all.length, 45);
      const times = all.map((tx) => Date.parse(tx.created_at));
      assert.deepEqual(times, [...times].sort((a, b) => b - a));
      assert.match(all.at(-1).description, /opening balance/);
      const firstPage = await t.rest('GET', `/users/${owner.id}/transactions`, { auth: owner.token });
      assert.equal(firstPage.status, 200);
      assert.equal(firstPage.body.message, 'Transactions fetched successfully.');
      assert.deepEqual(firstPage.body.data.map((tx: any) => tx.id), all.slice(0, 20).map((tx) => tx.id));
      const page = await t.rest('GET', `/users/${owner.id}/transactions?limit=5&offset=2`, { auth: owner.token });
      assert.deepEqual(page.body.data.map((tx: any) => tx.id), all.slice(2, 7).map((tx) => tx.id));
      const beyond = await t.rest('GET', `/users/${owner.id}/transactions?limit=5&offset=45`, { auth: owner.token });
      assert.deepEqual(beyond.body.data, []);
      const debits = await t.rest('GET', `/users/${owner.id}/transactions?limit=100&type=DEBIT`, { auth: owner.token });
      assert.deepEqual(debits.body.data.map((tx: any) => tx.id), all.filter((tx) => tx.type === 'DEBIT').map((tx) => tx.id));
      assert.equal(debits.body.data.length, 33);
    });

    test('REST: bad paging parameters get 400', async () => {
      for (const query of ['limit=101', 'limit=0', 'limit=abc', 'offset=-1', 'type=REFUND', 'sort=asc', 'limit=1.5']) {
        const res = await t.rest('GET', `/users/${owner.id}/transactions?${query}`, { auth: owner.token });
        assert.equal(res.status, 400, query);
        assert.equal(res.body.status, 'error');
      }
    });

    test('GraphQL: walking the cursor visits every transaction once, in order', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const res: any = await t.gql(PAGE, { first: 7, after }, owner.token);
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        const { edges, pageInfo, totalCount } = res.body.data.viewer.transactions;
        assert.equal(totalCount, 45);
        assert.equal(pageInfo.hasPreviousPage, after !== null);
        assert.equal(pageInfo.startCursor, edges[0].cursor);
        seen.push(...edges.map((e: any) => e.node.id));
        pages++;
        if (!pageInfo.hasNextPage) break;
        assert.equal(pageInfo.endCursor, edges.at(-1).cursor);
        after = pageInfo.endCursor;
      }
      assert.equal(pages, 7);
      assert.deepEqual(seen, all.map((tx) => tx.id));

      const credits = await t.gql(PAGE, { first: 100, type: 'CREDIT' }, owner.token);
      const creditIds = all.filter((tx) => tx.type === 'CREDIT').map((tx) => tx.id);
      assert.deepEqual(credits.body.data.viewer.transactions.edges.map((e: any) => e.node.id), creditIds);
      assert.equal(credits.body.data.viewer.transactions.totalCount, creditIds.length, 'totalCount counts with the filter');
      const secondCredits = await t.gql(PAGE, { first: 5, type: 'CREDIT', after: credits.body.data.viewer.transactions.edges[4].cursor }, owner.token);
      assert.deepEqual(secondCredits.body.data.viewer.transactions.edges.map((e: any) => e.node.id), creditIds.slice(5, 10));
    });

    test('GraphQL: walking backward with last/before visits every transaction once, pages in newest-first order', async () => {
      const seen: string[] = [];
      let before: string | undefined;
      for (;;) {
        const res: any = await t.gql(PAGE, { last: 10, before }, owner.token);
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        const { edges, pageInfo } = res.body.data.viewer.transactions;
        seen.unshift(...edges.map((e: any) => e.node.id));
        assert.equal(pageInfo.hasNextPage, before !== undefined);
        if (!pageInfo.hasPreviousPage) break;
        before = pageInfo.startCursor;
      }
      assert.deepEqual(seen, all.map((tx) => tx.id));
      // From the middle: the 5 items just newer than the 20th, in list order.
      const middle = await t.gql(PAGE, { last: 5, before: (await t.gql(PAGE, { first: 20 }, owner.token)).body.data.viewer.transactions.pageInfo.endCursor }, owner.token);
      assert.deepEqual(middle.body.data.viewer.transactions.edges.map((e: any) => e.node.id), all.slice(14, 19).map((tx) => tx.id));
    });

    test('GraphQL: bad cursors and page sizes get BAD_REQUEST', async () => {
      for (const variables of [{ after: 'not-a-cursor' }, { first: 0 }, { first: 101 }, { after: Buffer.from('2026-01-01T00:00:00.000Z|user_x').toString('base64url') }, { after: Buffer.from(`-200000-01-01T00:00:00.000Z|transaction_${'a'.repeat(32)}`).toString('base64url') }]) {
        const res = await t.gql(PAGE, variables, owner.token);
        assert.equal(res.body.errors?.[0].extensions.code, 'BAD_REQUEST', JSON.stringify(variables));
      }
      for (const variables of [{ last: 0 }, { last: 101 }, { first: 5, last: 5 }, { before: 'not-a-cursor' }, { before: Buffer.from(`2026-01-01T00:00:00.000Z|task_${'a'.repeat(32)}`).toString('base64url') }]) {
        const res = await t.gql(PAGE, variables, owner.token);
        assert.equal(res.body.errors?.[0].extensions.code, 'BAD_REQUEST', JSON.stringify(variables));
      }
      const both = await t.gql('{ viewer { transactions(after: "x", offset: 1) { pageInfo { hasNextPage } } } }', {}, owner.token);
      assert.equal(both.body.errors?.[0].extensions.code, 'BAD_REQUEST');
      const edge = await t.gql(PAGE, { first: 100 }, owner.token);
      assert.equal(edge.body.data.viewer.transactions.edges.length, 45, 'the largest page is allowed');
    });

    test('one transaction: the documented shape for its owner, 403/404 for anyone else', async () => {
      const mine = all[0];
      const res = await t.rest('GET', `/users/${owner.id}/transactions/${mine.id}`, { auth: owner.token });
      assert.equal(res.status, 200);
      assert.equal(res.body.message, 'Transaction fetched successfully.');
      assert.deepEqual(res.body.data, mine);

      // Someone else's: their path is 403, the transaction under your own path does not exist (404).
      assert.equal((await t.rest('GET', `/users/${owner.id}/transactions/${mine.id}`, { auth: stranger.token })).status, 403);
      assert.equal((await t.rest('GET', `/users/${stranger.id}/transactions/${mine.id}`, { auth: stranger.token })).status, 404);
      assert.equal((await t.rest('GET', `/users/${owner.id}/transactions`, { auth: stranger.token })).status, 403);
      assert.equal((await t.rest('GET', `/users/${newId('user')}/transactions`, { auth: stranger.token })).status, 404);
      assert.equal((await t.rest('GET', `/users/${owner.id}/transactions/transaction_nothex`, { auth: owner.token })).status, 404);
      assert.equal((await t.rest('GET', `/users/${owner.id}/transactions`)).status, 401);
      const gql = await t.gql('query ($u: ID!, $id: ID!) { user(id: $u) { transaction(id: $id) { id } } }', { u: owner.id, id: mine.id }, stranger.token);
      assert.equal(gql.body.errors?.[0].extensions.code, 'FORBIDDEN');
      const viaViewer = await t.gql('query ($id: ID!) { viewer { transaction(id: $id) { id } } }', { id: mine.id }, stranger.token);
      assert.equal(viaViewer.body.data.viewer.transaction, null, "someone else's id is not found, never shown");
      const theirs = await t.gql(PAGE, {}, stranger.token);
      assert.equal(theirs.body.data.viewer.transactions.edges.length, 1);
    });

    test('an API key token reads its user’s transactions', async () => {
      const key = await t.rest('GET', `/users/${owner.id}/api_key`, { auth: owner.token });
      const res = await t.rest('GET', `/users/${owner.id}/transactions?limit=3`, { auth: `Bearer ${key.body.data.token}` });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.map((tx: any) => tx.id), all.slice(0, 3).map((tx) => tx.id));
    });
  });
}
