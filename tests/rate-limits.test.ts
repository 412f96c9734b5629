import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { testDatabases } from './helpers/database';
import { PUBLIC_KEY, TestApp } from './helpers/harness';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisAvailable(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

const db = testDatabases()[0];

describe('rate limits (memory store)', () => {
  // Budgets in cost points; a long window, so only what the tests spend changes them.
  const t = new TestApp(db, {
    RATE_LIMIT_POINTS: '100',
    RATE_LIMIT_WINDOW_SECONDS: '3600',
    AUTH_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: '5',
    // Room for 20 aliased logins in one document (each costs 11).
    GRAPHQL_MAX_ALIASES: '20',
    GRAPHQL_MAX_ROOT_FIELDS: '20',
    GRAPHQL_ANONYMOUS_MAX_COST: '1000',
    RATE_LIMIT_ANONYMOUS_POINTS: '100000',
  });
  before(() => t.start());
  after(() => t.stop());

  test('an API key spends cost points, not requests: 100 points are 9 user reads (11 each), then 429 with Retry-After', async () => {
    const user = await t.activeUser();
    const key = (await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token;
    const results = [];
    for (let i = 0; i < 11; i++) results.push(await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${key}` }));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    assert.match(results[8].headers.get('ratelimit') ?? '', /^"cost";r=1;t=\d+$/);
    const limited = results[9];
    assert.equal(limited.body.status, 'error');
    assert.ok(Number(limited.headers.get('retry-after')) > 3500);
    assert.match(limited.headers.get('ratelimit') ?? '', /^"cost";r=0;t=\d+$/);
    assert.equal(limited.headers.get('ratelimit-policy'), '"cost";q=100;w=3600');
    // GraphQL spends from the same budget: 429 with Retry-After and the RateLimit headers.
    const gql = await t.gql('{ viewer { id } }', {}, `Bearer ${key}`);
    assert.equal(gql.status, 429);
    assert.equal(gql.body.errors?.[0].extensions?.code, 'RATE_LIMITED');
    assert.ok(Number(gql.headers.get('retry-after')) > 3500);
    assert.match(gql.headers.get('ratelimit') ?? '', /^"cost";r=0;t=\d+$/);
  });

  test('one expensive GraphQL page spends what nine user reads do', async () => {
    const user = await t.activeUser();
    const page = 'query ($n: Int) { viewer { transactions(first: $n) { edges { node { id } } } } }';
    // viewer 2 + the page 11 + 2 × 42 = 97 of 100 points for one page of 42; rateLimit itself costs 2.
    assert.equal((await t.gql(page, { n: 42 }, user.token)).status, 200);
    assert.equal((await t.gql('{ rateLimit { remaining } }', {}, user.token)).body.data.rateLimit.remaining, 1);
    assert.equal((await t.gql('{ viewer { id } }', {}, user.token)).status, 429, 'viewer costs 2: over');
    // A request dearer than the whole budget is refused as such, without spending what is left.
    const other = await t.activeUser();
    const tooDear = await t.gql(page, { n: 100 }, other.token);
    assert.equal(tooDear.status, 400);
    assert.equal(tooDear.body.errors?.[0].extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.equal((await t.gql('{ rateLimit { remaining } }', {}, other.token)).body.data.rateLimit.remaining, 98, 'only rateLimit itself (2) was spent');
  });

  test('20 aliased logins in one request: each is charged to the account, refused past its budget', async () => {
    // The right password, so no field fails before the budget does (mutations run in order, and the first
    // error of a non-null field ends the operation): five logins use the account's five attempts, the sixth is refused.
    const user = await t.register();
    const logins = Array.from({ length: 20 }, (_, i) => `l${i}: login(input: { email: $e, password: $p }) { token }`).join(' ');
    const result = await t.gql(`mutation ($e: String!, $p: String!) { ${logins} }`, { e: user.email, p: user.password });
    assert.equal(result.status, 200);
    assert.deepEqual(result.body.errors!.map((error) => [(error as any).path?.[0], error.extensions?.code]), [['l5', 'RATE_LIMITED']]);
    assert.equal((await t.login(user.email, user.password)).status, 429, 'the account budget is spent');
    // Wrong passwords: each aliased guess is a typed user error and is charged to the account; the sixth is refused.
    const other = await t.register();
    const guesses = Array.from({ length: 20 }, (_, i) => `l${i}: login(input: { email: $e, password: "guess-${i}-password" }) { token userErrors { code } }`).join(' ');
    const guessed = await t.gql(`mutation ($e: String!) { ${guesses} }`, { e: other.email });
    assert.deepEqual(guessed.body.errors!.map((error) => [(error as any).path?.[0], error.extensions?.code]), [['l5', 'RATE_LIMITED']]);
    assert.equal((await t.login(other.email, 'wrong-again-password')).status, 429, 'the account budget is spent');
  });

  test('sign-up, login and OTP requests are limited per client IP', async () => {
    const ipLimited = new TestApp(db, { AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: '3' });
    await ipLimited.start();
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await ipLimited.login(`someone-${i}@example.com`, 'whatever-password')).status);
      assert.deepEqual(statuses, [401, 401, 401, 429]);
      const signUp = await ipLimited.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body: { first_name: 'A', last_name: 'B', email: 'ip@example.com', password: 'password123' } });
      assert.equal(signUp.status, 429);
    } finally {
      await ipLimited.stop();
    }
  });

  test('login attempts are limited per account, whatever the password', async () => {
    const user = await t.activeUser({ email: 'victim@example.com' });
    const statuses = [];
    // The budget is 5 a minute; activating the account used one.
    for (let i = 0; i < 5; i++) statuses.push((await t.login(user.email, `wrong-${i}-password`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 429]);
    assert.equal((await t.login(user.email, user.password)).status, 429, 'even the right password waits');
    const otp = await t.rest('POST', `/users/${user.email}/otp/CHANGE_PASSWORD`, { auth: PUBLIC_KEY });
    assert.equal(otp.status, 429, 'OTP requests for the account share the budget');
  });
});

describe('rate limits shared through Redis by two instances', async () => {
  const available = await redisAvailable();
  const prefix = `t${Date.now()}`;
  // /health costs 11 points: 110 are ten health checks.
  const env = { RATE_LIMIT_POINTS: '110', RATE_LIMIT_WINDOW_SECONDS: '3600', REDIS_URL, REDIS_KEY_PREFIX: prefix };
  const a = new TestApp(db, env);
  const b = new TestApp(db, env);
  before(async () => {
    if (!available) return;
    await a.start();
    await b.start();
  });
  after(async () => {
    if (!available) return;
    await a.stop();
    await b.stop();
  });

  test('one caller spread over two instances gets one budget', { skip: !available && 'no Redis at ' + REDIS_URL }, async () => {
    // Both instances share the caller's key id only if they share a database; use the same IP budget instead.
    const hits = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).rest('GET', '/health')));
    const more = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).rest('GET', '/health')));
    const all = [...hits, ...more];
    assert.equal(all.filter((r) => r.status === 200).length, 10);
    assert.equal(all.filter((r) => r.status === 429).length, 6);
  });
});
