import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { HostileFileError } from '../../src/agent/analysis';
import { FileSandbox } from '../../src/agent/file-sandbox';
import { committedFixture, denseDocx, docxBomb, docxBombWithLyingHeaders, jpegWithExif } from '../helpers/agent-fixtures';
import { grantCredits, postAnalysis, waitForTask } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';
import { until } from '../helpers/until';

type User = { id: string; token: string };
const HOUR_MS = 3_600_000;

let dense: Promise<Buffer> | undefined;
/** ~8 MB of tiny paragraphs (under 1 MB zipped, inside every zip limit): parsing it needs far more than 64 MB of heap, and seconds. */
const denseDocument = () => (dense ??= denseDocx(8));

async function ledger(t: TestApp, user: User): Promise<any[]> {
  return (await t.rest('GET', `/users/${user.id}/transactions?limit=100`, { auth: user.token })).body.data;
}

async function taskStatus(t: TestApp, user: User, taskId: string): Promise<string> {
  return (await t.rest('GET', `/users/${user.id}/tasks/${taskId}`, { auth: user.token })).body.data.status;
}

const taskFolders = (t: TestApp) => (existsSync(t.config.agentStorageDir) ? readdirSync(t.config.agentStorageDir).filter((name) => name.startsWith('task_')) : []);

describe(`a time-out is retried before it counts as hostile (${testDatabases()[0]})`, () => {
  const t = new TestApp(testDatabases()[0], { AGENT_SANDBOX_TIMEOUT_MS: '500', AGENT_RETRY_LIMIT: '1', AGENT_RETRY_DELAY_SECONDS: '0' });
  before(() => t.start());
  after(() => t.stop());

  test('a file that times out on every attempt is tried again, then refused as hostile: charged once, no refund', async () => {
    const user = await t.activeUser();
    await grantCredits(t, user.id, 20);
    const started = await postAnalysis(t, user, { 'slow.docx': await denseDocument() });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const done = await waitForTask(t, user, started.body.data.id, 60_000);
    assert.equal(done.status, 'failed');
    assert.match(done.error, /took longer than the limit of 0\.5 s/);
    const gql = await t.gql('query ($id: ID!) { viewer { task(id: $id) { attempts refund { id } } } }', { id: started.body.data.id }, user.token);
    assert.deepEqual(gql.body.data.viewer.task, { attempts: 2, refund: null }, 'one retry (a busy machine may time out once), then hostile');
    assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.credits, 0);
  });
});

/** The user paid 20 for a task that failed as hostile: one charge, no refund, no retry, no files left. */
async function assertRefusedAsHostile(t: TestApp, user: User, taskId: string, reason: RegExp): Promise<void> {
  const done = await waitForTask(t, user, taskId, 60_000);
  assert.equal(done.status, 'failed');
  assert.match(done.error, reason);
  const rows = await ledger(t, user);
  assert.equal(rows.filter((row) => row.type === 'DEBIT').length, 1, 'charged once');
  assert.equal(rows.filter((row) => row.type === 'CREDIT' && /Refund/.test(row.description)).length, 0, 'no refund');
  const gql = await t.gql('query ($id: ID!) { viewer { task(id: $id) { attempts refund { id } } } }', { id: taskId }, user.token);
  assert.deepEqual(gql.body.data.viewer.task, { attempts: 1, refund: null }, 'failed at once, not retried, not refunded');
  assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.credits, 0);
  assert.ok(!taskFolders(t).includes(taskId), "the hostile upload's files are deleted at once");
  assert.equal((await t.rest('GET', '/health')).status, 200, 'the API process is alive');
}

/**
 * Asks for /health again and again while the task is being processed; counts the answers that came while the
 * task was running both before and after the request (so it was surely being processed meanwhile).
 */
async function healthAnswersWhileRunning(t: TestApp, user: User, taskId: string): Promise<number> {
  let answered = 0;
  for (;;) {
    const before = await taskStatus(t, user, taskId);
    if (before === 'completed' || before === 'failed') return answered;
    const health = await t.rest('GET', '/health');
    assert.equal(health.status, 200);
    if (before === 'running' && (await taskStatus(t, user, taskId)) === 'running') answered++;
    await delay(50);
  }
}

for (const db of testDatabases()) {
  describe(`hostile files (${db})`, () => {
    // A small sandbox heap keeps the memory attack quick (and a long time limit makes sure memory is what stops
    // it); retries are on, to show hostile files skip them; queue maintenance, and so the upload sweep, every second.
    const t = new TestApp(db, {
      AGENT_SANDBOX_MEMORY_MB: '64',
      AGENT_SANDBOX_TIMEOUT_MS: '120000',
      AGENT_RETRY_LIMIT: '2',
      AGENT_RETRY_DELAY_SECONDS: '0',
      AGENT_QUEUE_MAINTENANCE_SECONDS: '1',
    });
    before(() => t.start());
    after(() => t.stop());

    const payingUser = async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      return user;
    };

    test('a docx bomb (100 MB document.xml in a small zip) fails at once as hostile: charged once, not refunded, API alive', async () => {
      const bomb = await docxBomb();
      assert.ok(bomb.length < 400_000, `the bomb is ${bomb.length} bytes`);
      const user = await payingUser();
      const started = await postAnalysis(t, user, { 'report.docx': bomb }, { prompt: 'Summarise this report.' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      await assertRefusedAsHostile(t, user, started.body.data.id, /"report\.docx" is a zip bomb/);
      const done = await waitForTask(t, user, started.body.data.id);
      assert.match(done.error, /more than 100× its compressed size/);
    });

    test('a docx bomb whose zip headers understate its size is stopped where it passes the declared size', async () => {
      const user = await payingUser();
      const started = await postAnalysis(t, user, { 'small.docx': await docxBombWithLyingHeaders(4096) });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      await assertRefusedAsHostile(t, user, started.body.data.id, /small\.docx.*inflates past the 4096 bytes its header declares/);
    });

    test('a docx that exhausts the sandbox heap is stopped; /health answers while it is being read', async () => {
      const user = await payingUser();
      const started = await postAnalysis(t, user, { 'dense.docx': await denseDocument() });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      assert.ok((await healthAnswersWhileRunning(t, user, started.body.data.id)) > 0, 'health answered while the task was running');
      await assertRefusedAsHostile(t, user, started.body.data.id, /more than the limit of 64 MB of memory/);
    });

    test('refused requests leave no files behind', async () => {
      const before = taskFolders(t);
      const user = await payingUser();
      const image = jpegWithExif();
      const six = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`photo${i}.jpg`, image]));
      assert.equal((await postAnalysis(t, user, six)).status, 400);
      // The first files are fine; the last is text posing as an image.
      assert.equal((await postAnalysis(t, user, { 'a.jpg': image, 'b.png': committedFixture('tiny.png'), 'c.jpg': 'not an image' })).status, 400);
      const inline = await t.gql(
        'mutation ($i: StartAnalysisInput!) { startAnalysis(input: $i) { task { id } userErrors { code } } }',
        { i: { prompt: 'x', files: [{ name: 'a.jpg', contentBase64: image.toString('base64') }, { name: 'b.zip', contentBase64: committedFixture('plain.zip').toString('base64') }] } },
        user.token,
      );
      assert.deepEqual(inline.body.data.startAnalysis, { task: null, userErrors: [{ code: 'BAD_REQUEST' }] });
      const broke = await t.activeUser();
      assert.equal((await postAnalysis(t, broke, { 'a.jpg': image })).status, 403);
      // Two requests race for credits that pay for one: the loser's files go too.
      const raced = await Promise.all([postAnalysis(t, user, { 'a.jpg': image }), postAnalysis(t, user, { 'b.jpg': image })]);
      assert.deepEqual(raced.map((r) => r.status).sort(), [201, 403]);
      const accepted = raced.find((r) => r.status === 201)!.body.data.id;
      assert.deepEqual(taskFolders(t).filter((name) => !before.includes(name)), [accepted]);
      await waitForTask(t, user, accepted);
    });

    test('uploads are deleted once the retention period after the task finished has passed (injected clock)', async () => {
      const user = await payingUser();
      const done = await waitForTask(t, user, (await postAnalysis(t, user, { 'note.txt': 'The bridge opened in 1932.' })).body.data.id);
      assert.equal(done.status, 'completed', 'after the attacks above, the sandbox reads honest files again');
      // A folder no task row owns: a request that never committed.
      const orphan = `task_${'0'.repeat(31)}1`;
      mkdirSync(join(t.config.agentStorageDir, orphan));
      const finishedAt = Date.now();
      const sweep = (hoursLater: number) => t.app.services.tasks.removeExpiredUploads(t.orm.em.fork() as EntityManager, new Date(finishedAt + hoursLater * HOUR_MS));
      await sweep(23); // default AGENT_UPLOAD_RETENTION_HOURS: 24
      assert.ok(taskFolders(t).includes(done.id), 'kept within the retention period');
      assert.ok(taskFolders(t).includes(orphan));
      await sweep(25);
      assert.ok(!taskFolders(t).includes(done.id), 'deleted after it');
      assert.ok(!taskFolders(t).includes(orphan));
      // The task itself stays, with its result.
      const kept = await t.rest('GET', `/users/${user.id}/tasks/${done.id}`, { auth: user.token });
      assert.equal(kept.body.data.status, 'completed');
    });

    test("the worker's periodic sweep deletes expired uploads on its own", async () => {
      // Written two days ago by a request that never committed: past the 24 h retention.
      const stale = `task_${'0'.repeat(31)}2`;
      const path = join(t.config.agentStorageDir, stale);
      mkdirSync(path, { recursive: true });
      const twoDaysAgo = new Date(Date.now() - 48 * HOUR_MS);
      utimesSync(path, twoDaysAgo, twoDaysAgo);
      await until(() => !taskFolders(t).includes(stale), 'the sweep deletes the stale folder', { timeoutMs: 30_000, intervalMs: 100 });
    });
  });
}

describe('the file sandbox', () => {
  // (The hostile suite above shows a sandbox serving honest files again after a thread ran out of memory.)
  test('a file that takes longer than the time limit to read is stopped and refused as hostile', async () => {
    const sandbox = new FileSandbox({ memoryMb: 256, timeoutMs: 500 });
    try {
      await assert.rejects(sandbox.run({ kind: 'extract', prompt: '', uploads: [{ fileName: 'slow.docx', bytes: await denseDocument() }] }), (error: unknown) => {
        assert.ok(error instanceof HostileFileError, String(error));
        assert.match(error.message, /took longer than the limit of 0\.5 s/);
        return true;
      });
    } finally {
      await sandbox.close();
    }
  });
});
