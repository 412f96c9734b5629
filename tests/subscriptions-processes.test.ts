import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grantCredits, postAnalysis } from './helpers/agent';
import { TestApp } from './helpers/harness';
import { ApiProcess, deploymentEnv, startWorker, type ServiceProcess } from './helpers/service-process';
import { subscriptionClient } from './helpers/subscriptions';

const TASK = 'subscription ($id: ID!) { taskUpdated(id: $id) { id status report { summary files { fileName } } } }';
const BALANCE = 'subscription { balanceChanged { credits } }';

/*
 * Events cross processes: the analysis worker runs as its own process (`node dist/src/worker.js`) and a second
 * API instance as another; subscriptions on either API instance see what the other processes did. PostgreSQL
 * only: the embedded database lives inside the test process.
 */
if (process.env.TEST_DATABASE_URL) {
  describe('subscriptions across processes (postgres)', () => {
    // No worker here: the analysis runs in the worker process, on the same storage folder.
    const t = new TestApp('postgres', { AGENT_WORKER_IN_PROCESS: 'false' });
    const clients: { dispose: () => unknown }[] = [];
    // The second API instance and the worker share the harness's settings (secrets) and database.
    const processEnv = (extra: Record<string, string>) => deploymentEnv(t.databaseUrl, { DATABASE_POOL_MAX: '2', ...extra });
    let other: ApiProcess | undefined;
    let worker: ServiceProcess | undefined;

    before(async () => {
      await t.start();
      other = await new ApiProcess(processEnv({ AGENT_WORKER_IN_PROCESS: 'false' })).start();
    });
    after(async () => {
      for (const client of clients) await client.dispose();
      await Promise.all([other?.stop(), worker?.stop()]);
      await t.stop();
    });

    test('an analysis started on one API instance and run by the worker process is followed to COMPLETED on both instances', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 50);
      const started = await postAnalysis(t, user, { 'notes.txt': 'Acme hired 250 engineers in Berlin in 2022.' }, { prompt: 'Check the hiring claim.' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const taskId = started.body.data.id as string;

      const here = subscriptionClient(t, user.token);
      const there = subscriptionClient(t, user.token, other!.baseUrl);
      clients.push(here, there);
      const watches = [here.watch(TASK, { id: taskId }), there.watch(TASK, { id: taskId })];
      // No worker runs yet, so both see the task queued; everything after comes from the worker process.
      for (const watch of watches) await watch.until((w) => w.results.length === 1, 'the current state');
      worker = await startWorker(processEnv({ DATA_DIR: t.config.dataDir, AGENT_STORAGE_DIR: t.config.agentStorageDir, AGENT_WORKER_CONCURRENCY: '1' }));
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
      const there = subscriptionClient(t, user.token, other!.baseUrl);
      clients.push(there);
      const watch = there.watch(BALANCE);
      await watch.until((w) => w.results.length === 1, 'the current balance');
      await grantCredits(t, user.id, 12);
      await watch.until((w) => w.results.length === 2, 'the grant', 10_000);
      assert.deepEqual(watch.results.map((result) => result.data.balanceChanged.credits), [0, 12]);
    });
  });
}
