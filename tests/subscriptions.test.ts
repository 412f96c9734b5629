import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grantCredits, postAnalysis } from './helpers/agent';
import { testDatabases } from './helpers/database';
import { FakeModel } from './helpers/fake-model';
import { CreditsTestApp } from './helpers/stripe';
import { subscriptionClient, type Watch } from './helpers/subscriptions';
import { until } from './helpers/until';

const TASK = 'subscription ($id: ID!) { taskUpdated(id: $id) { id status error report { summary claims { assessment } } } }';
const BALANCE = 'subscription { balanceChanged { id credits } }';
const PER_USER = 2;

const statuses = (watch: Watch) => watch.results.map((result) => result.data?.taskUpdated?.status);
const errorCodes = (watch: Watch) => (watch.failure as { extensions?: { code?: string } }[] | undefined)?.map?.((error) => error.extensions?.code) ?? watch.results.flatMap((result) => result.errors?.map((error) => error.extensions?.code) ?? []);

/*
 * GraphQL subscriptions over graphql-ws, played with the graphql-ws client against the whole service: the
 * events come from the database (src/events), the credential from connection_init.
 */
for (const db of testDatabases()) {
  describe(`GraphQL subscriptions (${db})`, () => {
    const model = new FakeModel();
    let t: CreditsTestApp;
    const clients: { dispose: () => unknown }[] = [];
    const connect = (authorization?: string) => {
      const connection = subscriptionClient(t, authorization);
      clients.push(connection);
      return connection;
    };
    before(async () => {
      await model.start();
      t = await CreditsTestApp.start(db, {
        AGENT_OPENAI_BASE_URL: model.url, AGENT_OPENAI_API_KEY: 'sk-test', AGENT_MODEL: 'test-model', AGENT_TIMEOUT_MS: '20000',
        // One analysis at a time, so a second task stays queued while the first one holds the worker.
        AGENT_WORKER_CONCURRENCY: '1',
        SUBSCRIPTIONS_MAX_PER_USER: String(PER_USER),
      });
    });
    after(async () => {
      for (const client of clients) await client.dispose();
      model.behaviour = 'verdict';
      model.answerHeld();
      await t.stop();
      await model.stop();
    });

    test('a task subscription sees QUEUED, then RUNNING, then COMPLETED with the report, and completes', async () => {
      model.behaviour = 'hang';
      const user = await t.activeUser();
      await grantCredits(t, user.id, 40);
      const blocker = (await postAnalysis(t, user, {}, { prompt: 'Hold the worker: 3 moons.' })).body.data;
      await until(() => model.held === 1, 'the first task reaches the model');
      const task = (await postAnalysis(t, user, {}, { prompt: 'The bridge opened in 1932.' })).body.data;
      const watch = connect(user.token).watch(TASK, { id: task.id });
      await watch.until((w) => w.results.length === 1, 'the current state at once');
      assert.deepEqual(watch.results[0], { data: { taskUpdated: { id: task.id, status: 'QUEUED', error: null, report: null } } });

      model.answerHeld(); // the first task completes; the worker takes the watched one, which waits at the model
      await watch.until((w) => statuses(w).includes('RUNNING'), 'RUNNING');
      await until(() => model.held === 1, 'the watched task reaches the model');
      model.answerHeld();
      await watch.until((w) => w.completed, 'the subscription completes after the final state');
      assert.deepEqual(statuses(watch), ['QUEUED', 'RUNNING', 'COMPLETED']);
      const done = watch.results.at(-1)!.data.taskUpdated;
      assert.equal(done.report.summary, 'The claim is contradicted by the records.');
      assert.deepEqual(done.report.claims, [{ assessment: 'CONTRADICTED' }]);
      assert.equal(watch.failure, undefined);
      assert.ok(blocker.id);
      model.behaviour = 'verdict';
    });

    test('a finished task is sent once, as it is, and the subscription completes', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const task = (await postAnalysis(t, user, {}, { prompt: 'Done soon: 4 seasons.' })).body.data;
      await until(async () => (await t.rest('GET', `/users/${user.id}/tasks/${task.id}`, { auth: user.token })).body.data.status === 'completed', 'the task completes');
      const watch = connect(user.token).watch(TASK, { id: task.id });
      await watch.until((w) => w.completed, 'completion');
      assert.deepEqual(statuses(watch), ['COMPLETED']);
    });

    test('someone else’s task, or an unknown one, is NOT_FOUND before any event', async () => {
      const owner = await t.activeUser();
      await grantCredits(t, owner.id, 20);
      const task = (await postAnalysis(t, owner, {}, { prompt: 'Mine: 2 cats.' })).body.data;
      const stranger = connect((await t.activeUser()).token);
      for (const id of [task.id, 'task_00000000000000000000000000000000', 'not-an-id']) {
        const watch = stranger.watch(TASK, { id });
        await watch.until((w) => w.ended, `the refusal of ${id}`);
        assert.deepEqual(errorCodes(watch), ['NOT_FOUND']);
        assert.ok(watch.results.every((result) => !result.data?.taskUpdated), 'no task was sent');
      }
    });

    test('the rules guard the subscribe step: an account not activated yet is refused, and nothing follows', async () => {
      const inactive = await t.register();
      const watch = connect(inactive.token).watch(BALANCE);
      await watch.until((w) => w.ended, 'the refusal');
      assert.deepEqual(errorCodes(watch), ['UNAUTHENTICATED']);
      assert.match(JSON.stringify(watch.results), /not activated/);
      assert.ok(watch.completed, 'refused when subscribing, so the stream ends; refused per event it would stay open');
      assert.ok(watch.results.every((result) => !result.data), 'no user was sent');
    });

    test('the balance subscription sends the balance at once, after an adjustment, and when a Checkout payment lands', async () => {
      const user = await t.activeUser();
      const watch = connect(user.token).watch(BALANCE);
      await watch.until((w) => w.results.length === 1, 'the current balance');
      assert.deepEqual(watch.results[0], { data: { balanceChanged: { id: user.id, credits: 0 } } });
      await grantCredits(t, user.id, 25);
      await watch.until((w) => w.results.length === 2, 'the adjustment');
      assert.equal(watch.results[1].data.balanceChanged.credits, 25);

      const { sessionId } = await t.buy(user, 5);
      assert.equal((await t.stripe.pay(sessionId)).status, 200);
      await watch.until((w) => w.results.length === 3, 'the purchase');
      assert.deepEqual(watch.results[2], { data: { balanceChanged: { id: user.id, credits: 525 } } });
      assert.equal(watch.ended, false, 'a balance subscription stays open');
      watch.unsubscribe();
    });

    test('without a credential the socket is closed with 4401, with an invalid one 4403', async () => {
      for (const [authorization, code] of [[undefined, 4401], ['Bearer not-a-token', 4403], ['test_public_api_key', 4403]] as const) {
        const connection = connect(authorization);
        const watch = connection.watch(BALANCE);
        await watch.until((w) => w.ended, `the close for ${authorization}`);
        assert.equal((watch.failure as { code?: number }).code, code, String(authorization));
        assert.deepEqual(connection.closes.map((close) => close.code), [code]);
        assert.deepEqual(watch.results, []);
      }
    });

    test('logging out closes the session’s socket with 4403; a reset API key closes the key’s socket', async () => {
      const user = await t.activeUser();
      const session = `Bearer ${(await t.login(user.email, user.password)).body.data.token}`;
      const bySession = connect(session);
      const sessionWatch = bySession.watch(BALANCE);
      await sessionWatch.until((w) => w.results.length === 1, 'the session’s subscription');
      const key = (await t.gql('{ viewer { apiKey { token } } }', {}, user.token)).body.data.viewer.apiKey.token as string;
      const byKey = connect(`Bearer ${key}`);
      const keyWatch = byKey.watch(BALANCE);
      await keyWatch.until((w) => w.results.length === 1, 'the key’s subscription');

      assert.equal((await t.rest('DELETE', '/auth/session', { auth: session })).status, 204);
      await sessionWatch.until((w) => w.ended, 'the socket closes after logout', 5_000);
      assert.deepEqual(bySession.closes.map((close) => close.code), [4403]);
      assert.equal(keyWatch.ended, false, 'the API key’s socket is unaffected');

      const reset = await t.gql('mutation { resetApiKey { userErrors { code } } }', {}, user.token);
      assert.deepEqual(reset.body.data.resetApiKey.userErrors, []);
      await keyWatch.until((w) => w.ended, 'the socket closes after the key reset', 5_000);
      assert.deepEqual(byKey.closes.map((close) => close.code), [4403]);
    });

    test('a user token that expires while its socket is open closes the socket with 4403', async () => {
      const user = await t.activeUser();
      const { tokens } = t.app.services;
      const claims = tokens.read(user.token.slice('Bearer '.length)) as { sub: string; sid: string };
      // The same live session, in a token that expires in two seconds.
      const short = tokens.signUserToken(claims.sub, claims.sid, new Date(Date.now() + 2_000), new Date());
      const connection = connect(`Bearer ${short}`);
      const watch = connection.watch(BALANCE);
      await watch.until((w) => w.results.length === 1, 'the subscription opens');
      await watch.until((w) => w.ended, 'the socket closes at the expiry', 6_000);
      assert.deepEqual(connection.closes.map((close) => close.code), [4403]);
    });

    test('the socket closes at the expiry even when the expiry timer fires while the token still reads as valid', async () => {
      const user = await t.activeUser();
      const tokens = t.app.services.tokens as unknown as { now: () => number; read: typeof t.app.services.tokens.read; signUserToken: typeof t.app.services.tokens.signUserToken };
      const claims = tokens.read(user.token.slice('Bearer '.length)) as { sub: string; sid: string };
      const short = tokens.signUserToken(claims.sub, claims.sid, new Date(Date.now() + 2_000), new Date());
      const connection = connect(`Bearer ${short}`);
      const watch = connection.watch(BALANCE);
      await watch.until((w) => w.results.length === 1, 'the subscription opens');
      // The timer's clock and the wall clock the token is read with differ (once seen by a millisecond): here the
      // token reads as valid for 10 s past its expiry, so only the expiry itself can close the socket in time.
      const now = tokens.now;
      tokens.now = () => now() - 10_000;
      try {
        await watch.until((w) => w.ended, 'the socket closes at the expiry', 9_000);
      } finally {
        tokens.now = now;
      }
      assert.deepEqual(connection.closes.map((close) => close.code), [4403]);
    });

    test(`open subscriptions are capped per user (${PER_USER}): one more is RATE_LIMITED; completing one frees its slot`, async () => {
      const user = await t.activeUser();
      const connection = connect(user.token);
      const open = [connection.watch(BALANCE), connect(user.token).watch(BALANCE)];
      for (const watch of open) await watch.until((w) => w.results.length === 1, 'an open subscription');
      const over = connection.watch(BALANCE);
      await over.until((w) => w.ended, 'the refusal');
      assert.deepEqual(errorCodes(over), ['RATE_LIMITED']);
      assert.match((over.failure as { message: string }[])[0].message, /already have 2 subscriptions open/);
      assert.deepEqual(over.results, []);

      const other = connect((await t.activeUser()).token).watch(BALANCE);
      await other.until((w) => w.results.length === 1, 'another user is not affected');

      open[0].unsubscribe();
      const again = async () => {
        const watch = connection.watch(BALANCE);
        await watch.until((w) => w.ended || w.results.length === 1, 'an answer');
        return watch;
      };
      let reopened = await again();
      for (let attempt = 0; reopened.ended && attempt < 50; attempt++) reopened = await again();
      assert.equal(reopened.results[0]?.data?.balanceChanged?.id, user.id, 'the completed subscription gave its slot back');
    });

    test('the HTTP limits apply: a query over the socket, a document too deep and a syntax error are refused; a subscription over HTTP is a 400', async () => {
      const user = await t.activeUser();
      const connection = connect(user.token);
      const cases: [string, string][] = [
        ['{ viewer { id } }', 'BAD_REQUEST'],
        [`subscription { balanceChanged { ${'tasks { edges { node { charge { task { '.repeat(2)}id } } } } } } } } } } } }`, 'QUERY_TOO_DEEP'],
        ['subscription { balanceChanged { id }', 'GRAPHQL_PARSE_FAILED'],
      ];
      const overHttp = await t.gql(BALANCE, {}, user.token);
      assert.equal(overHttp.status, 400);
      assert.equal(overHttp.body.errors?.[0].extensions.code, 'BAD_REQUEST');
      assert.match(overHttp.body.errors![0].message, /WebSocket/);
      for (const [query, code] of cases) {
        const watch = connection.watch(query);
        await watch.until((w) => w.ended, `the refusal of ${query}`);
        const codes = errorCodes(watch);
        assert.ok(code === 'GRAPHQL_PARSE_FAILED' ? codes.length === 1 : codes.includes(code), `${query}: ${JSON.stringify(watch.failure)}`);
        assert.deepEqual(watch.results, []);
      }
    });
  });
}
