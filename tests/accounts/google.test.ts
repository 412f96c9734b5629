import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyPair } from 'jose';
import { generate } from 'otplib';
import { testDatabases } from '../helpers/database';
import { useGoogleIssuer } from '../helpers/google-issuer';
import { ADMIN_KEY, PUBLIC_KEY, TestApp } from '../helpers/harness';

for (const db of testDatabases()) {
  describe(`Google sign-in (${db})`, () => {
    let t: TestApp;
    const google = useGoogleIssuer(async (env) => (t = await new TestApp(db, env).start()));

    const signIn = (idToken: string, auth?: string) => t.rest('POST', '/auth/google', { auth, body: { id_token: idToken } });

    test('a new Google user gets an active account, a token and an API key', async () => {
      const token = await google.idToken({ sub: '1049332096', email: 'new.google@example.com', given_name: 'Vib', family_name: 'Rath', name: 'Vib Rath' });
      const res = await signIn(token, PUBLIC_KEY);
      assert.equal(res.status, 201);
      assert.equal(res.body.data.email, 'new.google@example.com');
      assert.equal(res.body.data.is_active, true);
      assert.equal(res.body.data.first_name, 'Vib');
      assert.ok(res.body.data.token.startsWith('clara_user_'));
      const auth = `Bearer ${res.body.data.token}`;
      assert.equal((await t.rest('GET', `/users/${res.body.data.id}/api_key`, { auth })).status, 200);
      const again = await signIn(await google.idToken({ sub: '1049332096', email: 'new.google@example.com' }));
      assert.equal(again.status, 201);
      assert.equal(again.body.data.id, res.body.data.id, 'the same Google account signs in to the same user');
      assert.ok(google.requests >= 1, 'the JWKS was fetched over HTTP');
    });

    test('an account deactivated by an operator cannot sign in with Google until reactivated', async () => {
      const idToken = () => google.idToken({ sub: '20261206', email: 'deactivated.google@example.com', given_name: 'Dee' });
      const created = await signIn(await idToken(), PUBLIC_KEY);
      assert.equal(created.status, 201);
      const action = (name: string) => t.gql(`mutation ($input: UserActionInput!) { ${name}(input: $input) { userErrors { code } } }`, { input: { userId: created.body.data.id, reason: 'test' } }, ADMIN_KEY);
      assert.deepEqual((await action('deactivateUser')).body.data.deactivateUser.userErrors, []);
      const refused = await signIn(await idToken(), PUBLIC_KEY);
      assert.equal(refused.status, 401);
      assert.match(refused.body.message, /deactivated/);
      await action('reactivateUser');
      assert.equal((await signIn(await idToken(), PUBLIC_KEY)).status, 201);
    });

    test('an existing active password account is linked by its verified Google email', async () => {
      const user = await t.activeUser({ email: 'linked@example.com' });
      const res = await signIn(await google.idToken({ sub: '555', email: 'Linked@Example.com', name: 'Linked' }));
      assert.equal(res.status, 201);
      assert.equal(res.body.data.id, user.id);
      assert.equal(res.body.data.is_active, true);
      assert.equal((await t.login(user.email, user.password)).status, 200, 'the password still works');
    });

    test('an unactivated sign-up by someone else is wiped when the real owner signs in with Google', async () => {
      const squatter = await t.register({ email: 'owner@example.com', password: 'squatter-password' });
      const squatterKey = (await t.orm.em.fork().getConnection().execute(`select id from api_keys where user_id = '${squatter.id}'`))[0].id;
      const res = await signIn(await google.idToken({ sub: '4242', email: 'owner@example.com', name: 'Owner' }));
      assert.equal(res.status, 201);
      assert.equal(res.body.data.id, squatter.id, 'the address keeps its account id');
      assert.equal((await t.rest('GET', `/users/${squatter.id}`, { auth: squatter.token })).status, 401, "the squatter's session is gone");
      assert.equal((await t.login('owner@example.com', 'squatter-password')).status, 401, "the squatter's password is gone");
      const keys = await t.orm.em.fork().getConnection().execute(`select id from api_keys where user_id = '${squatter.id}'`);
      assert.notEqual(keys[0].id, squatterKey, 'the API key was replaced');
      assert.equal((await t.rest('GET', `/users/${squatter.id}`, { auth: `Bearer ${res.body.data.token}` })).status, 200);
    });

    test('wrong audience, wrong issuer, expired, foreign signature, unverified email or garbage: 401', async () => {
      const { privateKey: foreignKey } = await generateKeyPair('RS256');
      const claims = { sub: '777', email: 'mallory@example.com' };
      const bad = [
        await google.idToken(claims, { audience: 'someone-else.apps.googleusercontent.com' }),
        await google.idToken(claims, { issuer: 'https://evil.example.com' }),
        await google.idToken(claims, { issuedAt: '-2h', expiresIn: '-1h', key: foreignKey }),
        await google.idToken(claims, { key: foreignKey }),
        await google.idToken({ ...claims, email_verified: false }),
        'not-a-jwt',
      ];
      for (const token of bad) {
        const res = await signIn(token);
        assert.equal(res.status, 401, token.slice(0, 40));
        assert.equal(res.body.status, 'error');
      }
      const expired = await google.idToken(claims, { expiresIn: '-1m' });
      assert.equal((await signIn(expired)).status, 401);
      assert.equal((await t.rest('POST', '/auth/google', { body: {} })).status, 400);
    });

    const signInWithCode = (idToken: string, code: string) => t.rest('POST', '/auth/google', { body: { id_token: idToken, code } });

    test('an account with email 2FA must give its second factor: 401 with is_2fa_enabled without it, as at login', async () => {
      const user = await t.activeUser({ email: 'google-2fa@example.com' });
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } })).status, 200);
      const idToken = await google.idToken({ sub: 'g-2fa', email: user.email, name: 'Two' });
      const without = await signIn(idToken);
      assert.equal(without.status, 401);
      assert.deepEqual(without.body, { data: { is_2fa_enabled: true }, message: without.body.message, status: 'error', request_id: without.headers.get('x-request-id') });
      assert.equal((await signInWithCode(idToken, '000000')).status, 401);
      const ok = await signInWithCode(idToken, await t.otp(user.email, 'TWO_FACTOR_AUTH'));
      assert.equal(ok.status, 201);
      assert.equal(ok.body.data.id, user.id);

      const gql = await t.gql('mutation ($t: String!) { signInWithGoogle(input: { idToken: $t }) { token userErrors { code } } }', { t: idToken });
      assert.deepEqual(gql.body.data.signInWithGoogle, { token: null, userErrors: [{ code: 'TWO_FACTOR_REQUIRED' }] });
      const gqlOk = await t.gql('mutation ($t: String!, $c: String) { signInWithGoogle(input: { idToken: $t, code: $c }) { user { id } } }', { t: idToken, c: await t.otp(user.email, 'TWO_FACTOR_AUTH') });
      assert.equal(gqlOk.body.data.signInWithGoogle.user.id, user.id);
    });

    test('an account with authenticator 2FA needs the app code or a recovery code', async () => {
      const user = await t.activeUser({ email: 'google-totp@example.com' });
      const setup = await t.rest('POST', `/users/${user.id}/2fa/totp`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      const secret = setup.body.data.secret;
      await t.rest('POST', `/users/${user.id}/2fa/totp/confirm`, { auth: user.token, body: { code: await generate({ secret }) } });
      const idToken = await google.idToken({ sub: 'g-totp', email: user.email });
      assert.deepEqual((await signIn(idToken)).body.data, { is_2fa_enabled: true });
      const codes = (await t.rest('POST', `/users/${user.id}/2fa/recovery_codes`, { auth: user.token, body: { code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }) } })).body.data.recovery_codes;
      assert.equal((await signInWithCode(idToken, codes[0])).status, 201);
      assert.equal((await signInWithCode(idToken, codes[0])).status, 401, 'used once');
    });

    test('an account linked to one Google account refuses another Google account with the same email', async () => {
      const first = await signIn(await google.idToken({ sub: 'g-owner', email: 'shared@example.com', name: 'Owner' }));
      assert.equal(first.status, 201);
      const other = await signIn(await google.idToken({ sub: 'g-intruder', email: 'shared@example.com', name: 'Intruder' }));
      assert.equal(other.status, 401);
      assert.equal(other.body.status, 'error');
      assert.match(other.body.message, /different Google account/);
      const [row] = await t.orm.em.fork().getConnection().execute('select google_id from users where email = ?', ['shared@example.com']);
      assert.equal(row.google_id, 'g-owner', 'the link is unchanged');
      assert.equal((await signIn(await google.idToken({ sub: 'g-owner', email: 'shared@example.com' }))).status, 201);
    });

    test('an ID token without exp, iat, sub or email is refused', async () => {
      const bad = [
        await google.idToken({ sub: 'g-noexp', email: 'noexp@example.com' }, { omit: ['exp'] }),
        await google.idToken({ sub: 'g-noiat', email: 'noiat@example.com' }, { omit: ['iat'] }),
        await google.idToken({ email: 'nosub@example.com' }),
        await google.idToken({ sub: 'g-noemail' }),
      ];
      for (const token of bad) assert.equal((await signIn(token)).status, 401);
      const [count] = await t.orm.em.fork().getConnection().execute(`select count(*)::int as n from users where email in ('noexp@example.com', 'noiat@example.com', 'nosub@example.com')`);
      assert.equal(count.n, 0, 'no account was made');
    });

    test('GraphQL signInWithGoogle', async () => {
      const res = await t.gql('mutation ($t: String!) { signInWithGoogle(input: { idToken: $t }) { token user { email isActive } } }', {
        t: await google.idToken({ sub: '888', email: 'gql.google@example.com', name: 'G' }),
      });
      assert.deepEqual(res.body.data.signInWithGoogle.user, { email: 'gql.google@example.com', isActive: true });
    });
  });
}
