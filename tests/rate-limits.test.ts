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
  const t = new TestApp(db, { RATE_LIMIT_PER_SECOND: '10', AUTH_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: '5' });
  before(() => t.start());
  after(() => t.stop());

  test('an API key gets 10 requests per second, then 429 with Retry-After', async () => {
    const user = await t.activeUser();
    const key = (await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const results = await Promise.all(Array.from({ length: 15 }, () => t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${key}` })));
    assert.equal(results.filter((r) => r.status === 200).length, 10);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(limited.length, 5);
    assert.equal(limited[0].body.status, 'error');
    assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
    // GraphQL shares the same budget.
    const gql = await t.gql('{ viewer { id } }', {}, `Bearer ${key}`);
    assert.equal(gql.status, 429);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${key}` })).status, 200, 'the budget refills');
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
  const env = { RATE_LIMIT_PER_SECOND: '10', REDIS_URL, REDIS_KEY_PREFIX: prefix };
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
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const hits = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).rest('GET', '/health')));
    const more = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).rest('GET', '/health')));
    const all = [...hits, ...more];
    assert.equal(all.filter((r) => r.status === 200).length, 10);
    assert.equal(all.filter((r) => r.status === 429).length, 6);
  });
});
