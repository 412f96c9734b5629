import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { grantCredits, postAnalysis } from './helpers/agent';
import { TestApp } from './helpers/harness';
import { subscriptionClient } from './helpers/subscriptions';

const TASK = 'subscription ($id: ID!) { taskUpdated(id: $id) { id status report { summary files { fileName } } } }';
const BALANCE = 'subscription { balanceChanged { credits } }';
/** The compiled service, next to the compiled tests. */
const DIST = join(__dirname, '..', 'src');
/** The test harness signs tokens with this secret; the API process must verify them. */
const JWT_SECRET = 'test-jwt-secret-that-is-long-enough-1234567890';

/*
 * Events cross processes: the analysis worker runs as its own process (`node dist/src/worker.js`) and a second
 * API instance as another; subscriptions on either API instance see what the other processes did. PostgreSQL
 * only: the embedded database lives inside the test process.
 */
if (process.env.TEST_DATABASE_URL) {
  describe('subscriptions across processes (postgres)', () => {
    // No worker here: the analysis runs in the worker process, on the same storage folder.
    const t = new TestApp('postgres', { AGENT_WORKER_IN_PROCESS: 'false' });
    const children: ChildProcess[] = [];
    const clients: { dispose: () => unknown }[] = [];
    const otherDataDir = mkdtempSync(join(tmpdir(), 'clara-api-process-'));
    let otherUrl = '';
    const spawnNode = (script: string, env: Record<string, string>) => {
      const child = spawn(process.execPath, [join(DIST, script)], {
        env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: t.databaseUrl, DATABASE_POOL_MAX: '2', ...env },
        stdio: 'ignore',
      });
      children.push(child);
      return child;
    };

    before(async () => {
      await t.start();
      const port = await freePort();
      spawnNode('main.js', { HOST: '127.0.0.1', PORT: String(port), JWT_SECRET, DATA_DIR: otherDataDir, AGENT_WORKER_IN_PROCESS: 'false', RATE_LIMIT_PER_SECOND: '10000' });
      otherUrl = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      while (!(await fetch(`${otherUrl}/api/v1/version`).then((r) => r.ok, () => false))) {
        assert.ok(Date.now() < deadline, 'the second API process did not start');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    after(async () => {
      for (const client of clients) await client.dispose();
      await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM'))))));
      await t.stop();
      rmSync(otherDataDir, { recursive: true, force: true });
    });

    test('an analysis started on one API instance and run by the worker process is followed to COMPLETED on both instances', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 50);
      const started = await postAnalysis(t, user, { 'notes.txt': 'Acme hired 250 engineers in Berlin in 2022.' }, { prompt: 'Check the hiring claim.' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const taskId = started.body.data.id as string;

      const here = subscriptionClient(t, user.token);
      const there = subscriptionClient(t, user.token, otherUrl);
      clients.push(here, there);
      const watches = [here.watch(TASK, { id: taskId }), there.watch(TASK, { id: taskId })];
      // No worker runs yet, so both see the task queued; everything after comes from the worker process.
      for (const watch of watches) await watch.until((w) => w.results.length === 1, 'the current state');
      spawnNode('worker.js', { DATA_DIR: t.config.dataDir, AGENT_STORAGE_DIR: t.config.agentStorageDir, AGENT_WORKER_CONCURRENCY: '1' });
      for (const watch of watches) {
        await watch.until((w) => w.ended, 'the subscription completes', 60_000);
        assert.equal(watch.failure, undefined);
        const statuses = watch.results.map((result) => result.data.taskUpdated.status);
        assert.equal(statuses[0], 'QUEUED');
        const last = watch.results.at(-1)!.data.taskUpdated;
        assert.equal(last.status, 'COMPLETED');
        assert.ok(last.report.summary, 'the report came with the final state');
        assert.deepEqual(last.report.files.map((file: { fileName: string }) => file.fileName), ['notes.txt']);
      }
    });

    test('a balance subscription on the second API process sees credits granted through the first', async () => {
      const user = await t.activeUser();
      const there = subscriptionClient(t, user.token, otherUrl);
      clients.push(there);
      const watch = there.watch(BALANCE);
      await watch.until((w) => w.results.length === 1, 'the current balance');
      await grantCredits(t, user.id, 12);
      await watch.until((w) => w.results.length === 2, 'the grant', 10_000);
      assert.deepEqual(watch.results.map((result) => result.data.balanceChanged.credits), [0, 12]);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
