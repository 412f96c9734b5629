import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { testDatabases } from '../helpers/database';
import { ADMIN_KEY, PUBLIC_KEY, TestApp } from '../helpers/harness';

/**
 * Every admin field and path answers only to the admin key: a user token, an API key (even of the target user),
 * the public key and no credentials at all are refused, and nothing changes.
 */
for (const db of testDatabases()) {
  describe(`admin surface: only the admin key (${db})`, () => {
    const t = new TestApp(db);
    let target: { id: string; email: string; password: string; token: string };
    let transactionId: string;
    let callers: [string, string | undefined][];
    before(async () => {
      await t.start();
      target = await t.activeUser();
      const other = await t.activeUser();
      const granted = await t.gql('mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { transaction { id } } }', { input: { userId: target.id, amount: 10, reason: 'setup' } }, ADMIN_KEY);
      transactionId = granted.body.data.adjustCredits.transaction.id;
      const targetKey = (await t.rest('GET', `/users/${target.id}/api_key`, { auth: target.token })).body.data.token;
      callers = [
        ['the target\'s user token', target.token],
        ['another user\'s token', other.token],
        ['the target\'s API key', `Bearer ${targetKey}`],
        ['the public key', PUBLIC_KEY],
        ['no credentials', undefined],
      ];
    });
    after(() => t.stop());

    const input = () => ({ userId: target.id, reason: 'not allowed' });
    const operations = () => [
      { name: 'adminUsers', query: '{ adminUsers { edges { node { id } } } }', variables: {} },
      { name: 'adminUser', query: 'query ($id: ID!) { adminUser(id: $id) { id email } }', variables: { id: target.id } },
      { name: 'adminUser (activity)', query: 'query ($id: ID!) { adminUser(id: $id) { transactions { totalCount } tasks { totalCount } securityLog { totalCount } } }', variables: { id: target.id } },
      ...['deactivateUser', 'reactivateUser', 'eraseUser'].map((name) => ({
        name,
        query: `mutation ($input: UserActionInput!) { ${name}(input: $input) { user { id } userErrors { code } } }`,
        variables: { input: input() },
      })),
      { name: 'adjustCredits', query: 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { transaction { id } userErrors { code } } }', variables: { input: { ...input(), amount: 100 } } },
      { name: 'correctTransaction', query: 'mutation ($input: CorrectTransactionInput!) { correctTransaction(input: $input) { transaction { id } userErrors { code } } }', variables: { input: { transactionId, reason: 'x' } } },
    ];
    const paths = () => [
      ['GET', '/admin/users', undefined],
      ['GET', `/admin/users/${target.id}`, undefined],
      ['GET', `/admin/users/${target.id}/transactions`, undefined],
      ['POST', `/admin/users/${target.id}/deactivate`, { reason: 'x' }],
      ['POST', `/admin/users/${target.id}/reactivate`, { reason: 'x' }],
      ['DELETE', `/admin/users/${target.id}`, { reason: 'x' }],
      ['POST', `/admin/users/${target.id}/credits`, { amount: 100, reason: 'x' }],
      ['POST', `/admin/transactions/${transactionId}/corrections`, { reason: 'x' }],
    ] as const;

    /** What an admin action would change: the account, its balance, its ledger, its sessions. */
    async function state() {
      const em = t.orm.em.fork() as EntityManager;
      const [user] = await em.getConnection().execute('select email, credits, deactivated_at, erased_at from users where id = ?', [target.id]);
      const [{ rows }] = await em.getConnection().execute('select count(*)::int as rows from transactions where user_id = ?', [target.id]);
      const [{ live }] = await em.getConnection().execute('select count(*)::int as live from sessions where user_id = ? and revoked_at is null', [target.id]);
      return { ...user, rows, live };
    }

    test('GraphQL: every admin field is refused to every other caller', async () => {
      const before = await state();
      for (const [who, auth] of callers) {
        for (const operation of operations()) {
          const res = await t.gql(operation.query, operation.variables, auth);
          const code = res.body.errors?.[0]?.extensions?.code;
          assert.ok(code === 'UNAUTHENTICATED' || code === 'FORBIDDEN', `${operation.name} with ${who}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.data?.[operation.name.split(' ')[0]] ?? null, null, `${operation.name} with ${who} answered data`);
        }
      }
      assert.deepEqual(await state(), before, 'nothing changed');
    });

    test('REST: every admin path is refused to every other caller', async () => {
      const before = await state();
      for (const [who, auth] of callers) {
        for (const [method, path, body] of paths()) {
          const res = await t.rest(method, path, { auth, ...(body ? { body } : {}) });
          assert.ok(res.status === 401 || res.status === 403, `${method} ${path} with ${who}: ${res.status} ${JSON.stringify(res.body)}`);
          assert.equal(res.body.status, 'error');
          assert.equal(res.body.data, null);
        }
      }
      assert.deepEqual(await state(), before, 'nothing changed');
    });

    test('the admin key reaches them all (so the refusals above are about the caller)', async () => {
      for (const operation of operations().filter((op) => !op.name.endsWith('User') || op.name === 'adminUser')) {
        const res = await t.gql(operation.query, operation.variables, ADMIN_KEY);
        assert.equal(res.body.errors, undefined, `${operation.name}: ${JSON.stringify(res.body.errors)}`);
      }
      for (const [method, path, body] of paths().filter(([method]) => method === 'GET')) {
        assert.equal((await t.rest(method, path, { auth: ADMIN_KEY, ...(body ? { body } : {}) })).status, 200, `${method} ${path}`);
      }
    });

    test('MCP: the admin key is no MCP credential', async () => {
      const res = await fetch(`${t.baseUrl}/mcp`, {
        method: 'POST',
        headers: { authorization: ADMIN_KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      assert.equal(res.status, 401);
    });

    test('the admin key still cannot act as a user: user(id:), viewer and node refuse it', async () => {
      for (const query of [`{ user(id: "${target.id}") { id } }`, '{ viewer { id } }', `{ node(id: "${target.id}") { id } }`]) {
        const res = await t.gql(query, {}, ADMIN_KEY);
        assert.ok(res.body.errors?.length, `${query}: ${JSON.stringify(res.body)}`);
      }
    });
  });
}
