import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

for (const db of testDatabases()) {
  describe(`two-factor login (${db})`, () => {
    const t = new TestApp(db);
    before(() => t.start());
    after(() => t.stop());

    test('email 2FA: enable with a code, then login needs a fresh code; 401 with is_2fa_enabled without it', async () => {
      const user = await t.activeUser();
      const enable = await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      assert.equal(enable.status, 200);
      assert.deepEqual(enable.body, { data: null, message: 'User 2FA enabled successfully.', status: 'success' });

      const without = await t.login(user.email, user.password);
      assert.equal(without.status, 401);
      assert.deepEqual(without.body.data, { is_2fa_enabled: true });
      assert.equal(without.body.status, 'error');

      const wrongPassword = await t.login(user.email, 'not the password', '123456');
      assert.equal(wrongPassword.status, 401);
      assert.equal(wrongPassword.body.data, null, 'a wrong password says nothing about 2FA');

      const code = await t.otp(user.email, 'TWO_FACTOR_AUTH');
      const ok = await t.login(user.email, user.password, code);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.data.is_2fa_enabled, true);
      assert.equal((await t.login(user.email, user.password, code)).status, 401, 'a code works once');

      const disable = await t.rest('DELETE', `/users/${user.id}/2fa`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      assert.equal(disable.status, 204);
      assert.equal((await t.login(user.email, user.password)).status, 200);
    });

    test('enable/disable: wrong code 401, missing code 400, already on 400, another user 403, unknown user 404', async () => {
      const user = await t.activeUser();
      const other = await t.activeUser();
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: {} })).status, 400);
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: '000000' } })).status, 401);
      const code = await t.otp(user.email, 'TWO_FACTOR_AUTH');
      assert.equal((await t.rest('POST', `/users/${other.id}/2fa`, { auth: user.token, body: { code } })).status, 403);
      assert.equal((await t.rest('POST', `/users/user_${'a'.repeat(32)}/2fa`, { auth: user.token, body: { code } })).status, 404);
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code } })).status, 200);
      const again = await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      assert.equal(again.status, 400);
      assert.equal((await t.rest('DELETE', `/users/${other.id}/2fa`, { auth: user.token, body: { code: '123456' } })).status, 403);
    });

    test('authenticator app (TOTP): setup, confirm, login with a code that is never accepted twice, disable', async () => {
      const user = await t.activeUser();
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa/totp`, { auth: user.token, body: { code: '000000' } })).status, 401, 'an emailed code is needed');
      const setup = await t.rest('POST', `/users/${user.id}/2fa/totp`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      assert.equal(setup.status, 201);
      const { secret, otpauth_uri } = setup.body.data;
      assert.match(otpauth_uri, /^otpauth:\/\/totp\/.+secret=/);
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa/totp/confirm`, { auth: user.token, body: { code: '000000' } })).status, 401);
      const first = await generate({ secret });
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa/totp/confirm`, { auth: user.token, body: { code: first } })).status, 200);

      const needsCode = await t.login(user.email, user.password);
      assert.equal(needsCode.status, 401);
      assert.deepEqual(needsCode.body.data, { is_2fa_enabled: true });
      // The confirming code's time step is used up: the same code cannot log in.
      assert.equal((await t.login(user.email, user.password, first)).status, 401);
      const next = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
      assert.equal((await t.login(user.email, user.password, next)).status, 200);
      assert.equal((await t.login(user.email, user.password, next)).status, 401, 'replay refused');

      const stored = await t.orm.em.fork().getConnection().execute(`select totp_secret from users where id = '${user.id}'`);
      assert.ok(!String(stored[0].totp_secret).includes(secret), 'the secret is stored encrypted');

      assert.equal((await t.rest('DELETE', `/users/${user.id}/2fa`, { auth: user.token, body: { code: next } })).status, 401, 'used code refused');
      // Stand in for a minute passing: the last used time step moves back, so the current code is fresh again.
      await t.orm.em.fork().getConnection().execute(`update users set totp_last_step = totp_last_step - 3 where id = '${user.id}'`);
      const current = await generate({ secret });
      assert.equal((await t.rest('DELETE', `/users/${user.id}/2fa`, { auth: user.token, body: { code: current } })).status, 204);
      assert.equal((await t.login(user.email, user.password)).status, 200);
    });

    test('GraphQL: login without the code answers the user error TWO_FACTOR_REQUIRED', async () => {
      const user = await t.activeUser();
      const auth = user.token;
      const code = await t.otp(user.email, 'TWO_FACTOR_AUTH');
      const on = await t.gql('mutation ($c: String!) { enableTwoFactor(input: { code: $c }) { user { is2faEnabled } } }', { c: code }, auth);
      assert.equal(on.body.data.enableTwoFactor.user.is2faEnabled, true);
      const login = await t.gql('mutation ($i: LoginInput!) { login(input: $i) { token userErrors { code message } } }', { i: { email: user.email, password: user.password } });
      assert.equal(login.body.data.login.token, null);
      assert.equal(login.body.data.login.userErrors[0].code, 'TWO_FACTOR_REQUIRED');
    });
  });
}
