import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { ClaraClient, ClaraError, type ClaraErrorCode } from '../../sdk/src';
import { EXIF, jpegWithExif } from '../helpers/agent-fixtures';
import { testDatabases } from '../helpers/database';
import { useGoogleIssuer } from '../helpers/google-issuer';
import { PUBLIC_KEY } from '../helpers/harness';
import { CreditsTestApp } from '../helpers/stripe';
import { until } from '../helpers/until';

/** Resolves when `promise` rejects with a ClaraError of this code; answers the error. */
async function refusal(promise: Promise<unknown>, code: ClaraErrorCode): Promise<ClaraError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof ClaraError, String(error));
  assert.equal(error.code, code, error.message);
  return error;
}

for (const db of testDatabases()) {
  describe(`a mobile app on the SDK alone, the server in GRAPHQL_TRUSTED_DOCUMENTS=only (${db})`, () => {
    let t: CreditsTestApp;
    const google = useGoogleIssuer(async (env) => (t = await CreditsTestApp.start(db, { GRAPHQL_TRUSTED_DOCUMENTS: 'only', ...env })));

    test('Google sign-in keeps the token; a bad ID token is a typed UNAUTHENTICATED', async () => {
      const clara = new ClaraClient({ baseUrl: t.baseUrl, publicApiKey: PUBLIC_KEY, textFallback: false });
      const idToken = await google.idToken({ sub: '7700114', email: 'grace@example.com', given_name: 'Grace', family_name: 'Hopper' });
      const signedIn = await clara.signInWithGoogle({ input: { idToken } });
      assert.equal(clara.currentToken, signedIn.token);
      const viewer = await clara.viewer();
      assert.deepEqual([viewer.email, viewer.firstName, viewer.isActive], ['grace@example.com', 'Grace', true]);
      const other = new ClaraClient({ baseUrl: t.baseUrl, publicApiKey: PUBLIC_KEY, textFallback: false });
      await refusal(other.signInWithGoogle({ input: { idToken: 'not.a.token' } }), 'UNAUTHENTICATED');
      assert.equal(other.currentToken, null);
    });

    test('register, activate from the mail, log in with 2FA, buy credits, analyse a photo, read the typed report, page the ledger', async () => {
      // Every GraphQL request the SDK sends, to check it sends ids and never a document's text.
      const sent: Record<string, any>[] = [];
      const tokens: (string | null)[] = [];
      const clara = new ClaraClient({
        baseUrl: t.baseUrl,
        publicApiKey: PUBLIC_KEY,
        textFallback: false,
        onTokenChange: (token) => tokens.push(token),
        webSocketImpl: WebSocket, // Node 20 has no global WebSocket
        fetch: (input, init) => {
          if (String(input).endsWith('/graphql')) sent.push(JSON.parse(String(init?.body)));
          return fetch(input, init);
        },
      });
      const email = `app-${Math.random().toString(16).slice(2)}@example.com`;
      const password = 'correct horse battery';

      const registered = await clara.register({ input: { email, password, firstName: 'Ada', lastName: 'Lovelace' } });
      assert.equal(registered.user?.isActive, false);
      assert.equal(clara.currentToken, registered.token, 'the sign-up token is kept');
      const activated = await clara.activate({ input: { email, code: await t.mailbox.nextCode(email, 0) } });
      assert.equal(activated.user?.isActive, true);

      const wrong = await refusal(clara.login({ input: { email, password: 'not the password' } }), 'UNAUTHENTICATED');
      assert.deepEqual(wrong.details.userErrors?.map((e) => e.code), ['UNAUTHENTICATED']);
      const signedIn = await clara.login({ input: { email, password } });
      assert.equal(clara.currentToken, signedIn.token);
      assert.equal(signedIn.user?.email, email);

      // Second factor by email: turned on, then a login without the code is a typed TWO_FACTOR_REQUIRED.
      let mails = t.mailbox.countTo(email);
      await clara.sendOtp({ input: { email, type: 'TWO_FACTOR_AUTH' } });
      const enabled = await clara.enableTwoFactor({ input: { code: await t.mailbox.nextCode(email, mails) } });
      assert.equal(enabled.user?.twoFactorMethod, 'EMAIL');
      await clara.logout();
      assert.equal(clara.currentToken, null, 'logout drops the token');
      const needsCode = await refusal(clara.login({ input: { email, password } }), 'TWO_FACTOR_REQUIRED');
      assert.deepEqual(needsCode.details.field ?? null, null);
      mails = t.mailbox.countTo(email);
      await clara.sendOtp({ input: { email, type: 'TWO_FACTOR_AUTH' } });
      const withCode = await clara.login({ input: { email, password, code: await t.mailbox.nextCode(email, mails) } });
      assert.equal(clara.currentToken, withCode.token);
      assert.deepEqual(tokens, [registered.token, signedIn.token, null, withCode.token]);

      const profile = await clara.updateProfile({ input: { firstName: 'Augusta', isDarkMode: true } });
      assert.equal(profile.user?.firstName, 'Augusta');
      assert.match((await clara.apiKey()).apiKey.token, /\S{20,}/);

      // Buying credits: the Checkout page of the local Stripe server is paid, its webhook grants them.
      const rates = await clara.creditRates();
      assert.equal(rates[0].lowerLimit.amount, '5.00');
      const { checkout } = await clara.buyCredits({ input: { amount: '5.00', returnPath: '/billing' } });
      assert.equal(checkout?.valueInCredits, 500);
      assert.deepEqual(checkout?.valueInFiat, { amount: '5.00', currencyCode: 'USD', minorUnits: 500 });
      await refusal(clara.buyCredits({ input: { amount: '3.00' } }), 'NOT_FOUND');
      assert.equal((await clara.viewer()).credits, 0, 'nothing before the payment');
      // The balance subscription: the balance now, then the payment landing (as an app shows it).
      const balances: number[] = [];
      let balanceFailure: ClaraError | undefined;
      const stopBalance = clara.balanceChanged({}, { next: (viewer) => balances.push(viewer.credits), error: (error) => (balanceFailure = error) });
      await until(() => balances.length > 0 || balanceFailure !== undefined, 'the current balance', { timeoutMs: 60_000 });
      assert.deepEqual([balances, balanceFailure], [[0], undefined]);
      const paid = await t.stripe.pay(new URL(checkout!.url).pathname.split('/').pop()!);
      assert.equal(paid.status, 200);
      await until(() => balances.includes(500), 'the payment on the balance subscription', { timeoutMs: 60_000 });
      stopBalance();
      assert.equal((await clara.viewer()).credits, 500);
      assert.match((await clara.portal()).portal!.url, /^http/);

      // An analysis of a real photo: uploaded over REST, started by upload id, followed until completed.
      const photo = jpegWithExif();
      const [upload] = await clara.upload([{ name: 'tower.jpg', data: photo, type: 'image/jpeg' }]);
      assert.deepEqual({ ...upload, id: '' }, { id: '', fileName: 'tower.jpg', sizeBytes: photo.length, category: 'image', mimeType: 'image/jpeg' });
      const started = await clara.startAnalysis({ input: { prompt: 'Was this photo taken in June 2023?', uploadIds: [upload.id] } });
      const taskId = started.task!.id;
      assert.deepEqual(started.task?.inputs.map((input) => input.fileName), ['tower.jpg']);
      // Followed by the task subscription until it ends: the states as they happen, the report with COMPLETED.
      const states: NonNullable<Awaited<ReturnType<typeof clara.task>>['task']>[] = [];
      let ended = false;
      let taskFailure: ClaraError | undefined;
      clara.taskProgress({ id: taskId }, { next: (state) => states.push(state), error: (error) => (taskFailure = error), complete: () => (ended = true) });
      await until(() => ended || taskFailure !== undefined, 'the task subscription to complete', { timeoutMs: 60_000 });
      assert.equal(taskFailure, undefined);
      const task = states.at(-1);
      assert.equal(task?.status, 'COMPLETED', JSON.stringify(states.map((state) => state.status)));
      assert.ok(states.slice(0, -1).every((state) => state.status === 'QUEUED' || state.status === 'RUNNING'));
      assert.deepEqual((await clara.task({ id: taskId })).task, task, 'the last state is the task as a query reads it');
      const report = task!.report!;
      assert.equal(report.kind, 'LOCAL_REPORT');
      assert.equal(report.files[0].fileName, 'tower.jpg');
      assert.equal(report.files[0].image?.camera, EXIF.model);
      assert.equal(report.files[0].image?.software, EXIF.software);
      assert.ok(report.findings.some((finding) => finding.kind === 'EDITED' && finding.severity === 'WARNING'));
      assert.equal(task!.charge?.valueInCredits, 20);
      await refusal(clara.startAnalysis({ input: { uploadIds: [upload.id] } }), 'CONFLICT');

      // The ledger, one row per page: the charge, then the purchase.
      const first = await clara.transactions({ first: 1 });
      assert.equal(first.credits, 480);
      assert.equal(first.transactions.totalCount, 2);
      assert.deepEqual(first.transactions.edges.map((edge) => [edge.node.kind, edge.node.type, edge.node.task?.id ?? null]), [['ANALYSIS', 'DEBIT', taskId]]);
      assert.equal(first.transactions.pageInfo.hasNextPage, true);
      const second = await clara.transactions({ first: 1, after: first.transactions.pageInfo.endCursor });
      assert.deepEqual(second.transactions.edges.map((edge) => [edge.node.kind, edge.node.valueInCredits, edge.node.valueInFiat.amount]), [['PURCHASE', 500, '5.00']]);
      assert.equal(second.transactions.pageInfo.hasNextPage, false);
      const tasks = await clara.tasks({ first: 10, status: 'COMPLETED' });
      assert.deepEqual(tasks.tasks.edges.map((edge) => edge.node.id), [taskId]);
      const dashboard = await clara.dashboard();
      assert.equal(dashboard.credits, 480);
      assert.equal(dashboard.tasks.edges[0].node.report?.kind, 'LOCAL_REPORT');

      assert.ok(sent.length > 20);
      for (const body of sent) {
        assert.equal(body.query, undefined, `${body.operationName} was sent as text`);
        assert.match(body.extensions.persistedQuery.sha256Hash, /^[0-9a-f]{64}$/);
      }
    });
  });
}
