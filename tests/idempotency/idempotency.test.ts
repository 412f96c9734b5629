import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { grantCredits, postAnalysis } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { ADMIN_KEY, PUBLIC_KEY, TestApp } from '../helpers/harness';
import { mcpHeaders } from '../helpers/mcp';
import { freePort } from '../helpers/service-process';
import { CreditsTestApp, STRIPE_KEY, WEBHOOK_SECRET } from '../helpers/stripe';

type User = Awaited<ReturnType<CreditsTestApp['activeUser']>>;

const BUY = 'mutation ($input: BuyCreditsInput!) { buyCredits(input: $input) { checkout { url valueInCredits valueInFiat { amount } } userErrors { code field message } } }';
const START = 'mutation ($input: StartAnalysisInput!) { startAnalysis(input: $input) { task { id status cost charge { id } createdAt } userErrors { code field message } } }';
const ADJUST = 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { transaction { id balanceAfter createdAt } userErrors { code message } } }';
const NOTE = { name: 'note.txt', contentBase64: Buffer.from('The bridge opened in 1932.').toString('base64') };

let keys = 0;
const newKey = () => `key-${process.pid}-${++keys}-${Math.random().toString(36).slice(2)}`;

/** POST /agent/analysis as documented (multipart), with an Idempotency-Key header. */
const analyze = (t: CreditsTestApp, user: User, key: string, prompt: string) => postAnalysis(t, user, { 'note.txt': 'The bridge opened in 1932.' }, { prompt }, { 'idempotency-key': key });

const buy = (t: TestApp, user: { token: string }, key: string, amount = 5) =>
  t.rest('POST', '/stripe/buy', { auth: user.token, body: { amount, return_path: '/billing' }, headers: { 'idempotency-key': key } });

/** Checkout sessions Stripe was asked to create for this user. */
const checkoutsOf = (t: CreditsTestApp, userId: string) => t.stripe.requestsTo('POST', '/v1/checkout/sessions').filter((r) => (r.params.metadata as any).user_id === userId).length;

async function debitsOf(t: CreditsTestApp, user: User): Promise<number> {
  return (await t.transactions(user, '?type=DEBIT')).length;
}

async function mcpClient(t: CreditsTestApp, user: User): Promise<Client> {
  const client = new Client({ name: 'clara-idempotency-tests', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${t.baseUrl}/mcp`), { requestInit: { headers: await mcpHeaders(t, user) } }));
  return client;
}

for (const db of testDatabases()) {
  describe(`idempotency keys (${db})`, () => {
    let t: CreditsTestApp;
    before(async () => {
      t = await CreditsTestApp.start(db);
    });
    after(() => t.stop());

    test('REST: a retried buy replays the first answer and opens one checkout; a changed body is refused with 422', async () => {
      const user = await t.activeUser();
      const key = newKey();
      const first = await buy(t, user, key);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const retried = await buy(t, user, key);
      assert.equal(retried.status, 201);
      assert.deepEqual(retried.body, first.body, 'the same body');
      assert.equal(retried.headers.get('idempotent-replayed'), 'true');
      assert.equal(checkoutsOf(t, user.id), 1, 'one checkout session at Stripe');

      const changed = await buy(t, user, key, 7);
      assert.equal(changed.status, 422);
      assert.equal(changed.body.status, 'error');
      assert.match(changed.body.message, /different request/);
      assert.equal(checkoutsOf(t, user.id), 1);
      // Without a key, every call is a new checkout, as before.
      await t.buy(user, 5);
      assert.equal(checkoutsOf(t, user.id), 2);
    });

    test('REST: a retried analysis charges once and returns the same task', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const key = newKey();
      const first = await analyze(t, user, key, 'Check: the bridge opened in 1932.');
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const retried = await analyze(t, user, key, 'Check: the bridge opened in 1932.');
      assert.equal(retried.status, 201);
      assert.deepEqual(retried.body, first.body, 'the first answer, as it was (status queued)');
      assert.equal(await debitsOf(t, user), 1, 'one ledger row');
      assert.equal(await t.balance(user), 80);
      const changed = await analyze(t, user, key, 'Check: the bridge opened in 1933.');
      assert.equal(changed.status, 422);
      assert.equal(await debitsOf(t, user), 1);
    });

    test('REST: 20 concurrent buys with one key open one checkout; the others get the answer or 409 IDEMPOTENCY_KEY_IN_USE', async () => {
      const user = await t.activeUser();
      const key = newKey();
      const answers = await Promise.all(Array.from({ length: 20 }, () => buy(t, user, key)));
      assert.equal(checkoutsOf(t, user.id), 1, 'one effect');
      const created = answers.filter((a) => a.status === 201);
      assert.ok(created.length >= 1);
      for (const answer of created) assert.deepEqual(answer.body, created[0].body);
      for (const answer of answers.filter((a) => a.status !== 201)) {
        assert.equal(answer.status, 409, JSON.stringify(answer.body));
        assert.match(answer.body.message, /still running/);
      }
      // Once the first has finished, a retry gets its answer.
      assert.deepEqual((await buy(t, user, key)).body, created[0].body);
    });

    test('REST: 20 concurrent analyses with one key charge once', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const key = newKey();
      const answers = await Promise.all(Array.from({ length: 20 }, () => analyze(t, user, key, 'Check: the bridge opened in 1932.')));
      assert.deepEqual([...new Set(answers.map((a) => a.status))].sort(), answers.some((a) => a.status === 409) ? [201, 409] : [201]);
      assert.equal(await debitsOf(t, user), 1);
      assert.equal(new Set(answers.filter((a) => a.status === 201).map((a) => a.body.data.id)).size, 1, 'one task');
    });

    test('keys are per caller: two users with one key each get their own checkout', async () => {
      const [ada, bob] = [await t.activeUser(), await t.activeUser()];
      const key = newKey();
      const [forAda, forBob] = [await buy(t, ada, key), await buy(t, bob, key, 7)];
      assert.equal(forAda.status, 201);
      assert.equal(forBob.status, 201, 'not refused as a reuse of Ada\'s key');
      assert.notEqual(forAda.body.data.url, forBob.body.data.url);
      assert.equal(forBob.body.data.value_in_fiat, 7);
      assert.equal(checkoutsOf(t, ada.id), 1);
      assert.equal(checkoutsOf(t, bob.id), 1);
    });

    test('a user error is kept and replayed (as Stripe does): the retry after a top-up still reads 403', async () => {
      const user = await t.activeUser();
      const key = newKey();
      const broke = await analyze(t, user, key, 'Check this.');
      assert.equal(broke.status, 403);
      await grantCredits(t, user.id, 100);
      const retried = await analyze(t, user, key, 'Check this.');
      assert.equal(retried.status, 403);
      // The kept answer, under this request's own id.
      assert.deepEqual({ ...retried.body, request_id: undefined }, { ...broke.body, request_id: undefined });
      assert.notEqual(retried.body.request_id, broke.body.request_id);
      assert.equal(retried.headers.get('idempotent-replayed'), 'true');
      assert.equal(await debitsOf(t, user), 0);
      assert.equal((await analyze(t, user, newKey(), 'Check this.')).status, 201, 'a new key is a new request');
    });

    test('a server error (503) is not kept: the key is free and the retry runs', async () => {
      const user = await t.activeUser();
      const key = newKey();
      const stripeDown = { STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_HOST: '127.0.0.1', STRIPE_API_PORT: String(await freePort()) /* nothing listens there: Stripe "down" */, STRIPE_API_PROTOCOL: 'http' };
      const instance = await new TestApp(db, stripeDown, { sharing: t }).start();
      try {
        const failed = await buy(instance, user, key);
        assert.equal(failed.status, 503, JSON.stringify(failed.body));
      } finally {
        await instance.stop();
      }
      const retried = await buy(t, user, key);
      assert.equal(retried.status, 201, JSON.stringify(retried.body));
      assert.equal(retried.headers.get('idempotent-replayed'), null, 'run, not replayed');
      assert.equal(checkoutsOf(t, user.id), 1);
    });

    test('GraphQL: a retried buyCredits and startAnalysis return the same payload once; a changed input is a userError', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const buyKey = newKey();
      const first = await t.gql(BUY, { input: { amount: '5.00', idempotencyKey: buyKey } }, user.token);
      assert.deepEqual(first.body.data.buyCredits.userErrors, []);
      assert.deepEqual((await t.gql(BUY, { input: { amount: '5.00', idempotencyKey: buyKey } }, user.token)).body, first.body);
      assert.equal(checkoutsOf(t, user.id), 1);
      const reused = await t.gql(BUY, { input: { amount: '6.00', idempotencyKey: buyKey } }, user.token);
      assert.deepEqual(reused.body.data.buyCredits, {
        checkout: null,
        userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'], message: 'This idempotency key was used for a different request; use a new key for a new request.' }],
      });

      const startKey = newKey();
      const input = { prompt: 'Check: the bridge opened in 1932.', files: [NOTE], idempotencyKey: startKey };
      const started = await t.gql(START, { input }, user.token);
      assert.deepEqual(started.body.data.startAnalysis.userErrors, []);
      assert.ok(started.body.data.startAnalysis.task.charge.id);
      // Field order in the input does not make it another request.
      const reordered = await t.gql(START, { input: { idempotencyKey: startKey, files: [NOTE], prompt: input.prompt } }, user.token);
      assert.deepEqual(reordered.body, started.body);
      assert.equal(await debitsOf(t, user), 1);
      // The same key on another mutation is a different request.
      const other = await t.gql(BUY, { input: { amount: '5.00', idempotencyKey: startKey } }, user.token);
      assert.equal(other.body.data.buyCredits.userErrors[0].code, 'IDEMPOTENCY_KEY_REUSED');
    });

    test('GraphQL: 20 concurrent startAnalysis with one key make one task and one charge', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const input = { prompt: 'Check: the bridge opened in 1932.', files: [NOTE], idempotencyKey: newKey() };
      const answers = await Promise.all(Array.from({ length: 20 }, () => t.gql(START, { input }, user.token)));
      const tasks = answers.map((a) => a.body.data.startAnalysis).filter((p) => p.task);
      const busy = answers.map((a) => a.body.data.startAnalysis).filter((p) => !p.task);
      assert.ok(tasks.length >= 1);
      assert.equal(new Set(tasks.map((p) => p.task.id)).size, 1);
      for (const payload of busy) assert.equal(payload.userErrors[0].code, 'IDEMPOTENCY_KEY_IN_USE');
      assert.equal(await debitsOf(t, user), 1);
    });

    test('MCP: stripe_buy and agent_analysis with idempotencyKey run once; changed arguments are refused', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const client = await mcpClient(t, user);
      const { tools } = await client.listTools();
      for (const name of ['stripe_buy', 'agent_analysis']) assert.ok((tools.find((tool) => tool.name === name)!.inputSchema.properties as object).hasOwnProperty('idempotencyKey'), name);

      const buyArgs = { amount: 5, idempotencyKey: newKey() };
      const bought = await client.callTool({ name: 'stripe_buy', arguments: buyArgs });
      assert.equal(bought.isError, undefined, JSON.stringify(bought));
      assert.deepEqual((await client.callTool({ name: 'stripe_buy', arguments: buyArgs })).structuredContent, bought.structuredContent);
      assert.equal(checkoutsOf(t, user.id), 1);

      const analysisArgs = { prompt: 'Check: the bridge opened in 1932.', files: [NOTE], idempotencyKey: newKey() };
      const answers = await Promise.all(Array.from({ length: 20 }, () => client.callTool({ name: 'agent_analysis', arguments: analysisArgs })));
      const started = answers.filter((a) => !a.isError);
      assert.ok(started.length >= 1);
      for (const answer of started) assert.deepEqual(answer.structuredContent, started[0].structuredContent);
      for (const answer of answers.filter((a) => a.isError)) assert.match(JSON.stringify(answer.content), /IDEMPOTENCY_KEY_IN_USE/);
      assert.equal(await debitsOf(t, user), 1, 'one charge');

      const changed = await client.callTool({ name: 'agent_analysis', arguments: { ...analysisArgs, prompt: 'Something else.' } });
      assert.equal(changed.isError, true);
      assert.equal(JSON.parse((changed.content as { text: string }[])[0].text).error.code, 'IDEMPOTENCY_KEY_REUSED');
      await client.close();
    });

    test('register and the admin credit adjustment take a key too: one account, one ledger row', async () => {
      const email = `idem-${newKey()}@example.com`;
      const key = newKey();
      const body = { first_name: 'Ada', last_name: 'Lovelace', email, password: 'correct horse battery' };
      const registered = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body, headers: { 'idempotency-key': key } });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const again = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body, headers: { 'idempotency-key': key } });
      assert.deepEqual(again.body, registered.body, 'the same account and token');
      await t.mailbox.nextMail(email, 0);
      assert.equal(t.mailbox.countTo(email), 1, 'one activation mail');
      const [{ response }] = await t.orm.em.fork().getConnection().execute('select response from idempotency_keys where key = ?', [key]);
      assert.ok(!response.includes(registered.body.data.token), 'the kept answer is encrypted');

      const user = await t.activeUser();
      const input = { userId: user.id, amount: 50, reason: 'goodwill', idempotencyKey: newKey() };
      const adjusted = await t.gql(ADJUST, { input }, ADMIN_KEY);
      assert.deepEqual((await t.gql(ADJUST, { input }, ADMIN_KEY)).body, adjusted.body);
      assert.equal(await t.balance(user), 50);
      assert.equal((await t.transactions(user)).length, 1);

      // The admin REST path takes the header: a retried grant is replayed, not granted twice.
      const restKey = newKey();
      const grant = () => t.rest('POST', `/admin/users/${user.id}/credits`, { auth: ADMIN_KEY, body: { amount: 7, reason: 'refund by hand' }, headers: { 'idempotency-key': restKey } });
      const first = await grant();
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const retried = await grant();
      assert.equal(retried.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(retried.body, first.body);
      assert.equal(await t.balance(user), 57);
      assert.equal((await t.transactions(user)).length, 2);
    });

    test('a key of more than 255 characters is refused before anything runs', async () => {
      const user = await t.activeUser();
      const res = await buy(t, user, 'k'.repeat(256));
      assert.equal(res.status, 400);
      assert.match(res.body.message, /1 to 255 characters/);
      assert.equal(checkoutsOf(t, user.id), 0);
    });

    test('expiry: a key older than 24 hours is deleted by the expiry run, and the key then starts a new request', async () => {
      const user = await t.activeUser();
      const key = newKey();
      const first = await buy(t, user, key);
      const fresh = newKey();
      await buy(t, user, fresh, 6);
      const em = t.orm.em.fork();
      await em.getConnection().execute(`update idempotency_keys set created_at = now() - interval '25 hours' where key = ?`, [key]);
      const removed = await t.app.services.idempotency.removeExpired(em);
      assert.ok(removed >= 1);
      const left = await em.getConnection().execute<{ key: string }[]>('select key from idempotency_keys where key in (?, ?)', [key, fresh]);
      assert.deepEqual(left.map((row) => row.key), [fresh], 'the backdated key is gone, the fresh one stays');
      const after = await buy(t, user, key);
      assert.equal(after.status, 201);
      assert.notEqual(after.body.data.url, first.body.data.url, 'a new checkout');
      assert.equal(checkoutsOf(t, user.id), 3);
    });

    test('an expired key the expiry run has not removed yet is free: 10 concurrent requests with it, even a different body, make one new checkout', async () => {
      const user = await t.activeUser();
      const key = newKey();
      const first = await buy(t, user, key);
      const connection = t.orm.em.fork().getConnection();
      const rowOf = async () => (await connection.execute<{ id: string; response: string }[]>('select id, response from idempotency_keys where key = ?', [key]))[0];
      const expired = await rowOf();
      await connection.execute(`update idempotency_keys set created_at = now() - interval '25 hours' where key = ?`, [key]);
      const answers = await Promise.all(Array.from({ length: 10 }, () => buy(t, user, key, 7)));
      // A new claim (a new id): a request still running under the expired one cannot complete it with its answer.
      const taken = await rowOf();
      assert.notEqual(taken.id, expired.id);
      await t.app.services.idempotency.complete(t.orm.em.fork(), String(expired.id), { payload: 'the expired request' });
      assert.deepEqual(await rowOf(), taken);
      assert.equal(checkoutsOf(t, user.id), 2, 'the first checkout and one new one');
      const created = answers.filter((a) => a.status === 201);
      assert.ok(created.length >= 1);
      for (const answer of created) {
        assert.equal(answer.body.data.value_in_credits, (first.body.data.value_in_credits / 5) * 7, 'the new request (7 dollars), not a replay of the expired one (5)');
        assert.deepEqual(answer.body, created[0].body);
      }
      assert.notEqual(created[0].body.data.url, first.body.data.url);
      for (const answer of answers.filter((a) => a.status !== 201)) assert.equal(answer.status, 409, JSON.stringify(answer.body));
      // Taken over, the key is fresh again: a different body is now a reuse.
      assert.equal((await buy(t, user, key, 5)).status, 422);
    });
  });
}
