import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';
import { RedisServer } from '../helpers/redis-server';
import { until } from '../helpers/until';

/** Points per minute per caller: a user read costs several, so this allows a handful of reads. */
const BUDGET = 200;

for (const db of testDatabases()) {
  describe(`Redis unreachable (${db})`, () => {
    const redis = new RedisServer();
    const logs: { level: number; msg: string }[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { logs.push(JSON.parse(String(chunk))); done(); } });
    let t: TestApp;
    let probe: Redis;
    const prefix = `outage-${db}`;
    const logged = (pattern: RegExp) => logs.filter((line) => pattern.test(line.msg));
    /** Keys of the shared caller budgets in Redis: present only while the limits really are shared. */
    const sharedKeys = async () => probe.keys(`${prefix}:rl:caller*`);

    before(async () => {
      await redis.start();
      probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      probe.on('error', () => undefined);
      t = await new TestApp(db, { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_POINTS: String(BUDGET), RATE_LIMIT_WINDOW_SECONDS: '60', RATE_LIMIT_ANONYMOUS_POINTS: '100000' }, { log: pino({ level: 'info' }, sink) }).start();
    });
    after(async () => {
      await t?.stop();
      probe?.disconnect();
      await redis.stop();
    });

    test('limits fall back to this instance (logged once), still refuse past the budget, and are shared again once Redis is back', async () => {
      const user = await t.activeUser();
      const read = () => t.rest('GET', `/users/${user.id}`, { auth: user.token });
      assert.equal((await read()).status, 200);
      assert.ok((await sharedKeys()).length > 0, 'the budget is kept in Redis');

      await redis.stop();
      // The instance's own budget starts afresh: requests are answered until it is spent, then refused.
      const during: number[] = [];
      while (during.length < BUDGET && during.at(-1) !== 429) during.push((await read()).status);
      assert.equal(during.at(-1), 429, `the per-instance limit still refuses past the budget: ${during.join()}`);
      assert.ok(during.length > 2 && during.slice(0, -1).every((status) => status === 200), `answered, not failed, without Redis: ${during.join()}`);
      await until(() => logged(/Redis is unreachable/).length > 0, 'the warning');
      assert.equal(logged(/Redis is unreachable/).length, 1, 'warned once, not per request');
      assert.equal(logs.filter((line) => line.level >= 50).length, 0, 'no errors logged');

      await redis.start();
      await until(() => logged(/Redis is reachable again/).length > 0, 'the recovery', { timeoutMs: 20_000 });
      const other = await t.activeUser();
      assert.equal((await t.rest('GET', `/users/${other.id}`, { auth: other.token })).status, 200);
      assert.ok((await sharedKeys()).length > 0, 'budgets are kept in Redis again');
    });
  });
}
