import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Upload } from '../../src/agent/upload.entity';
import { jpegWithExif } from '../helpers/agent-fixtures';
import { grantCredits, waitForTask } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

type User = { id: string; token: string };
const HOUR_MS = 3_600_000;
const MAX_FILE_BYTES = 200_000;
const START = `mutation ($input: StartAnalysisInput!) {
  startAnalysis(input: $input) { task { id status cost inputs { fileName sizeBytes category mimeType } } userErrors { code message field } } }`;

/** Uploads as documented: multipart/form-data, each file part named by its file name. */
async function upload(t: TestApp, auth: string | undefined, files: [string, Uint8Array | string][]) {
  const form = new FormData();
  for (const [name, bytes] of files) form.append(name, new Blob([typeof bytes === 'string' ? bytes : Buffer.from(bytes)]), name);
  return t.restForm('/uploads', form, auth);
}

const uploadFolders = (t: TestApp) => (existsSync(t.config.agentStorageDir) ? readdirSync(t.config.agentStorageDir).filter((name) => name.startsWith('upload_')) : []);
const uploadRows = (t: TestApp, userId: string) => (t.orm.em.fork() as EntityManager).count(Upload, { owner: userId });

async function balance(t: TestApp, user: User): Promise<number> {
  return (await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.credits;
}

/**
 * Sends only the headers and the first bytes of a 5 MB multipart body on a raw socket and reads what the server
 * answers: the rest of the body is never sent, so an answer at all proves the server did not wait for it.
 */
function answerToTruncatedUpload(t: TestApp, authorization: string | null): Promise<string> {
  const { hostname, port } = new URL(t.baseUrl);
  const boundary = 'clara-test-boundary';
  const head = `--${boundary}\r\ncontent-disposition: form-data; name="big.txt"; filename="big.txt"\r\ncontent-type: text/plain\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        [
          'POST /api/v1/uploads HTTP/1.1',
          `host: ${hostname}:${port}`,
          ...(authorization ? [`authorization: ${authorization}`] : []),
          `content-type: multipart/form-data; boundary=${boundary}`,
          `content-length: ${5 * 1024 * 1024}`,
          '',
          head + 'x'.repeat(1024),
        ].join('\r\n'),
      );
    });
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      const [headers, body] = answer.split('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(headers ?? '');
      if (body !== undefined && length && Buffer.byteLength(body) >= Number(length[1])) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

for (const db of testDatabases()) {
  describe(`two-step uploads (${db})`, () => {
    const t = new TestApp(db, { AGENT_MAX_FILE_BYTES: String(MAX_FILE_BYTES) });
    before(() => t.start());
    after(() => t.stop());

    const payingUser = async (credits = 100) => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, credits);
      return user;
    };

    test('upload two files, start an analysis with their ids over GraphQL: the task completes, charged once', async () => {
      const user = await payingUser();
      const photo = jpegWithExif();
      const res = await upload(t, user.token, [['eiffel.jpg', photo], ['note.txt', 'The tower was finished in 1889.']]);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'success');
      const [image, note] = res.body.data;
      assert.match(image.id, /^upload_[0-9a-f]{32}$/);
      assert.deepEqual(image, { id: image.id, file_name: 'eiffel.jpg', size_bytes: photo.length, category: 'image', mime_type: 'image/jpeg' });
      assert.deepEqual(note, { id: note.id, file_name: 'note.txt', size_bytes: 31, category: 'document/text', mime_type: 'text/plain' });
      assert.equal(await balance(t, user), 100, 'uploading is free');

      const started = await t.gql(START, { input: { prompt: 'When was the tower finished?', uploadIds: [image.id, note.id] } }, user.token);
      assert.deepEqual(started.body.data.startAnalysis.userErrors, [], JSON.stringify(started.body));
      const task = started.body.data.startAnalysis.task;
      assert.deepEqual(task.inputs.map((input: any) => [input.fileName, input.sizeBytes, input.category]), [['eiffel.jpg', photo.length, 'image'], ['note.txt', 31, 'document/text']]);
      const done = await waitForTask(t, user, task.id);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.match(JSON.stringify(done.result), /1889/, 'the uploaded text was read');
      assert.equal(await balance(t, user), 80);
      const debits = (await t.rest('GET', `/users/${user.id}/transactions?type=DEBIT`, { auth: user.token })).body.data;
      assert.equal(debits.length, 1, 'charged once');
      assert.ok(!uploadFolders(t).includes(image.id) && !uploadFolders(t).includes(note.id), "the uploads' own files are gone: the task holds its copies");

      // Consumed once: the same id for a second task is refused, and nothing is charged.
      const again = await t.gql(START, { input: { prompt: 'Again', uploadIds: [note.id] } }, user.token);
      assert.equal(again.body.data.startAnalysis.task, null);
      assert.deepEqual(again.body.data.startAnalysis.userErrors.map((e: any) => [e.code, e.field]), [['CONFLICT', ['input', 'uploadIds', '0']]]);
      assert.equal(await balance(t, user), 80);
    });

    test("an API key of an active account may upload; MCP's agent_analysis takes uploadIds", async () => {
      const user = await payingUser();
      const key = (await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data;
      const res = await upload(t, `Bearer ${key.token}`, [['a.txt', 'The bridge opened in 1932.']]);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const client = new Client({ name: 'clara-tests', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${t.baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key.token}`, 'user-id': user.id } } }));
      const result = await client.callTool({ name: 'agent_analysis', arguments: { prompt: 'When did it open?', uploadIds: [res.body.data[0].id] } }).finally(() => client.close());
      assert.equal(result.isError, undefined, JSON.stringify(result.content));
      const task = result.structuredContent as any;
      assert.deepEqual(task.inputs.map((input: any) => input.fileName), ['a.txt']);
      assert.equal((await waitForTask(t, user, task.id)).status, 'completed');
    });

    // Without the check first, the server would wait for the rest of the body: the timeout turns that hang into a failure.
    test('no credentials or an invalid token: 401 answered before the 5 MB body is sent, nothing stored', { timeout: 15_000 }, async () => {
      const before = uploadFolders(t);
      for (const authorization of [null, 'Bearer not-a-real-token']) {
        const answer = await answerToTruncatedUpload(t, authorization);
        assert.match(answer, /^HTTP\/1\.1 401 /, answer);
        const body = JSON.parse(answer.split('\r\n\r\n')[1]);
        assert.equal(body.status, 'error');
        assert.equal(body.data, null);
        assert.equal(typeof body.message, 'string');
      }
      assert.deepEqual(uploadFolders(t), before);
    });

    test('an account not yet activated is refused before its body is read', async () => {
      const inactive = await t.register();
      const answer = await answerToTruncatedUpload(t, inactive.token);
      assert.match(answer, /^HTTP\/1\.1 40[13] /, answer);
      assert.equal(await uploadRows(t, inactive.id), 0);
    });

    test('too many files, a file over the limit, a disguised type: refused in the envelope, nothing kept', async () => {
      const user = await t.activeUser();
      const before = uploadFolders(t);
      const six = Array.from({ length: 6 }, (_, i): [string, string] => [`n${i}.txt`, `note ${i}`]);
      const tooMany = await upload(t, user.token, six);
      assert.equal(tooMany.status, 400, JSON.stringify(tooMany.body));
      assert.match(tooMany.body.message, /At most 5 files/);

      const big = await upload(t, user.token, [['ok.txt', 'fine'], ['big.txt', 'x'.repeat(MAX_FILE_BYTES + 1)]]);
      assert.equal(big.status, 413, JSON.stringify(big.body));
      assert.deepEqual([big.body.status, big.body.data], ['error', null]);
      assert.match(big.body.message, /big\.txt is larger than the limit of 200000 bytes/);
      const exact = await upload(t, user.token, [['exact.txt', 'x'.repeat(MAX_FILE_BYTES)]]);
      assert.equal(exact.status, 201, 'a file of exactly the limit is accepted');

      const disguised = await upload(t, user.token, [['ok.txt', 'fine'], ['photo.jpg', 'MZ this is not a jpeg']]);
      assert.equal(disguised.status, 400, JSON.stringify(disguised.body));
      assert.match(disguised.body.message, /photo\.jpg" is named as image but holds EXE content/);

      const textPart = new FormData();
      textPart.append('prompt', 'hello');
      const text = await t.restForm('/uploads', textPart, user.token);
      assert.equal(text.status, 400);
      const json = await t.rest('POST', '/uploads', { auth: user.token, body: { files: [] } });
      assert.equal(json.status, 400);

      assert.deepEqual(uploadFolders(t).filter((name) => !before.includes(name)), [exact.body.data[0].id], 'only the accepted upload is stored');
      assert.equal(await uploadRows(t, user.id), 1);
    });

    test("someone else's upload id or an unknown one: NOT_FOUND user error, nothing charged", async () => {
      const owner = await payingUser();
      const other = await payingUser();
      const theirs = (await upload(t, owner.token, [['secret.txt', 'Owner data']])).body.data[0].id;
      for (const id of [theirs, `upload_${'0'.repeat(32)}`, 'not-an-id']) {
        const res = await t.gql(START, { input: { prompt: 'Read it', uploadIds: [id] } }, other.token);
        assert.equal(res.body.data.startAnalysis.task, null);
        assert.deepEqual(res.body.data.startAnalysis.userErrors.map((e: any) => [e.code, e.field]), [['NOT_FOUND', ['input', 'uploadIds', '0']]]);
      }
      assert.equal(await balance(t, other), 100);
      assert.equal((await t.rest('GET', `/users/${other.id}/tasks`, { auth: other.token })).body.data.length, 0);
      // The owner's upload is untouched and still usable by the owner.
      const own = await t.gql(START, { input: { prompt: 'Read it', uploadIds: [theirs] } }, owner.token);
      assert.deepEqual(own.body.data.startAnalysis.userErrors, []);
    });

    test('the same upload in three concurrent analyses: exactly one task, charged once (the conditional consume in the charge transaction)', async () => {
      const user = await payingUser();
      const id = (await upload(t, user.token, [['race.txt', 'The race was won in 2001.']])).body.data[0].id;
      const results = await Promise.all([1, 2, 3].map(() => t.gql(START, { input: { prompt: 'x', uploadIds: [id] } }, user.token)));
      const payloads = results.map((res) => res.body.data.startAnalysis);
      assert.equal(payloads.filter((payload) => payload.task).length, 1, JSON.stringify(payloads));
      for (const refused of payloads.filter((payload) => !payload.task)) assert.deepEqual(refused.userErrors.map((e: any) => e.code), ['CONFLICT']);
      assert.equal(await balance(t, user), 80);
    });

    test('more than five files in all (inline and uploaded) is refused, nothing charged', async () => {
      const user = await payingUser();
      const ids = (await upload(t, user.token, Array.from({ length: 5 }, (_, i): [string, string] => [`u${i}.txt`, `upload ${i}`]))).body.data.map((u: any) => u.id);
      const res = await t.gql(START, { input: { prompt: 'x', uploadIds: ids, files: [{ name: 'inline.txt', contentBase64: Buffer.from('inline').toString('base64') }] } }, user.token);
      assert.deepEqual(res.body.data.startAnalysis.userErrors.map((e: any) => e.code), ['BAD_REQUEST']);
      assert.equal(await balance(t, user), 100);
    });

    test('/graphql refuses a JSON body over 1 MB with 413', async () => {
      const user = await t.activeUser();
      const body = JSON.stringify({ query: START, variables: { input: { prompt: 'x', files: [{ name: 'big.txt', contentBase64: 'A'.repeat(1024 * 1024) }] } } });
      const response = await fetch(`${t.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: user.token }, body });
      assert.equal(response.status, 413);
      const mcp = await fetch(`${t.baseUrl}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: user.token }, body });
      assert.equal(mcp.status, 413);
    });

    test('uploads never used by a task are deleted after the retention period (injected clock)', async () => {
      const user = await payingUser();
      const [unused, used] = (await upload(t, user.token, [['unused.txt', 'never used'], ['used.txt', 'used']])).body.data.map((u: any) => u.id);
      const started = await t.gql(START, { input: { prompt: 'x', uploadIds: [used] } }, user.token);
      assert.deepEqual(started.body.data.startAnalysis.userErrors, []);
      const uploadedAt = Date.now();
      const sweep = (hoursLater: number) => t.app.services.tasks.removeExpiredUploads(t.orm.em.fork() as EntityManager, new Date(uploadedAt + hoursLater * HOUR_MS));
      await sweep(23); // default AGENT_UPLOAD_RETENTION_HOURS: 24
      assert.ok(uploadFolders(t).includes(unused), 'kept within the retention period');
      await sweep(25);
      assert.ok(!uploadFolders(t).includes(unused), 'deleted after it');
      const rows = await (t.orm.em.fork() as EntityManager).find(Upload, { owner: user.id });
      assert.deepEqual(rows.map((row) => [row.id, row.taskId]), [[used, started.body.data.startAnalysis.task.id]], 'the used upload stays recorded with its task');
    });
  });
}
