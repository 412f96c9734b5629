import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postAnalysis } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import jwt from 'jsonwebtoken';
import { PUBLIC_KEY, TestApp } from '../helpers/harness';

const SECRET = 'test-jwt-secret-that-is-long-enough-1234567890';
const NOT_ACTIVATED = /not activated/;

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
      assert.deepEqual(Object.keys(user).sort(), ['activation_code_sent', 'created_at', 'credits', 'email', 'first_name', 'id', 'is_2fa_enabled', 'is_active', 'is_dark_mode', 'last_name', 'token', 'updated_at']);
      assert.equal(user.activation_code_sent, true);
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
        assert.deepEqual(Object.keys(res.body).sort(), ['data', 'message', 'request_id', 'status']);
        assert.equal(res.body.status, 'error');
        assert.match(res.body.message, message);
      }
      const malformed = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, rawBody: '{"first_name": ' });
      assert.equal(malformed.status, 400);
      assert.match(malformed.body.message, /not valid JSON/);
    });


    describe('an inactive account may only view and update itself and log out (as the original API)', () => {
      let inactive: Awaited<ReturnType<TestApp['register']>>;
      before(async () => {
        inactive = await t.register();
      });
      const refused: [string, string, () => Promise<{ status: number; body: any }>][] = [
        ['GET', '/stripe/rate', () => t.rest('GET', '/stripe/rate', { auth: inactive.token })],
        ['POST', '/stripe/buy', () => t.rest('POST', '/stripe/buy', { auth: inactive.token, body: { amount: 5 } })],
        ['POST', '/stripe/portal', () => t.rest('POST', '/stripe/portal', { auth: inactive.token })],
        ['GET', '/users/{id}/transactions', () => t.rest('GET', `/users/${inactive.id}/transactions`, { auth: inactive.token })],
        ['GET', '/users/{id}/transactions/{id}', () => t.rest('GET', `/users/${inactive.id}/transactions/transaction_${'0'.repeat(32)}`, { auth: inactive.token })],
        ['GET', '/users/{id}/tasks', () => t.rest('GET', `/users/${inactive.id}/tasks`, { auth: inactive.token })],
        ['GET', '/users/{id}/tasks/{id}', () => t.rest('GET', `/users/${inactive.id}/tasks/task_${'0'.repeat(32)}`, { auth: inactive.token })],
        ['GET', '/users/{id}/tasks/{id}/events', () => t.rest('GET', `/users/${inactive.id}/tasks/task_${'0'.repeat(32)}/events`, { auth: inactive.token })],
        ['GET', '/users/{id}/agent/supported_attachments', () => t.rest('GET', `/users/${inactive.id}/agent/supported_attachments`, { auth: inactive.token })],
        ['POST', '/users/{id}/agent/analysis', () => postAnalysis(t, inactive, { 'note.txt': 'hello' }, { prompt: 'check this' })],
        ['POST', '/users/{id}/2fa', () => t.rest('POST', `/users/${inactive.id}/2fa`, { auth: inactive.token, body: { code: '123456' } })],
        ['DELETE', '/users/{id}/2fa', () => t.rest('DELETE', `/users/${inactive.id}/2fa`, { auth: inactive.token, body: { code: '123456' } })],
        ['POST', '/users/{id}/2fa/totp', () => t.rest('POST', `/users/${inactive.id}/2fa/totp`, { auth: inactive.token, body: { code: '123456' } })],
        ['POST', '/users/{id}/2fa/totp/confirm', () => t.rest('POST', `/users/${inactive.id}/2fa/totp/confirm`, { auth: inactive.token, body: { code: '123456' } })],
        ['POST', '/users/{id}/2fa/recovery_codes', () => t.rest('POST', `/users/${inactive.id}/2fa/recovery_codes`, { auth: inactive.token, body: { code: '123456' } })],
        ['GET', '/users/{id}/api_key', () => t.rest('GET', `/users/${inactive.id}/api_key`, { auth: inactive.token })],
        ['POST', '/users/{id}/api_key', () => t.rest('POST', `/users/${inactive.id}/api_key`, { auth: inactive.token })],
      ];
      for (const [method, path, call] of refused) {
        test(`${method} ${path}: 401, not activated`, async () => {
          const res = await call();
          assert.equal(res.status, 401);
          assert.equal(res.body.status, 'error');
          assert.match(res.body.message, NOT_ACTIVATED);
        });
      }

      test('GraphQL refuses the same with UNAUTHENTICATED', async () => {
        for (const query of ['{ stripeRate { rate } }', '{ viewer { transactions { edges { node { id } } } } }', '{ viewer { tasks { edges { node { id } } } } }', '{ viewer { apiKey { id } } }', '{ supportedAttachments { category } }']) {
          const res = await t.gql(query, {}, inactive.token);
          assert.equal(res.body.errors?.[0].extensions.code, 'UNAUTHENTICATED', query);
          assert.match(res.body.errors![0].message, NOT_ACTIVATED);
        }
      });

      test('GET and PATCH /users/{id} and DELETE /auth/session are allowed', async () => {
        assert.equal((await t.rest('GET', `/users/${inactive.id}`, { auth: inactive.token })).status, 200);
        const update = await t.rest('PATCH', `/users/${inactive.id}`, { auth: inactive.token, body: { first_name: 'Still inactive' } });
        assert.equal(update.status, 200);
        assert.equal(update.body.data.first_name, 'Still inactive');
        const login = await t.login(inactive.email, inactive.password);
        assert.equal(login.status, 200);
        assert.equal((await t.rest('DELETE', '/auth/session', { auth: `Bearer ${login.body.data.token}` })).status, 204);
      });
    });

    describe('pre-activation hijack: whoever registers an address first keeps nothing once the mailbox owner activates', () => {
      const apiKeyTokenOf = async (userId: string) => {
        const [key] = await t.orm.em.fork().getConnection().execute('select id from api_keys where user_id = ?', [userId]);
        return `Bearer clara_api_${jwt.sign({ sub: userId, role: 'api_key', jti: key.id }, SECRET, { noTimestamp: true })}`;
      };
      const activate = (email: string, code: string) => t.rest('POST', `/users/${email}/activate`, { auth: PUBLIC_KEY, body: { code } });

      test('the victim registers too and activates with the mailed code: the attacker\'s token, sessions, API key and password die', async () => {
        const email = 'victim-registers@example.com';
        const attacker = await t.register({ email, password: 'attacker-password', first_name: 'Mallory' });
        const attackerLogin = `Bearer ${(await t.login(email, 'attacker-password')).body.data.token}`;
        const attackerKey = await apiKeyTokenOf(attacker.id);
        assert.equal((await t.rest('GET', `/users/${attacker.id}`, { auth: attackerKey })).status, 200, 'the key works before activation');

        const before = t.mailbox.countTo(email);
        const victim = await t.register({ email, password: 'victim-password', first_name: 'Victor' });
        assert.equal(victim.id, attacker.id, 'the address keeps its account id');
        const code = await t.mailbox.nextCode(email, before);
        const activated = await activate(email, code);
        assert.equal(activated.status, 200);
        assert.equal(activated.body.data.is_active, true);
        assert.equal(activated.body.data.first_name, 'Victor');

        for (const auth of [attacker.token, attackerLogin, attackerKey]) {
          assert.equal((await t.rest('GET', `/users/${attacker.id}`, { auth })).status, 401, 'an attacker credential still works');
        }
        assert.equal((await t.login(email, 'attacker-password')).status, 401, "the attacker's password is gone");
        assert.equal((await t.rest('GET', `/users/${victim.id}`, { auth: victim.token })).status, 200, "the victim's registration token works");
        assert.equal((await t.login(email, 'victim-password')).status, 200, "the victim's password works");
        const key = await t.rest('GET', `/users/${victim.id}/api_key`, { auth: victim.token });
        assert.equal(key.status, 200);
        assert.equal((await t.rest('GET', `/users/${victim.id}`, { auth: `Bearer ${key.body.data.token}` })).status, 200, "the victim's new API key works");
        assert.equal((await t.register({ email, password: 'attacker-again' }).catch((error: Error) => error.message)).toString().includes('already exists'), true, 'an activated address cannot be registered again');
      });

      test("a later sign-up sees neither the earlier sign-up's names nor its security log, and its edits do not outlive activation", async () => {
        const email = 'earlier-signup@example.com';
        const owner = await t.register({ email, password: 'owner-password', first_name: 'Victoria', last_name: 'Secretname' });
        await t.login(email, 'owner-password'); // a sign-in the log records with IP and user agent
        const snoop = await t.register({ email, password: 'snoop-password', first_name: 'Mallory', last_name: 'M' });
        const seen = await t.rest('GET', `/users/${snoop.id}`, { auth: snoop.token });
        assert.equal(seen.status, 200, JSON.stringify(seen.body));
        assert.deepEqual([seen.body.data.first_name, seen.body.data.last_name], ['Mallory', 'M'], "the later sign-up sees its own names, not the earlier one's");
        assert.equal((await t.rest('GET', `/users/${snoop.id}/security_log`, { auth: snoop.token })).status, 401, 'no security log before activation');
        const gqlLog = await t.gql('query ($u: ID!) { userSecurityLog(userId: $u) { edges { node { ip } } } }', { u: snoop.id }, snoop.token);
        assert.equal(gqlLog.body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
        assert.equal((await t.rest('PATCH', `/users/${snoop.id}`, { auth: snoop.token, body: { first_name: 'Pwned' } })).status, 200);
        // The owner asks for a code with its own sign-up's token: the code stays bound to that sign-up.
        const before = t.mailbox.countTo(email);
        assert.equal((await t.rest('POST', `/users/${email}/otp/ACTIVATION`, { auth: owner.token })).status, 201);
        const activated = await activate(email, await t.mailbox.nextCode(email, before));
        assert.equal(activated.status, 200, JSON.stringify(activated.body));
        assert.deepEqual([activated.body.data.first_name, activated.body.data.last_name], ['Victoria', 'Secretname'], "the activating sign-up's names, not the later one's edit");
        assert.equal((await t.rest('GET', `/users/${owner.id}`, { auth: owner.token })).body.data.first_name, 'Victoria');
      });

      test("a signed-in caller who logs in with someone else's password cannot read that account's guarded fields from the payload", async () => {
        const caller = await t.activeUser();
        const other = await t.register({ email: 'not-activated-yet@example.com', password: 'other-password' });
        const res = await t.gql('mutation ($i: LoginInput!) { login(input: $i) { token user { id apiKey { token } sessions { id } } } }', { i: { email: other.email, password: 'other-password' } }, caller.token);
        assert.equal(res.body.data.login.user, null, 'the password was right, so a token comes back; the account stays closed to this caller');
        assert.equal(res.body.errors?.[0].extensions.code, 'FORBIDDEN');
        assert.doesNotMatch(JSON.stringify(res.body), /clara_api_/);
      });

      test('the victim only asks for a code and activates: nothing of the attacker survives; the victim sets a password', async () => {
        const email = 'victim-requests@example.com';
        const attacker = await t.register({ email, password: 'attacker-password' });
        const attackerKey = await apiKeyTokenOf(attacker.id);
        const code = await t.otp(email, 'ACTIVATION');
        assert.equal((await activate(email, code)).status, 200);
        assert.equal((await t.rest('GET', `/users/${attacker.id}`, { auth: attacker.token })).status, 401);
        assert.equal((await t.rest('GET', `/users/${attacker.id}`, { auth: attackerKey })).status, 401);
        assert.equal((await t.login(email, 'attacker-password')).status, 401);
        const reset = await t.rest('PATCH', `/users/${email}/password`, { auth: PUBLIC_KEY, body: { password: 'victim-password', code: await t.otp(email, 'CHANGE_PASSWORD') } });
        assert.equal(reset.status, 200);
        const login = await t.login(email, 'victim-password');
        assert.equal(login.status, 200);
        assert.equal(login.body.data.is_active, true);
      });

      test('a new activation code asked for with the sign-up\'s own token stays bound to it: the registrant keeps everything', async () => {
        const user = await t.register();
        const key = await apiKeyTokenOf(user.id);
        const before = t.mailbox.countTo(user.email);
        assert.equal((await t.rest('POST', `/users/${user.email}/otp/ACTIVATION`, { auth: user.token })).status, 201);
        assert.equal((await activate(user.email, await t.mailbox.nextCode(user.email, before))).status, 200);
        assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 200);
        assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: key })).status, 200);
        assert.equal((await t.login(user.email, user.password)).status, 200);
        const stranger = await t.register();
        assert.equal((await t.rest('POST', `/users/${user.email}/otp/CHANGE_PASSWORD`, { auth: stranger.token })).status, 403, 'not for someone else');
      });

      test('the first sign-up activating keeps its credentials and ends a later sign-up\'s session', async () => {
        const email = 'first-wins@example.com';
        const first = await t.register({ email, password: 'first-password' });
        const firstCode = await t.mailbox.nextCode(email, 0);
        const later = await t.register({ email, password: 'later-password' });
        const before = t.mailbox.countTo(email);
        // The first registrant's code was replaced by the later sign-up's; they ask again with their own token.
        await t.rest('POST', `/users/${email}/otp/ACTIVATION`, { auth: first.token });
        const code = await t.mailbox.nextCode(email, before);
        if (code !== firstCode) assert.equal((await activate(email, firstCode)).status, 401);
        assert.equal((await activate(email, code)).status, 200);
        assert.equal((await t.rest('GET', `/users/${first.id}`, { auth: first.token })).status, 200);
        assert.equal((await t.rest('GET', `/users/${first.id}`, { auth: later.token })).status, 401);
        assert.equal((await t.login(email, 'first-password')).status, 200);
        assert.equal((await t.login(email, 'later-password')).status, 401);
      });

      test('the same person activating their own sign-up keeps their token, password and API key', async () => {
        const user = await t.register();
        const key = await apiKeyTokenOf(user.id);
        assert.equal((await activate(user.email, await t.mailbox.nextCode(user.email, 0))).status, 200);
        assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 200);
        assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: key })).status, 200);
        assert.equal((await t.login(user.email, user.password)).status, 200);
      });

      test('the code of an earlier sign-up no longer activates once the address is registered again', async () => {
        const email = 'two-signups@example.com';
        await t.register({ email, password: 'first-password' });
        const first = await t.mailbox.nextCode(email, 0);
        const second = await t.register({ email, password: 'second-password' });
        const latest = await t.mailbox.nextCode(email, 1);
        if (first !== latest) assert.equal((await activate(email, first)).status, 401);
        assert.equal((await activate(email, latest)).status, 200);
        assert.equal((await t.login(email, 'first-password')).status, 401);
        assert.equal((await t.login(email, 'second-password')).status, 200);
        assert.equal((await t.rest('GET', `/users/${second.id}`, { auth: second.token })).status, 200);
      });
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

    test('GraphQL: register, activate and viewer', async () => {
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
      const wrong = await t.gql('mutation ($e: String!) { activate(input: { email: $e, code: "000000" }) { user { id } userErrors { field code message } } }', { e: email }, PUBLIC_KEY);
      assert.equal(wrong.body.data.activate.user, null);
      assert.equal(wrong.body.data.activate.userErrors[0].code, 'UNAUTHENTICATED', 'a wrong code is a typed user error');
      const act = await t.gql('mutation ($e: String!, $c: String!) { activate(input: { email: $e, code: $c }) { user { isActive } userErrors { code } } }', { e: email, c: code }, PUBLIC_KEY);
      assert.deepEqual(act.body.data.activate, { user: { isActive: true }, userErrors: [] });
      const me = await t.gql('{ viewer { id email isActive } }', {}, `Bearer ${token}`);
      assert.deepEqual(me.body.data.viewer, { id: user.id, email, isActive: true });
    });

    test('GraphQL: register refuses a short password (a typed user error) and, without the public key, is UNAUTHENTICATED', async () => {
      const mutation = 'mutation ($input: RegisterInput!) { register(input: $input) { token userErrors { field code message } } }';
      const short = await t.gql(mutation, { input: { firstName: 'A', lastName: 'B', email: 'gshort@example.com', password: 'x' } }, PUBLIC_KEY);
      assert.equal(short.body.errors, undefined);
      assert.equal(short.body.data.register.token, null);
      const [refusal] = short.body.data.register.userErrors;
      assert.deepEqual([refusal.field, refusal.code], [['input', 'password'], 'BAD_REQUEST']);
      assert.match(refusal.message, /at least 8/);
      const taken = await t.activeUser();
      const again = await t.gql(mutation, { input: { firstName: 'A', lastName: 'B', email: taken.email, password: 'password123' } }, PUBLIC_KEY);
      assert.equal(again.body.data.register.userErrors[0].code, 'ALREADY_EXISTS');
      const noKey = await t.gql(mutation, { input: { firstName: 'A', lastName: 'B', email: 'gnokey@example.com', password: 'password123' } });
      assert.equal(noKey.body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
    });
  });
}
