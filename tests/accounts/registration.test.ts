import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../helpers/database';
import { PUBLIC_KEY, TestApp } from '../helpers/harness';

const RFC1123 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

for (const db of testDatabases()) {
  describe(`registration and activation (${db})`, () => {
    const t = new TestApp(db);
    before(() => t.start());
    after(() => t.stop());

    test('REST register answers 201 with the documented user, a token, and mails an activation code', async () => {
      const res = await t.rest('POST', '/auth/register', {
        auth: PUBLIC_KEY,
        body: { first_name: 'Grace', last_name: 'Hopper', email: 'Grace@Example.com', password: 'cobol-forever' },
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'success');
      const user = res.body.data;
      assert.deepEqual(Object.keys(user).sort(), ['created_at', 'credits', 'email', 'first_name', 'id', 'is_2fa_enabled', 'is_active', 'is_dark_mode', 'last_name', 'token', 'updated_at']);
      assert.match(user.id, /^user_[0-9a-f]{32}$/);
      assert.equal(user.email, 'grace@example.com');
      assert.equal(user.is_active, false);
      assert.equal(user.credits, 0);
      assert.match(user.created_at, RFC1123);
      assert.match(user.token, /^clara_user_[\w-]+\.[\w-]+\.[\w-]+$/);
      const code = await t.mailbox.nextCode('grace@example.com', 0);
      assert.match(code, /^\d{6}$/);
    });

    test('an activated email is refused with 400, whatever its case', async () => {
      await t.activeUser({ email: 'taken@example.com' });
      const res = await t.rest('POST', '/auth/register', {
        auth: PUBLIC_KEY,
        body: { first_name: 'A', last_name: 'B', email: 'TAKEN@example.com', password: 'password123' },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.status, 'error');
      assert.match(res.body.message, /already exists/);
    });

    test('register needs the public API key', async () => {
      const body = { first_name: 'A', last_name: 'B', email: 'nokey@example.com', password: 'password123' };
      assert.equal((await t.rest('POST', '/auth/register', { body })).status, 401);
      assert.equal((await t.rest('POST', '/auth/register', { body, auth: 'wrong-key' })).status, 401);
      const user = await t.register();
      assert.equal((await t.rest('POST', '/auth/register', { body, auth: user.token })).status, 401);
    });

    test('bad sign-up input gets 400 with the documented error body', async () => {
      const cases: [unknown, RegExp][] = [
        [{ first_name: 'A', last_name: 'B', email: 'short@example.com', password: 'short' }, /password/],
        [{ first_name: 'A', last_name: 'B', email: 'not-an-email', password: 'password123' }, /email/],
        [{ first_name: 'A', email: 'x@example.com', password: 'password123' }, /last_name/],
        [{ first_name: 1, last_name: 'B', email: 'x@example.com', password: 'password123' }, /first_name/],
        [{ first_name: 'A', last_name: 'B', email: 'x@example.com', password: 'password123', credits: 100 }, /credits/],
        [[], /object/],
      ];
      for (const [body, message] of cases) {
        const res = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.deepEqual(Object.keys(res.body).sort(), ['data', 'message', 'status']);
        assert.equal(res.body.status, 'error');
        assert.match(res.body.message, message);
      }
      const malformed = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, rawBody: '{"first_name": ' });
      assert.equal(malformed.status, 400);
      assert.match(malformed.body.message, /not valid JSON/);
    });


    test('activation with the mailed code makes the account active; the code works once', async () => {
      const user = await t.register();
      const code = await t.mailbox.nextCode(user.email, 0);
      const wrong = await t.rest('POST', `/users/${user.email}/activate`, { auth: PUBLIC_KEY, body: { code: code === '000000' ? '111111' : '000000' } });
      assert.equal(wrong.status, 401);
      const ok = await t.rest('POST', `/users/${user.email}/activate`, { auth: PUBLIC_KEY, body: { code } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.data.is_active, true);
      assert.equal(ok.body.data.token, undefined);
      const again = await t.rest('POST', `/users/${user.email}/activate`, { auth: PUBLIC_KEY, body: { code } });
      assert.equal(again.status, 400);
      assert.equal((await t.rest('PATCH', `/users/${user.id}`, { auth: user.token, body: { first_name: 'Active' } })).status, 200);
    });

    test('activate and send-OTP: unknown email 404, bad OTP type 400, no public key 401', async () => {
      assert.equal((await t.rest('POST', '/users/nobody@example.com/activate', { auth: PUBLIC_KEY, body: { code: '123456' } })).status, 404);
      assert.equal((await t.rest('POST', '/users/nobody@example.com/otp/ACTIVATION', { auth: PUBLIC_KEY })).status, 404);
      const user = await t.register();
      assert.equal((await t.rest('POST', `/users/${user.email}/otp/SOMETHING`, { auth: PUBLIC_KEY })).status, 400);
      assert.equal((await t.rest('POST', `/users/${user.email}/otp/ACTIVATION`)).status, 401);
      assert.equal((await t.rest('POST', `/users/${user.email}/activate`, { auth: PUBLIC_KEY, body: {} })).status, 400);
    });

    test('GraphQL: register, activate and me', async () => {
      const email = `gql-${Date.now()}@example.com`;
      const reg = await t.gql(
        'mutation ($input: RegisterInput!) { register(input: $input) { token user { id email isActive is2faEnabled createdAt } } }',
        { input: { firstName: 'Linus', lastName: 'T', email, password: 'password123' } },
        PUBLIC_KEY,
      );
      assert.equal(reg.body.errors, undefined);
      const { token, user } = reg.body.data.register;
      assert.equal(user.isActive, false);
      assert.match(user.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const code = await t.mailbox.nextCode(email, 0);
      const act = await t.gql('mutation ($e: String!, $c: String!) { activate(email: $e, code: $c) { isActive } }', { e: email, c: code }, PUBLIC_KEY);
      assert.equal(act.body.data.activate.isActive, true);
      const me = await t.gql('{ me { id email isActive } }', {}, `Bearer ${token}`);
      assert.deepEqual(me.body.data.me, { id: user.id, email, isActive: true });
    });

    test('GraphQL: register refuses a short password with BAD_REQUEST and without the public key with UNAUTHENTICATED', async () => {
      const mutation = 'mutation ($input: RegisterInput!) { register(input: $input) { token } }';
      const short = await t.gql(mutation, { input: { firstName: 'A', lastName: 'B', email: 'gshort@example.com', password: 'x' } }, PUBLIC_KEY);
      assert.equal(short.body.errors?.[0].extensions.code, 'BAD_REQUEST');
      assert.match(short.body.errors![0].message, /at least 8/);
      const noKey = await t.gql(mutation, { input: { firstName: 'A', lastName: 'B', email: 'gnokey@example.com', password: 'password123' } });
      assert.equal(noKey.body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
    });
  });
}
