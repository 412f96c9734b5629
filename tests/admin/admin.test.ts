import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { testDatabases } from '../helpers/database';
import { ADMIN_KEY, PUBLIC_KEY, type TestApp } from '../helpers/harness';
import { CreditsTestApp } from '../helpers/stripe';

const ADJUST = 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { transaction { id balanceAfter } userErrors { code message } } }';
const CORRECT = `mutation ($input: CorrectTransactionInput!) {
  correctTransaction(input: $input) { transaction { id type kind valueInCredits balanceAfter reference description } userErrors { field code message } } }`;
const ACTION = (name: string) => `mutation ($input: UserActionInput!) { ${name}(input: $input) { user { id email firstName lastName status deactivatedAt erasedAt credits } userErrors { field code message } } }`;
const SEARCH = `query ($email: String, $name: String, $status: UserStatus, $first: Int, $after: String) {
  adminUsers(email: $email, name: $name, status: $status, first: $first, after: $after) { totalCount edges { node { id email status } } pageInfo { hasNextPage endCursor } } }`;
const VIEW = `query ($id: ID!) { adminUser(id: $id) { id email credits status
  transactions(first: 10) { totalCount edges { node { id kind type valueInCredits balanceAfter description } } }
  tasks(first: 10) { totalCount }
  securityLog(first: 20) { edges { node { kind ip userAgent detail { reason note transactionId scope } } } } } }`;

type User = { id: string; email: string; password: string; token: string };

const sql = (t: TestApp, query: string, params: unknown[] = []) => (t.orm.em.fork() as EntityManager).getConnection().execute(query, params);

async function admin(t: TestApp, query: string, variables: Record<string, unknown>) {
  const res = await t.gql(query, variables, ADMIN_KEY);
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return res.body.data;
}

async function apiKeyOf(t: TestApp, user: User): Promise<string> {
  return `Bearer ${(await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token}`;
}

async function securityKinds(t: TestApp, userId: string): Promise<{ kind: string; detail: any; ip: string | null }[]> {
  return admin(t, VIEW, { id: userId }).then((data) => data.adminUser.securityLog.edges.map((edge: any) => edge.node));
}

for (const db of testDatabases()) {
  describe(`admin surface (${db})`, () => {
    let t: CreditsTestApp;
    before(async () => {
      t = await CreditsTestApp.start(db);
    });
    after(() => t.stop());

    test('search by email fragment, name and status, by keyset pages; LIKE wildcards are taken literally', async () => {
      const users: User[] = [];
      for (let i = 0; i < 5; i++) users.push(await t.activeUser({ email: `search-${i}@find.example`, first_name: i < 2 ? 'Zelda' : 'Link', last_name: `Hyrule${i}` }));
      const pending = await t.register({ email: 'search-pending@find.example' });
      const byEmail = (await admin(t, SEARCH, { email: 'FIND.example', first: 4 })).adminUsers;
      assert.equal(byEmail.totalCount, 6);
      assert.equal(byEmail.edges.length, 4);
      assert.equal(byEmail.pageInfo.hasNextPage, true);
      const next = (await admin(t, SEARCH, { email: 'find.example', first: 4, after: byEmail.pageInfo.endCursor })).adminUsers;
      assert.equal(next.edges.length, 2);
      assert.equal(next.pageInfo.hasNextPage, false);
      const ids = [...byEmail.edges, ...next.edges].map((edge: any) => edge.node.id);
      assert.equal(new Set(ids).size, 6, 'the pages do not overlap');
      assert.equal(ids[0], pending.id, 'newest first');

      const zeldas = (await admin(t, SEARCH, { name: 'zelda hyrule' })).adminUsers;
      assert.deepEqual(zeldas.edges.map((edge: any) => edge.node.id).sort(), [users[0].id, users[1].id].sort());
      const pendingOnly = (await admin(t, SEARCH, { email: 'find.example', status: 'PENDING_ACTIVATION' })).adminUsers;
      assert.deepEqual(pendingOnly.edges.map((edge: any) => edge.node), [{ id: pending.id, email: 'search-pending@find.example', status: 'PENDING_ACTIVATION' }]);
      assert.equal((await admin(t, SEARCH, { email: '%' })).adminUsers.totalCount, 0, '% is a character, not a wildcard');
      assert.equal((await admin(t, SEARCH, { email: 'search-_@' })).adminUsers.totalCount, 0, '_ is a character, not a wildcard');

      const rest = await t.rest('GET', '/admin/users?email=find.example&limit=4', { auth: ADMIN_KEY });
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      assert.equal(rest.body.data.users.length, 4);
      assert.equal(rest.body.data.users[0].status, 'PENDING_ACTIVATION');
      assert.equal(rest.body.data.page_info.has_next_page, true);
      const restNext = await t.rest('GET', `/admin/users?email=find.example&limit=4&after=${rest.body.data.page_info.end_cursor}`, { auth: ADMIN_KEY });
      assert.deepEqual(restNext.body.data.users.map((user: any) => user.id), next.edges.map((edge: any) => edge.node.id));
      const badStatus = await t.rest('GET', '/admin/users?status=ASLEEP', { auth: ADMIN_KEY });
      assert.equal(badStatus.status, 400);
      const badCursor = await t.rest('GET', '/admin/users?after=bm90LWEtY3Vyc29y', { auth: ADMIN_KEY });
      assert.equal(badCursor.status, 400);
    });

    test('view one user: balance, transactions, tasks and security log; credits adjusted with the reason logged', async () => {
      const user = await t.activeUser();
      const granted = (await admin(t, ADJUST, { input: { userId: user.id, amount: 40, reason: 'goodwill for the outage' } })).adjustCredits.transaction;
      const viewed = (await admin(t, VIEW, { id: user.id })).adminUser;
      assert.equal(viewed.credits, 40);
      assert.equal(viewed.status, 'ACTIVE');
      assert.equal(viewed.transactions.totalCount, 1);
      assert.equal(viewed.tasks.totalCount, 0);
      const adjusted = viewed.securityLog.edges.map((edge: any) => edge.node).find((event: any) => event.kind === 'CREDITS_ADJUSTED');
      assert.deepEqual(adjusted.detail, { reason: 'admin', note: 'goodwill for the outage', transactionId: granted.id, scope: null });

      const rest = await t.rest('GET', `/admin/users/${user.id}`, { auth: ADMIN_KEY });
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      assert.equal(rest.body.data.credits, 40);
      assert.equal(rest.body.data.status, 'ACTIVE');
      assert.equal(rest.body.data.recent_transactions[0].id, granted.id);
      assert.deepEqual(rest.body.data.recent_tasks, []);
      assert.ok(rest.body.data.recent_security_events.some((event: any) => event.kind === 'CREDITS_ADJUSTED' && event.detail.note === 'goodwill for the outage'));
      const credited = await t.rest('POST', `/admin/users/${user.id}/credits`, { auth: ADMIN_KEY, body: { amount: -15, reason: 'double grant' } });
      assert.equal(credited.status, 201, JSON.stringify(credited.body));
      assert.equal(credited.body.data.type, 'DEBIT');
      assert.equal(credited.body.data.balance_after, 25);
      const ledger = await t.rest('GET', `/admin/users/${user.id}/transactions?limit=1`, { auth: ADMIN_KEY });
      assert.equal(ledger.status, 200);
      assert.equal(ledger.body.data.transactions[0].id, credited.body.data.id);
      const older = await t.rest('GET', `/admin/users/${user.id}/transactions?limit=1&after=${ledger.body.data.page_info.end_cursor}`, { auth: ADMIN_KEY });
      assert.equal(older.body.data.transactions[0].id, granted.id);

      assert.equal((await t.rest('GET', '/admin/users/user_00000000000000000000000000000000', { auth: ADMIN_KEY })).status, 404);
      assert.equal((await t.rest('GET', '/admin/users/not-an-id', { auth: ADMIN_KEY })).status, 404);
    });

    test('deactivation ends sessions at once and refuses login and the API key; reactivation allows login again', async () => {
      const user = await t.activeUser();
      const apiKey = await apiKeyOf(t, user);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: apiKey })).status, 200);

      const missingReason = await t.rest('POST', `/admin/users/${user.id}/deactivate`, { auth: ADMIN_KEY, body: {} });
      assert.equal(missingReason.status, 400);
      const blankReason = (await admin(t, ACTION('deactivateUser'), { input: { userId: user.id, reason: '   ' } })).deactivateUser;
      assert.equal(blankReason.userErrors[0].code, 'BAD_REQUEST');
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 200, 'a refused action changes nothing');

      const res = await t.rest('POST', `/admin/users/${user.id}/deactivate`, { auth: ADMIN_KEY, body: { reason: 'chargeback fraud' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.data.status, 'DEACTIVATED');
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 401, 'the user token is refused at once');
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: apiKey })).status, 401, 'the API key is refused');
      const login = await t.login(user.email, user.password);
      assert.equal(login.status, 401);
      assert.match(login.body.message, /deactivated/);
      const [{ count }] = await sql(t, 'select count(*)::int as count from sessions where user_id = ? and revoked_at is null', [user.id]);
      assert.equal(count, 0);
      const events = await securityKinds(t, user.id);
      assert.equal(events.find((event) => event.kind === 'ACCOUNT_DEACTIVATED')?.detail.note, 'chargeback fraud');
      assert.deepEqual(events.find((event) => event.kind === 'SESSIONS_REVOKED')?.detail.reason, 'admin');

      // A login that raced the deactivation (its session written after the sessions were ended) gets nowhere either.
      const raced = 'session_00000000000000000000000000000042';
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const expires = new Date(now.getTime() + 3_600_000);
      await sql(t, 'insert into sessions (id, user_id, created_at, expires_at) values (?, ?, ?, ?)', [raced, user.id, now, expires]);
      const racedToken = `Bearer ${t.app.services.tokens.signUserToken(user.id, raced, expires, now)}`;
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: racedToken })).status, 401);

      const reactivated = (await admin(t, ACTION('reactivateUser'), { input: { userId: user.id, reason: 'chargeback withdrawn' } })).reactivateUser;
      assert.deepEqual(reactivated.userErrors, []);
      assert.equal(reactivated.user.status, 'ACTIVE');
      assert.equal(reactivated.user.deactivatedAt, null);
      const again = await t.login(user.email, user.password);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: apiKey })).status, 200, 'the API key works again');
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 401, 'ended sessions stay ended');
      assert.equal((await securityKinds(t, user.id)).find((event) => event.kind === 'ACCOUNT_REACTIVATED')?.detail.note, 'chargeback withdrawn');
    });

    test('erase: personal data gone, ledger rows and balance kept (anonymised), the email registers again as a new account', async () => {
      const user = await t.activeUser({ email: 'erase-me@example.com', first_name: 'Erin', last_name: 'Erasable' });
      const { sessionId } = await t.buy(user, 5);
      assert.equal((await t.stripe.pay(sessionId)).status, 200);
      const upload = new FormData();
      upload.append('note.txt', new Blob(['my private note']), 'note.txt');
      const uploaded = await fetch(`${t.baseUrl}/api/v1/uploads`, { method: 'POST', headers: { authorization: user.token }, body: upload });
      assert.equal(uploaded.status, 201);
      const uploadId = ((await uploaded.json()) as any).data[0].id as string;
      assert.ok(existsSync(join(t.config.agentStorageDir, uploadId)));
      const apiKey = await apiKeyOf(t, user);
      const ledgerBefore = await sql(t, 'select id, type, value_in_credits, balance_after, description from transactions where user_id = ? order by created_at', [user.id]);
      assert.match(ledgerBefore[0].description, /Erin Erasable bought 500 credits/);

      const erased = (await admin(t, ACTION('eraseUser'), { input: { userId: user.id, reason: 'GDPR erasure request #42' } })).eraseUser;
      assert.deepEqual(erased.userErrors, []);
      assert.equal(erased.user.status, 'ERASED');
      assert.notEqual(erased.user.email, 'erase-me@example.com');
      assert.match(erased.user.email, /@erased\.invalid$/);
      assert.equal(erased.user.firstName, '');
      assert.equal(erased.user.lastName, null);
      assert.equal(erased.user.credits, 500);

      const [row] = await sql(t, 'select password_hash, totp_secret, google_id, stripe_customer_id from users where id = ?', [user.id]);
      assert.deepEqual(row, { password_hash: null, totp_secret: null, google_id: null, stripe_customer_id: null });
      for (const table of ['sessions', 'api_keys', 'otps', 'registrations', 'recovery_codes', 'code_attempts']) {
        const [{ count }] = await sql(t, `select count(*)::int as count from ${table} where user_id = ?`, [user.id]);
        assert.equal(count, 0, `${table} emptied`);
      }
      const [{ uploads }] = await sql(t, 'select count(*)::int as uploads from uploads where owner_id = ?', [user.id]);
      assert.equal(uploads, 0);
      assert.ok(!existsSync(join(t.config.agentStorageDir, uploadId)), 'the upload\'s files are gone');
      const ledgerAfter = await sql(t, 'select id, type, value_in_credits, balance_after, description from transactions where user_id = ? order by created_at', [user.id]);
      assert.deepEqual(ledgerAfter.map((r: any) => [r.id, r.type, r.value_in_credits, r.balance_after]), ledgerBefore.map((r: any) => [r.id, r.type, r.value_in_credits, r.balance_after]));
      assert.equal(ledgerAfter[0].description, 'An erased user bought 500 credits for 5.00 USD.');
      const [{ leaks }] = await sql(t, `select count(*)::int as leaks from security_events where user_id = ? and (ip is not null or user_agent is not null)`, [user.id]);
      assert.equal(leaks, 0);
      assert.equal((await securityKinds(t, user.id)).find((event) => event.kind === 'ACCOUNT_ERASED')?.detail.note, 'GDPR erasure request #42');

      assert.equal((await t.login('erase-me@example.com', user.password)).status, 401);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: apiKey })).status, 401);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 401);
      const reactivate = (await admin(t, ACTION('reactivateUser'), { input: { userId: user.id, reason: 'oops' } })).reactivateUser;
      assert.equal(reactivate.userErrors[0].code, 'BAD_REQUEST');
      const twice = await t.rest('DELETE', `/admin/users/${user.id}`, { auth: ADMIN_KEY, body: { reason: 'again' } });
      assert.equal(twice.status, 200, 'erasing again changes nothing');
      assert.equal(twice.body.data.erased_at, new Date(erased.user.erasedAt).toUTCString());

      const mailsBefore = t.mailbox.countTo('erase-me@example.com');
      const fresh = await t.register({ email: 'erase-me@example.com' });
      assert.notEqual(fresh.id, user.id);
      const code = await t.mailbox.nextCode('erase-me@example.com', mailsBefore);
      assert.equal((await t.rest('POST', '/users/erase-me@example.com/activate', { auth: PUBLIC_KEY, body: { code } })).status, 200);
      assert.equal((await t.login('erase-me@example.com', fresh.password)).status, 200);
      assert.equal((await t.rest('GET', `/users/${fresh.id}`, { auth: fresh.token })).body.data.credits, 0);
    });

    test('erase is refused while an analysis is queued or running, and changes nothing then', async () => {
      const user = await t.activeUser();
      await sql(t, `insert into tasks (id, user_id, status, prompt, inputs, cost, created_at, updated_at) values ('task_00000000000000000000000000000001', ?, 'running', 'x', '[]', 20, now(), now())`, [user.id]);
      const res = await t.rest('DELETE', `/admin/users/${user.id}`, { auth: ADMIN_KEY, body: { reason: 'request' } });
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal((await t.login(user.email, user.password)).status, 200);
      await sql(t, `update tasks set status = 'failed' where user_id = ?`, [user.id]);
    });

    test('the ledger is corrected only by compensating rows: once per row, never below zero, the original untouched', async () => {
      const user = await t.activeUser();
      const grant = (await admin(t, ADJUST, { input: { userId: user.id, amount: 30, reason: 'promo' } })).adjustCredits.transaction;
      const [original] = await sql(t, 'select * from transactions where id = ?', [grant.id]);

      const partial = (await admin(t, CORRECT, { input: { transactionId: grant.id, credits: 10, reason: 'promo was 20' } })).correctTransaction;
      assert.deepEqual(partial.userErrors, []);
      assert.equal(partial.transaction.type, 'DEBIT');
      assert.equal(partial.transaction.kind, 'CORRECTION');
      assert.equal(partial.transaction.valueInCredits, 10);
      assert.equal(partial.transaction.balanceAfter, 20);
      assert.equal(partial.transaction.reference, grant.id);
      assert.match(partial.transaction.description, /promo was 20/);
      const repeat = (await admin(t, CORRECT, { input: { transactionId: grant.id, credits: 10, reason: 'promo was 20' } })).correctTransaction;
      assert.equal(repeat.transaction.id, partial.transaction.id, 'a repeated correction answers the first');
      const different = (await admin(t, CORRECT, { input: { transactionId: grant.id, reason: 'all of it' } })).correctTransaction;
      assert.equal(different.userErrors[0].code, 'CONFLICT');
      const tooMany = (await admin(t, CORRECT, { input: { transactionId: partial.transaction.id, credits: 11, reason: 'x' } })).correctTransaction;
      assert.equal(tooMany.userErrors[0].code, 'BAD_REQUEST');
      assert.deepEqual(tooMany.userErrors[0].field, ['input', 'credits']);
      const unknown = (await admin(t, CORRECT, { input: { transactionId: 'transaction_00000000000000000000000000000000', reason: 'x' } })).correctTransaction;
      assert.equal(unknown.userErrors[0].code, 'NOT_FOUND');

      // Reversing the correction itself (a DEBIT) gives the credits back, through REST.
      const back = await t.rest('POST', `/admin/transactions/${partial.transaction.id}/corrections`, { auth: ADMIN_KEY, body: { reason: 'the promo was right after all' } });
      assert.equal(back.status, 201, JSON.stringify(back.body));
      assert.equal(back.body.data.type, 'CREDIT');
      assert.equal(back.body.data.balance_after, 30);

      const spender = await t.activeUser();
      const big = (await admin(t, ADJUST, { input: { userId: spender.id, amount: 50, reason: 'test' } })).adjustCredits.transaction;
      await admin(t, ADJUST, { input: { userId: spender.id, amount: -40, reason: 'spent' } });
      const overdraft = (await admin(t, CORRECT, { input: { transactionId: big.id, reason: 'reverse the grant' } })).correctTransaction;
      assert.equal(overdraft.userErrors[0].code, 'INSUFFICIENT_CREDITS');
      assert.equal((await t.rest('GET', `/users/${spender.id}`, { auth: spender.token })).body.data.credits, 10);

      const [unchanged] = await sql(t, 'select * from transactions where id = ?', [grant.id]);
      assert.deepEqual(unchanged, original, 'the corrected row itself is never edited');
      const corrected = (await securityKinds(t, user.id)).filter((event) => event.kind === 'LEDGER_CORRECTED');
      assert.deepEqual(corrected.map((event) => event.detail.note).sort(), ['promo was 20', 'the promo was right after all']);
      const [{ balance, last }] = await sql(t, `select u.credits as balance, (select balance_after from transactions where user_id = u.id order by created_at desc, id desc limit 1) as last from users u where u.id = ?`, [user.id]);
      assert.equal(balance, last, 'the balance is the last row\'s balance');
    });
  });
}
