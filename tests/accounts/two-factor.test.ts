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
      const confirmed = await t.rest('POST', `/users/${user.id}/2fa/totp/confirm`, { auth: user.token, body: { code: first } });
      assert.equal(confirmed.status, 200);
      const recovery: string[] = confirmed.body.data.recovery_codes;
      assert.equal(recovery.length, 10, 'turning 2FA on answers the first recovery codes');

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
      const codesLeft = await t.orm.em.fork().getConnection().execute('select id from recovery_codes where user_id = ?', [user.id]);
      assert.equal(codesLeft.length, 0, 'turning 2FA off voided the recovery codes');
    });

    /** An active user with authenticator 2FA on; returns the secret. */
    const withTotp = async () => {
      const user = await t.activeUser();
      const setup = await t.rest('POST', `/users/${user.id}/2fa/totp`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      const secret: string = setup.body.data.secret;
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa/totp/confirm`, { auth: user.token, body: { code: await generate({ secret }) } })).status, 200);
      // The confirming code used the current step; later checks in a test need a fresh one.
      await t.orm.em.fork().getConnection().execute('update users set totp_last_step = totp_last_step - 3 where id = ?', [user.id]);
      return { ...user, secret };
    };
    const wrongTotp = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
    const lockoutMails = (email: string) => t.mailbox.received.filter((m) => m.to === email && /too many wrong codes/i.test(m.subject));

    test('authenticator codes outside login have an attempt limit: 5 wrong disable codes, then even the right one is 429 and login is locked too', async () => {
      const user = await withTotp();
      const current = await generate({ secret: user.secret });
      for (let i = 0; i < 5; i++) {
        const res = await t.rest('DELETE', `/users/${user.id}/2fa`, { auth: user.token, body: { code: wrongTotp(current) } });
        assert.equal(res.status, 401, `wrong code ${i + 1}`);
      }
      const locked = await t.rest('DELETE', `/users/${user.id}/2fa`, { auth: user.token, body: { code: current } });
      assert.equal(locked.status, 429);
      assert.match(locked.body.message, /locked/);
      assert.equal((await t.login(user.email, user.password, current)).status, 429, 'one limit for every second-factor check');
      assert.equal(lockoutMails(user.email).length, 1);
      assert.match(lockoutMails(user.email)[0].text, /two-factor/);
      const me = await t.rest('GET', `/users/${user.id}`, { auth: user.token });
      assert.equal(me.body.data.is_2fa_enabled, true, '2FA is still on');
    });

    test('confirming an authenticator setup is limited too', async () => {
      const user = await t.activeUser();
      const setup = await t.rest('POST', `/users/${user.id}/2fa/totp`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      const current = await generate({ secret: setup.body.data.secret });
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await t.rest('POST', `/users/${user.id}/2fa/totp/confirm`, { auth: user.token, body: { code: wrongTotp(current) } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
    });

    test('enabling email 2FA counts wrong emailed codes in the same limit', async () => {
      const user = await t.activeUser();
      const code = await t.otp(user.email, 'TWO_FACTOR_AUTH');
      for (let i = 0; i < 5; i++) await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: wrongTotp(code) } });
      const fresh = await t.otp(user.email, 'TWO_FACTOR_AUTH');
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: fresh } })).status, 429);
    });

    describe('recovery codes', () => {
      const recoveryCodes = (user: { id: string; token: string }, code: string) => t.rest('POST', `/users/${user.id}/2fa/recovery_codes`, { auth: user.token, body: { code } });

      test('ten single-use codes, shown once, stored hashed; one logs in in place of the emailed code', async () => {
        const user = await t.activeUser();
        assert.equal((await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } })).status, 200);
        const res = await recoveryCodes(user, await t.otp(user.email, 'TWO_FACTOR_AUTH'));
        assert.equal(res.status, 201);
        assert.equal(res.body.status, 'success');
        const codes: string[] = res.body.data.recovery_codes;
        assert.equal(codes.length, 10);
        assert.equal(new Set(codes).size, 10);
        for (const code of codes) assert.match(code, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
        const stored = await t.orm.em.fork().getConnection().execute('select * from recovery_codes where user_id = ?', [user.id]);
        assert.equal(stored.length, 10);
        for (const code of codes) assert.doesNotMatch(JSON.stringify(stored), new RegExp(code.replace('-', '-?')));

        const login = await t.login(user.email, user.password, codes[0]);
        assert.equal(login.status, 200);
        assert.equal((await t.login(user.email, user.password, codes[0])).status, 401, 'a recovery code works once');
        assert.equal((await t.login(user.email, user.password, codes[1].toUpperCase())).status, 200, 'case does not matter');

        const again = await recoveryCodes(user, codes[2]);
        assert.equal(again.status, 201, 'a recovery code proves the second factor for new ones');
        assert.equal((await t.login(user.email, user.password, codes[3])).status, 401, 'regenerating voids the old codes');
        const fresh: string[] = again.body.data.recovery_codes;
        assert.equal((await t.rest('DELETE', `/users/${user.id}/2fa`, { auth: user.token, body: { code: fresh[0] } })).status, 204, 'a recovery code disables 2FA');
        assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.is_2fa_enabled, false);
        assert.equal((await t.orm.em.fork().getConnection().execute('select id from recovery_codes where user_id = ?', [user.id])).length, 0, 'turning 2FA off drops the codes');
      });

      test('in place of an authenticator code; wrong ones count towards the lockout', async () => {
        const user = await withTotp();
        const codes: string[] = (await recoveryCodes(user, await generate({ secret: user.secret }))).body.data.recovery_codes;
        assert.equal((await t.login(user.email, user.password, codes[9])).status, 200);
        for (let i = 0; i < 5; i++) assert.equal((await t.login(user.email, user.password, 'aaaaa-aaaaa')).status, 401);
        assert.equal((await t.login(user.email, user.password, codes[8])).status, 429);
      });

      test('refused without 2FA (400), with a wrong code (401), for another user (403), over GraphQL too', async () => {
        const user = await t.activeUser();
        const other = await t.activeUser();
        assert.equal((await recoveryCodes(user, '123456')).status, 400);
        await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
        assert.equal((await recoveryCodes(user, '000000')).status, 401);
        assert.equal((await recoveryCodes({ id: other.id, token: user.token }, '000000')).status, 403);
        const wrong = await t.gql('mutation { regenerateRecoveryCodes(input: { code: "000000" }) { recoveryCodes { codes } userErrors { code } } }', {}, user.token);
        assert.deepEqual(wrong.body.data.regenerateRecoveryCodes, { recoveryCodes: null, userErrors: [{ code: 'UNAUTHENTICATED' }] });
        const gql = await t.gql('mutation ($c: String!) { regenerateRecoveryCodes(input: { code: $c }) { recoveryCodes { codes } } }', { c: await t.otp(user.email, 'TWO_FACTOR_AUTH') }, user.token);
        assert.equal(gql.body.data.regenerateRecoveryCodes.recoveryCodes.codes.length, 10);
      });
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
