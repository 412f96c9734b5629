import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalStripeServer } from '../../src/credits/local-stripe/local-stripe-server';
import { grantCredits, postAnalysis, waitForTask } from '../helpers/agent';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { FakeModel } from '../helpers/fake-model';
import { ApiProcess, deploymentEnv, startWorker, type ServiceProcess } from '../helpers/service-process';
import { STRIPE_KEY, WEBHOOK_SECRET } from '../helpers/stripe';
import { until } from '../helpers/until';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The production topology in miniature: two API instances (no worker inside) and one separate worker, each its
 * own process, on one PostgreSQL and one Redis, with shared upload storage. Needs a real PostgreSQL
 * (TEST_DATABASE_URL): the embedded database lives inside one process.
 */
describe('two API instances and a worker on one PostgreSQL and one Redis', { skip: !process.env.TEST_DATABASE_URL && 'needs TEST_DATABASE_URL' }, () => {
  const model = new FakeModel();
  const stripe = new LocalStripeServer({ secretKey: STRIPE_KEY, webhookSecret: WEBHOOK_SECRET });
  const storage = mkdtempSync(join(tmpdir(), 'clara-scale-storage-'));
  let database: TestDatabase;
  let a: ApiProcess;
  let b: ApiProcess;
  let worker: ServiceProcess;

  before(async () => {
    await model.start();
    await stripe.start();
    database = await createTestDatabase('postgres');
    const env = deploymentEnv(database.url, {
      REDIS_URL,
      REDIS_KEY_PREFIX: `scale-${randomBytes(6).toString('hex')}`,
      // A small budget per caller (shared through Redis); the anonymous one large, since every sign-up comes from one IP.
      RATE_LIMIT_POINTS: '150',
      RATE_LIMIT_WINDOW_SECONDS: '60',
      RATE_LIMIT_ANONYMOUS_POINTS: '100000',
      AGENT_WORKER_IN_PROCESS: 'false',
      AGENT_STORAGE_DIR: storage,
      AGENT_OPENAI_BASE_URL: model.url,
      AGENT_OPENAI_API_KEY: 'sk-test',
      AGENT_MODEL: 'test-model',
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_HOST: '127.0.0.1',
      STRIPE_API_PORT: String(stripe.port),
      STRIPE_API_PROTOCOL: 'http',
    });
    // Both instances start at once on an empty database: the migration lock lets one migrate, the other wait.
    [a, b] = await Promise.all([new ApiProcess(env).start(), new ApiProcess(env).start()]);
    worker = await startWorker(env);
  });

  after(async () => {
    await model.stop(); // first: a held model request then ends, so the worker stops promptly
    await Promise.all([a?.stop(), b?.stop(), worker?.stop()]);
    await stripe.stop();
    await database?.drop();
    rmSync(storage, { recursive: true, force: true });
  });

  test('the migrations ran once although both instances started together', async () => {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('select name, count(*)::int as n from mikro_orm_migrations group by name');
    await client.end();
    assert.ok(rows.length > 0);
    assert.ok(rows.every((row) => row.n === 1), JSON.stringify(rows));
  });

  test('a rate limit exhausted on A is refused on B', async () => {
    const user = await a.activeUser();
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) status = (await a.rest('GET', `/users/${user.id}`, { auth: user.token })).status;
    assert.equal(status, 429, 'A refuses once the budget is spent');
    const onB = await b.rest('GET', `/users/${user.id}`, { auth: user.token });
    assert.equal(onB.status, 429);
    assert.equal(onB.body.status, 'error');
    assert.ok(Number(onB.headers.get('retry-after')) > 0);
  });

  test('a token logged out on A is refused on B', async () => {
    const user = await a.activeUser();
    const session = `Bearer ${(await a.login(user.email, user.password)).body.data.token}`;
    assert.equal((await b.rest('GET', `/users/${user.id}`, { auth: session })).status, 200);
    assert.equal((await a.rest('DELETE', '/auth/session', { auth: session })).status, 204);
    const refused = await b.rest('GET', `/users/${user.id}`, { auth: session });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.status, 'error');
  });

  test('an analysis started on A is run by the worker and its progress streams from B', async () => {
    const user = await a.activeUser();
    await grantCredits(a, user.id, 20);
    model.behaviour = 'hang'; // held until released, so the stream sees the task running
    const started = await postAnalysis(a, user, { 'claim.txt': 'The bridge opened in 1932.' }, { prompt: 'Check the file.' });
    assert.equal(started.status, 201);
    const response = await fetch(`${b.baseUrl}/api/v1/users/${user.id}/tasks/${started.body.data.id}/events`, { headers: { authorization: user.token } });
    assert.equal(response.status, 200);
    const text = response.text();
    await until(() => model.requests >= 1, 'the worker calls the model with the file A stored', { timeoutMs: 30_000 });
    model.release();
    const statuses = (await text).split('\n\n').filter((block) => block.includes('data: ')).map((block) => JSON.parse(block.split('data: ')[1]).status as string);
    assert.ok(statuses.includes('running'), statuses.join());
    assert.equal(statuses.at(-1), 'completed');
    const done = await waitForTask(b, user, started.body.data.id);
    assert.equal(done.result.claims[0].assessment, 'contradicted');
  });

  test('a Stripe webhook delivered to both instances at the same moment grants once', async () => {
    const user = await a.activeUser();
    const bought = await a.rest('POST', '/stripe/buy', { auth: user.token, body: { amount: 5, return_path: '/billing' } });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const sessionId = new URL(bought.body.data.url).pathname.split('/').pop()!;
    Object.assign(stripe.session(sessionId), { status: 'complete', payment_status: 'paid' });
    const signed = stripe.signedEvent('checkout.session.completed', sessionId);
    const deliver = async (instance: ApiProcess) => {
      const response = await fetch(`${instance.baseUrl}/api/v1/stripe/settle`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signed.signature }, body: signed.payload });
      return { status: response.status, body: (await response.json()) as any };
    };
    const outcomes = await Promise.all([deliver(a), deliver(b)]);
    assert.deepEqual(outcomes.map((o) => o.status), [200, 200]);
    assert.deepEqual(outcomes.map((o) => o.body.data.outcome).sort(), ['duplicate', 'granted']);
    const me = await b.rest('GET', `/users/${user.id}`, { auth: user.token });
    assert.equal(me.body.data.credits, 500);
    const ledger = await b.rest('GET', `/users/${user.id}/transactions?limit=10`, { auth: user.token });
    assert.equal(ledger.status, 200, JSON.stringify(ledger.body));
    assert.equal(ledger.body.data.length, 1);
  });
});
