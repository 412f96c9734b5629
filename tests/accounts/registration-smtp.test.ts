import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../helpers/database';
import { PUBLIC_KEY, TestApp } from '../helpers/harness';

const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { token activationCodeSent user { id email isActive status } userErrors { code message } } }`;
const SIGN_UP = { first_name: 'Ada', last_name: 'Lovelace', password: 'analytical-engine' };

/**
 * SMTP unreachable at registration (the harness's real SMTP server stopped, then started again on its port): the
 * account is created and the answer says the code could not be sent; a resend with the sign-up's token, or
 * registering again, activates it once mail flows again. The send limits are the production ones, so a code that
 * never left must not hold back the next one.
 */
for (const db of testDatabases()) {
  describe(`registration while SMTP is unreachable (${db})`, () => {
    const t = new TestApp(db, { OTP_RESEND_INTERVAL_SECONDS: '60', OTP_SENDS_PER_HOUR: '5' });
    before(() => t.start());
    after(async () => {
      if (!t.mailbox.listening) await t.mailbox.start();
      await t.stop();
    });

    const register = (email: string, password = SIGN_UP.password) => t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body: { ...SIGN_UP, email, password } });

    test('REST: 201 with the account and a token, the answer says the code was not sent; resend with the token activates it', async () => {
      const email = 'smtp-down-rest@example.com';
      await t.mailbox.close();
      const res = await register(email);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'success');
      assert.equal(res.body.data.activation_code_sent, false);
      assert.equal(res.body.data.is_active, false);
      assert.match(res.body.message, /could not be sent.*otp\/ACTIVATION/);
      const token = `Bearer ${res.body.data.token}`;
      // While mail is still down the resend answers 503 (retry later), and changes nothing else.
      const stillDown = await t.rest('POST', `/users/${email}/otp/ACTIVATION`, { auth: token });
      assert.equal(stillDown.status, 503, JSON.stringify(stillDown.body));

      await t.mailbox.start();
      const resent = await t.rest('POST', `/users/${email}/otp/ACTIVATION`, { auth: token });
      assert.equal(resent.status, 201, `the failed sends must not count against the send limits: ${JSON.stringify(resent.body)}`);
      const code = await t.mailbox.nextCode(email, 0);
      const activated = await t.rest('POST', `/users/${email}/activate`, { auth: PUBLIC_KEY, body: { code } });
      assert.equal(activated.status, 200, JSON.stringify(activated.body));
      assert.equal(activated.body.data.is_active, true);
      // The code was bound to this sign-up: its password stands and its token works.
      assert.equal((await t.login(email, SIGN_UP.password)).status, 200);
      assert.equal((await t.rest('GET', `/users/${res.body.data.id}`, { auth: token })).status, 200);
    });

    test('GraphQL: activationCodeSent false, no error; registering again once mail flows activates the account', async () => {
      const email = 'smtp-down-graphql@example.com';
      await t.mailbox.close();
      const first = await t.gql(REGISTER, { input: { firstName: 'Ada', lastName: 'Lovelace', email, password: 'first-password' } }, PUBLIC_KEY);
      assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
      const payload = first.body.data.register;
      assert.deepEqual(payload.userErrors, []);
      assert.equal(payload.activationCodeSent, false);
      assert.equal(payload.user.status, 'PENDING_ACTIVATION');
      assert.ok(payload.token);

      const again = await register(email, 'second-password');
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.equal(again.body.data.activation_code_sent, false);
      assert.equal(again.body.data.id, payload.user.id, 'one account for the address, never a second half-made one');

      await t.mailbox.start();
      const third = await register(email, 'third-password');
      assert.equal(third.status, 201, JSON.stringify(third.body));
      assert.equal(third.body.data.activation_code_sent, true);
      assert.match(third.body.message, /was sent/);
      const code = await t.mailbox.nextCode(email, 0);
      const activated = await t.rest('POST', `/users/${email}/activate`, { auth: PUBLIC_KEY, body: { code } });
      assert.equal(activated.status, 200, JSON.stringify(activated.body));
      assert.equal((await t.login(email, 'third-password')).status, 200);
      assert.equal((await t.login(email, 'first-password')).status, 401);
    });
  });
}
