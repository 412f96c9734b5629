import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClaraEvent, EventTopic } from '../src/events/event-bus';
import { grantCredits, postAnalysis, waitForTask } from './helpers/agent';
import { testDatabases } from './helpers/database';
import { TestApp } from './helpers/harness';

/** Collects one instance's events of a topic for a user, and waits for the one a test expects. */
function record<T extends EventTopic>(t: TestApp, topic: T, userId?: string) {
  const seen: Extract<ClaraEvent, { topic: T }>[] = [];
  const waiters: (() => void)[] = [];
  const stop = t.app.services.events.on(topic, (event) => {
    seen.push(event);
    waiters.splice(0).forEach((wake) => wake());
  }, userId);
  return {
    seen,
    stop,
    /** Resolves once an event matches (bounded, so a missing event fails the test instead of hanging it). */
    async until(match: (event: Extract<ClaraEvent, { topic: T }>) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!seen.some(match)) {
        if (Date.now() > deadline) assert.fail(`no matching ${topic} event; saw ${JSON.stringify(seen)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200).unref();
        });
      }
      return seen.find(match)!;
    },
  };
}

/*
 * Database triggers announce committed changes over LISTEN/NOTIFY; every instance on the database hears
 * them, whichever instance (or process) made the change.
 */
for (const db of testDatabases()) {
  describe(`change events cross instances (${db})`, () => {
    // Every request writes its session's last use, so the test below sees that this announces nothing.
    const a = new TestApp(db, { SESSION_TOUCH_INTERVAL_SECONDS: '0' });
    let b: TestApp;
    before(async () => {
      await a.start();
      // Files are stored under each instance's own data folder in tests, so A's worker runs A's tasks.
      b = await new TestApp(db, { AGENT_WORKER_IN_PROCESS: 'false' }, { sharing: a }).start();
    });
    after(async () => {
      await b?.stop();
      await a.stop();
    });

    test('a balance change made on A is heard on B with the new balance, and only that user’s listener hears it', async () => {
      const user = await a.activeUser();
      const other = await a.activeUser();
      const balance = record(b, 'balance', user.id);
      const others = record(b, 'balance', other.id);
      await grantCredits(a, user.id, 25);
      const event = await balance.until((e) => e.credits === 25);
      assert.deepEqual(event, { topic: 'balance', userId: user.id, credits: 25 });
      assert.deepEqual(others.seen, []);
      balance.stop();
      others.stop();
    });

    test('a rolled-back change announces nothing; the next committed one is the first event heard', async () => {
      const user = await a.activeUser();
      const balance = record(b, 'balance', user.id);
      const connection = a.orm.em.getConnection();
      await assert.rejects(
        a.orm.em.fork().transactional(async (tx) => {
          await tx.getConnection().execute('update users set credits = credits + 7 where id = ?', [user.id], 'run', tx.getTransactionContext());
          throw new Error('roll back');
        }),
        /roll back/,
      );
      await connection.execute('update users set credits = credits + 3 where id = ?', [user.id]);
      await balance.until((e) => e.credits === 3);
      assert.deepEqual(balance.seen.map((e) => e.credits), [3]);
      balance.stop();
    });

    test('an analysis started on A: B hears its task move from queued to completed', async () => {
      const user = await a.activeUser();
      await grantCredits(a, user.id, 50);
      const tasks = record(b, 'task', user.id);
      const started = await postAnalysis(a, user, { 'notes.txt': 'Acme hired 250 engineers in Berlin in 2022.' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const taskId = started.body.data.id as string;
      await tasks.until((e) => e.taskId === taskId && e.status === 'completed');
      const statuses = tasks.seen.filter((e) => e.taskId === taskId).map((e) => e.status);
      assert.equal(statuses[0], 'queued');
      assert.ok(statuses.includes('running'), statuses.join());
      assert.equal((await waitForTask(a, user, taskId)).status, 'completed');
      tasks.stop();
    });

    test('logging out on A tells B that the user’s credentials changed; using a session does not', async () => {
      const user = await a.activeUser();
      // Activating the account announced a caller change too, which B may still be about to hear (seen once in the
      // suite). Notifications arrive in commit order: once B has heard a later one, nothing older is left to come.
      const barrier = record(b, 'balance', user.id);
      await grantCredits(a, user.id, 1);
      await barrier.until((e) => e.credits === 1);
      barrier.stop();
      const callers = record(b, 'caller', user.id);
      for (let i = 0; i < 3; i++) assert.equal((await a.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 200);
      const [{ touched }] = await a.orm.em.getConnection().execute('select count(*)::int as touched from sessions where user_id = ? and last_used_at is not null', [user.id]);
      assert.equal(touched, 1);
      assert.equal((await a.rest('DELETE', '/auth/session', { auth: user.token })).status, 204);
      await callers.until(() => true);
      assert.deepEqual(callers.seen, [{ topic: 'caller', userId: user.id }]);
      callers.stop();
    });
  });
}

if (process.env.TEST_DATABASE_URL) {
  describe('the event bus survives losing its connection (postgres)', () => {
    const t = new TestApp('postgres');
    before(() => t.start());
    after(() => t.stop());

    test('after its LISTEN connection is killed it reconnects, announces a resync, and hears changes again', async () => {
      const user = await t.activeUser();
      const resync = record(t, 'resync');
      const balance = record(t, 'balance', user.id);
      const killed = await t.orm.em.getConnection().execute(`select pg_terminate_backend(pid) as done from pg_stat_activity where datname = current_database() and query ilike 'LISTEN clara_events%'`);
      assert.equal(killed.length, 1);
      await resync.until(() => true);
      await grantCredits(t, user.id, 5);
      await balance.until((e) => e.credits === 5);
      resync.stop();
      balance.stop();
    });
  });
}
