import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXIF, jpegWithExif } from '../helpers/agent-fixtures';
import { grantCredits, postAnalysis, waitForTask } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

const CLAIM = 'The Eiffel Tower photo was taken on 1 May 2023 and shows 3,000 protesters.';

for (const db of testDatabases()) {
  describe(`agent analysis end to end (${db})`, () => {
    const t = new TestApp(db, { AGENT_MAX_FILE_BYTES: '200000' });
    before(() => t.start());
    after(() => t.stop());

    const balance = async (user: { id: string; token: string }) => (await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.credits;
    const taskCount = async (user: { id: string; token: string }) => (await t.rest('GET', `/users/${user.id}/tasks`, { auth: user.token })).body.data.length;

    test('supported attachments, by category, on REST and GraphQL', async () => {
      const user = await t.activeUser();
      const res = await t.rest('GET', `/users/${user.id}/agent/supported_attachments`, { auth: user.token });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body.data).sort(), ['audio/video', 'document/text', 'image']);
      assert.ok(res.body.data.image.includes('.jpg'));
      assert.ok(res.body.data['document/text'].includes('.pdf'));
      const other = await t.activeUser();
      assert.equal((await t.rest('GET', `/users/${other.id}/agent/supported_attachments`, { auth: user.token })).status, 403);
    });

    test('REST: an image with EXIF and a text claim → 201 queued, charged 20 once, completed with a local report', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const res = await postAnalysis(t, user, { 'eiffel.jpg': jpegWithExif() }, { prompt: CLAIM });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const task = res.body.data;
      assert.match(task.id, /^task_[0-9a-f]{32}$/);
      assert.equal(task.user_id, user.id);
      assert.ok(['queued', 'running', 'completed'].includes(task.status));
      assert.equal(task.cost, 20);
      assert.deepEqual(task.inputs.map((i: any) => [i.file_name, i.category]), [['eiffel.jpg', 'image']]);
      assert.match(task.created_at, /GMT$/);
      assert.equal(await balance(user), 80);

      const done = await waitForTask(t, user, task.id);
      assert.equal(done.status, 'completed');
      const report = JSON.stringify(done.result);
      assert.match(report, new RegExp(EXIF.model));
      assert.match(report, /Photoshop/);
      assert.match(report, /3,000|3000/, 'the claim from the prompt is in the report');

      const ledger = (await t.rest('GET', `/users/${user.id}/transactions?type=DEBIT`, { auth: user.token })).body.data;
      assert.equal(ledger.length, 1);
      assert.equal(ledger[0].value_in_credits, 20);
      const gql = await t.gql(
        `query ($id: ID!) { viewer { task(id: $id) { status charge { id valueInCredits task { id } } refund { id } attempts
          report { kind summary confidence claims { text assessment } findings { kind severity message evidence fileName } files { fileName category image { camera software captureTime gpsLatitude } findings { kind } } raw } } } }`,
        { id: task.id },
        user.token,
      );
      const viewed = gql.body.data.viewer.task;
      assert.equal(viewed.status, 'COMPLETED');
      assert.deepEqual(viewed.charge, { id: ledger[0].id, valueInCredits: 20, task: { id: task.id } }, 'a task leads to its charge, and back');
      assert.equal(viewed.refund, null);
      const typed = viewed.report;
      assert.equal(typed.kind, 'LOCAL_REPORT');
      assert.equal(typed.confidence, null);
      assert.ok(typed.claims.every((claim: { assessment: string }) => claim.assessment === 'UNVERIFIABLE'));
      const photo = typed.files.find((file: { category: string }) => file.category === 'image');
      assert.equal(photo.image.camera, 'Canon EOS 80D');
      assert.ok(typed.findings.some((f: { kind: string; severity: string; fileName: string }) => f.kind === 'EDITED' && f.severity === 'WARNING' && f.fileName === photo.fileName));
      assert.deepEqual(typed.findings.map((f: { severity: string }) => f.severity), [...typed.findings.map((f: { severity: string }) => f.severity)].sort((a, b) => ['ALERT', 'WARNING', 'INFO'].indexOf(a) - ['ALERT', 'WARNING', 'INFO'].indexOf(b)), 'most severe first');
      assert.equal(typed.raw.kind, 'local-report', 'the stored report stays available, untyped');
      assert.equal(await balance(user), 80, 'charged once');
    });

    test('GraphQL startAnalysis with an inline file; tasks list newest first, filtered by status', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 40);
      const start = await t.gql(
        'mutation ($i: StartAnalysisInput!) { startAnalysis(input: $i) { task { id status cost inputs { fileName category } } userErrors { code } } }',
        { i: { prompt: 'Is this true?', files: [{ name: 'claim.txt', contentBase64: Buffer.from('Unemployment fell to 3.2% in March 2024.').toString('base64') }] } },
        user.token,
      );
      assert.equal(start.body.errors, undefined, JSON.stringify(start.body.errors));
      const first = start.body.data.startAnalysis.task;
      assert.deepEqual(first.inputs, [{ fileName: 'claim.txt', category: 'document/text' }]);
      await waitForTask(t, user, first.id);
      const second = await postAnalysis(t, user, {}, { prompt: 'Only a question: did it rain in Paris on 2 June 2024?' });
      assert.equal(second.status, 201);
      const list = await t.rest('GET', `/users/${user.id}/tasks`, { auth: user.token });
      assert.deepEqual(list.body.data.map((task: any) => task.id), [second.body.data.id, first.id]);
      const completed = await t.rest('GET', `/users/${user.id}/tasks?status=completed&limit=5`, { auth: user.token });
      assert.ok(completed.body.data.every((task: any) => task.status === 'completed'));
      assert.ok(completed.body.data.some((task: any) => task.id === first.id));
      assert.equal((await t.rest('GET', `/users/${user.id}/tasks?status=nope`, { auth: user.token })).status, 400);
    });

    test('refusals charge nothing: too many files, empty, too large, unsupported or disguised type, not multipart', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const six = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`note${i}.txt`, `note ${i}`]));
      const cases: [string, Awaited<ReturnType<typeof postAnalysis>>][] = [
        ['six files', await postAnalysis(t, user, six, { prompt: 'x' })],
        ['empty', await postAnalysis(t, user, {}, {})],
        ['too large', await postAnalysis(t, user, { 'big.txt': 'a'.repeat(250_000) }, { prompt: 'x' })],
        ['exe', await postAnalysis(t, user, { 'tool.exe': Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'binary') }, { prompt: 'x' })],
        ['text named jpg', await postAnalysis(t, user, { 'photo.jpg': 'just some text, not an image' }, { prompt: 'x' })],
      ];
      for (const [name, res] of cases) {
        assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.status, 'error');
      }
      const json = await t.rest('POST', `/users/${user.id}/agent/analysis`, { auth: user.token, body: { prompt: 'x' } });
      assert.equal(json.status, 400);
      assert.equal(await balance(user), 100);
      assert.equal(await taskCount(user), 0);
    });

    test("each inline file's own rules apply (@ValidateNested): a name over 255 characters is a 400 BAD_REQUEST on GraphQL and REST, nothing charged", async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const longName = `${'n'.repeat(252)}.txt`;
      const content = Buffer.from('The sky is green.').toString('base64');
      const gql = await t.gql(
        'mutation ($i: StartAnalysisInput!) { startAnalysis(input: $i) { task { id } userErrors { code field message } } }',
        { i: { prompt: 'x', files: [{ name: 'fine.txt', contentBase64: content }, { name: longName, contentBase64: content }] } },
        user.token,
      );
      assert.deepEqual(gql.body.data.startAnalysis, { task: null, userErrors: [{ code: 'BAD_REQUEST', field: ['input', 'files', '1', 'name'], message: 'name must be shorter than or equal to 255 characters' }] });
      const rest = await postAnalysis(t, user, { [longName]: 'The sky is green.' }, { prompt: 'x' });
      assert.equal(rest.status, 400, JSON.stringify(rest.body));
      assert.equal(rest.body.message, 'name must be shorter than or equal to 255 characters');
      assert.equal(await balance(user), 100);
      assert.equal(await taskCount(user), 0);
    });

    test('under the minimum balance: 403, nothing charged; someone else\'s path: 403; no auth: 401', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 19);
      const poor = await postAnalysis(t, user, { 'a.txt': 'The sky is green.' }, { prompt: 'check' });
      assert.equal(poor.status, 403);
      assert.match(poor.body.message, /20 credits/);
      assert.equal(await balance(user), 19);
      const rich = await t.activeUser();
      await grantCredits(t, rich.id, 100);
      const foreign = await postAnalysis(t, { id: rich.id, token: user.token }, { 'a.txt': 'x' }, { prompt: 'x' });
      assert.equal(foreign.status, 403);
      assert.equal(await balance(rich), 100);
      assert.equal((await postAnalysis(t, { id: user.id, token: '' }, { 'a.txt': 'x' })).status, 401);
    });

    test("another user's task is refused, never shown", async () => {
      const owner = await t.activeUser();
      const stranger = await t.activeUser();
      await grantCredits(t, owner.id, 20);
      const task = (await postAnalysis(t, owner, {}, { prompt: 'Private question about 2024 numbers.' })).body.data;
      assert.equal((await t.rest('GET', `/users/${owner.id}/tasks/${task.id}`, { auth: stranger.token })).status, 403);
      const ownPath = await t.rest('GET', `/users/${stranger.id}/tasks/${task.id}`, { auth: stranger.token });
      assert.equal(ownPath.status, 404);
      assert.doesNotMatch(JSON.stringify(ownPath.body), /Private question/);
      assert.equal((await t.rest('GET', `/users/${owner.id}/tasks`, { auth: stranger.token })).status, 403);
    });

    test('20 concurrent analyses on a balance that covers 10: exactly 10 accepted, balance 0, 10 ledger rows', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 200);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => postAnalysis(t, user, {}, { prompt: `Claim number ${i}: 5 apples cost 2 dollars.` })));
      assert.equal(results.filter((r) => r.status === 201).length, 10);
      assert.equal(results.filter((r) => r.status === 403).length, 10);
      assert.equal(await balance(user), 0);
      const debits = (await t.rest('GET', `/users/${user.id}/transactions?type=DEBIT&limit=100`, { auth: user.token })).body.data;
      assert.equal(debits.length, 10);
      assert.equal(await taskCount(user), 10);
    });
  });
}
