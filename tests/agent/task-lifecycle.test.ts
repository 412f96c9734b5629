import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grantCredits, postAnalysis, waitForTask } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { FakeModel } from '../helpers/fake-model';
import { TestApp } from '../helpers/harness';
import { deploymentEnv, startWorker, type ServiceProcess } from '../helpers/service-process';
import { until } from '../helpers/until';

const modelEnv = (model: FakeModel) => ({ AGENT_OPENAI_BASE_URL: model.url, AGENT_OPENAI_API_KEY: 'sk-test', AGENT_MODEL: 'test-model', AGENT_TIMEOUT_MS: '20000' });

async function ledger(t: TestApp, user: { id: string; token: string }) {
  return (await t.rest('GET', `/users/${user.id}/transactions?limit=100`, { auth: user.token })).body.data as any[];
}

for (const db of testDatabases()) {
  describe(`task lifecycle with a model (${db})`, () => {
    const model = new FakeModel();
    let t: TestApp;
    before(async () => {
      await model.start();
      t = await new TestApp(db, { ...modelEnv(model), AGENT_RETRY_LIMIT: '1', AGENT_RETRY_DELAY_SECONDS: '0' }).start();
    });
    after(async () => {
      await t.stop();
      await model.stop();
    });

    test('with a model configured the verdict comes from it', async () => {
      model.behaviour = 'verdict';
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const started = await postAnalysis(t, user, {}, { prompt: 'The bridge opened in 1932.' });
      const done = await waitForTask(t, user, started.body.data.id);
      assert.equal(done.status, 'completed');
      assert.equal(done.result.claims[0].assessment, 'contradicted');
      assert.equal(done.result.provider.model, 'test-model');
    });

    test('a task that keeps failing is retried, then failed and refunded exactly once', async () => {
      model.behaviour = 'error-500';
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const before = model.requests;
      const started = await postAnalysis(t, user, {}, { prompt: 'Will this fail? 2 + 2 = 5.' });
      assert.equal(started.status, 201);
      const done = await waitForTask(t, user, started.body.data.id);
      assert.equal(done.status, 'failed');
      assert.ok(done.error && !/stack|at .*\.js/.test(done.error), done.error);
      assert.equal(model.requests - before, 2, 'the first try and one retry');
      const rows = await ledger(t, user);
      assert.equal(rows.filter((r) => r.type === 'DEBIT').length, 1);
      assert.equal(rows.filter((r) => r.type === 'CREDIT' && /Refund/.test(r.description)).length, 1);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.credits, 20);
      const gql = await t.gql('query ($id: ID!) { node(id: $id) { ... on Task { refund { valueInCredits type } attempts } } }', { id: done.id }, user.token);
      assert.deepEqual(gql.body.data.node.refund, { valueInCredits: 20, type: 'CREDIT' });
      assert.equal(gql.body.data.node.attempts, 2);
    });

    test('a final model error (401) fails at once, refunded once', async () => {
      model.behaviour = 'error-401';
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const before = model.requests;
      const done = await waitForTask(t, user, (await postAnalysis(t, user, {}, { prompt: 'Check 3 facts.' })).body.data.id);
      assert.equal(done.status, 'failed');
      assert.equal(model.requests - before, 1);
      assert.equal((await ledger(t, user)).filter((r) => r.type === 'CREDIT' && /Refund/.test(r.description)).length, 1);
    });

    test('live progress over Server-Sent Events ends with the completed task', async () => {
      model.behaviour = 'verdict';
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const started = (await postAnalysis(t, user, {}, { prompt: 'Stream this: 7 wonders.' })).body.data;
      const response = await fetch(`${t.baseUrl}/api/v1/users/${user.id}/tasks/${started.id}/events`, { headers: { authorization: user.token } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
      const events = (await response.text()).split('\n\n').filter(Boolean).map((block) => JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
      assert.ok(events.length >= 1);
      assert.equal(events.at(-1).status, 'completed');
      assert.equal(events.at(-1).id, started.id);
      const stranger = await t.activeUser();
      const refused = await fetch(`${t.baseUrl}/api/v1/users/${user.id}/tasks/${started.id}/events`, { headers: { authorization: stranger.token } });
      assert.equal(refused.status, 403);
    });
  });

  describe(`an open progress stream and logout (${db})`, () => {
    const model = new FakeModel();
    let t: TestApp;
    before(async () => {
      await model.start();
      t = await new TestApp(db, modelEnv(model)).start();
    });
    after(async () => {
      // The model first: the hanging analysis then fails (and is queued for retry) while the database is up.
      await model.stop();
      await t.stop();
    });

    test('logging out ends a stream that is still open', async () => {
      model.behaviour = 'hang';
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const task = (await postAnalysis(t, user, {}, { prompt: 'This will take a while: 9 planets.' })).body.data;
      const session = `Bearer ${(await t.login(user.email, user.password)).body.data.token}`;
      const response = await fetch(`${t.baseUrl}/api/v1/users/${user.id}/tasks/${task.id}/events`, { headers: { authorization: session } });
      assert.equal(response.status, 200);
      // The stream is open once its first event (the task as it is) has arrived: only then log out.
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes('\n\n')) text += Buffer.from((await reader.read()).value!).toString('utf8');
      assert.match(text, /event: task\n/);
      assert.equal((await t.rest('DELETE', '/auth/session', { auth: session })).status, 204);
      const started = Date.now();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += Buffer.from(chunk.value).toString('utf8');
      assert.ok(Date.now() - started < 10_000, 'the stream closed soon after logout');
    });
  });

  describe(`a killed worker (${db})`, () => {
    const model = new FakeModel();
    let t: TestApp;
    const workers: ServiceProcess[] = [];
    before(async () => {
      await model.start();
      t = await new TestApp(db, { ...modelEnv(model), AGENT_WORKER_IN_PROCESS: 'false', AGENT_JOB_EXPIRE_SECONDS: '2', AGENT_QUEUE_MAINTENANCE_SECONDS: '1', AGENT_RETRY_DELAY_SECONDS: '0' }).start();
    });
    after(async () => {
      for (const worker of workers) await worker.stop('SIGKILL');
      await t.stop();
      await model.stop();
    });

    const startOneWorker = async () => {
      const worker = await startWorker(deploymentEnv(t.databaseUrl, { ...t.env, DATABASE_POOL_MAX: '1', DATA_DIR: t.config.dataDir, AGENT_STORAGE_DIR: t.config.agentStorageDir, AGENT_WORKER_CONCURRENCY: '1' }));
      workers.push(worker);
      return worker;
    };

    test('the task is retried by another worker and completed, charged once', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 50);
      model.behaviour = 'hang';
      const task = (await postAnalysis(t, user, {}, { prompt: 'Survive a crash: 42 is the answer.' })).body.data;
      const first = await startOneWorker();
      await until(() => model.requests >= 1, 'the first worker to call the model', { timeoutMs: 30_000 });
      await first.stop('SIGKILL');
      model.behaviour = 'verdict';
      await startOneWorker();
      const done = await waitForTask(t, user, task.id, 60_000);
      assert.equal(done.status, 'completed');
      const gql = await t.gql('query ($id: ID!) { viewer { task(id: $id) { attempts refund { id } } } }', { id: task.id }, user.token);
      assert.ok(gql.body.data.viewer.task.attempts >= 2, `attempts ${gql.body.data.viewer.task.attempts}`);
      assert.equal(gql.body.data.viewer.task.refund, null);
      const rows = await ledger(t, user);
      assert.equal(rows.filter((r) => r.type === 'DEBIT').length, 1, 'charged once');
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.credits, 30);
    });
  });
}
