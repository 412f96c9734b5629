import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { testDatabases } from '../helpers/database';
import { basic, TestApp } from '../helpers/harness';

const SECRET = 'test-jwt-secret-that-is-long-enough-1234567890';

for (const db of testDatabases()) {
  describe(`login, tokens and logout (${db})`, () => {
    const t = new TestApp(db);
    before(() => t.start());
    after(() => t.stop());

    test('Basic login answers 200 with the user and a clara_user_ token that works as Bearer', async () => {
      const user = await t.activeUser();
      const res = await t.login(user.email, user.password);
      assert.equal(res.status, 200);
      assert.equal(res.body.data.id, user.id);
      assert.equal(res.body.data.is_active, true);
      const token: string = res.body.data.token;
      assert.ok(token.startsWith('clara_user_'));
      const claims = jwt.decode(token.slice('clara_user_'.length)) as jwt.JwtPayload;
      assert.equal(claims.sub, user.id);
      assert.equal(claims.role, 'user');
      assert.equal(claims.exp! - claims.iat!, 7 * 86400, 'sessions last SESSION_DAYS (7) by default');
      // One clock reading makes the session and its token: the row's start and expiry are the token's iat and exp.
      const [session] = await t.orm.em.fork().getConnection().execute('select created_at, expires_at from sessions where id = ?', [claims.sid]);
      assert.equal(new Date(session.created_at).getTime(), claims.iat! * 1000);
      assert.equal(new Date(session.expires_at).getTime(), claims.exp! * 1000);
      const me = await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${token}` });
      assert.equal(me.status, 200);
      assert.equal(me.body.data.email, user.email);
    });

    test('wrong password, unknown email, malformed or missing Basic header: 401', async () => {
      const user = await t.activeUser();
      assert.equal((await t.login(user.email, 'wrong password')).status, 401);
      assert.equal((await t.login('nobody@example.com', 'whatever1')).status, 401);
      assert.equal((await t.rest('POST', '/auth/session', { auth: 'Basic not-base64!' })).status, 401);
      assert.equal((await t.rest('POST', '/auth/session')).status, 401);
      const wrong = await t.login(user.email, 'wrong password');
      assert.deepEqual(Object.keys(wrong.body).sort(), ['data', 'message', 'request_id', 'status']);
      assert.doesNotMatch(JSON.stringify(wrong.body), /stack|argon/i);
    });

    test('Basic is only for login: other routes refuse it with 401', async () => {
      const user = await t.activeUser();
      const res = await t.rest('GET', `/users/${user.id}`, { auth: basic(user.email, user.password) });
      assert.equal(res.status, 401);
    });

    test('logout answers 204 and the token is refused at once; other sessions stay', async () => {
      const user = await t.activeUser();
      const first = `Bearer ${(await t.login(user.email, user.password)).body.data.token}`;
      const second = `Bearer ${(await t.login(user.email, user.password)).body.data.token}`;
      const out = await t.rest('DELETE', '/auth/session', { auth: first });
      assert.equal(out.status, 204);
      assert.equal(out.body, null);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: first })).status, 401);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: second })).status, 200);
      assert.equal((await t.rest('DELETE', '/auth/session')).status, 401);
    });

    test('expired, tampered, alg-none and foreign-key tokens are refused with 401', async () => {
      const user = await t.activeUser();
      const token = (await t.login(user.email, user.password)).body.data.token.slice('clara_user_'.length);
      const claims = jwt.decode(token) as jwt.JwtPayload;
      const expired = jwt.sign({ sub: user.id, role: 'user', sid: claims.sid, exp: Math.floor(Date.now() / 1000) - 10 }, SECRET);
      const foreign = jwt.sign({ sub: user.id, role: 'user', sid: claims.sid }, 'another-secret');
      const none = jwt.sign({ sub: user.id, role: 'user', sid: claims.sid }, '', { algorithm: 'none' });
      const [head, , sig] = token.split('.');
      const tampered = [head, Buffer.from(JSON.stringify({ ...claims, sub: 'user_' + 'f'.repeat(32) })).toString('base64url'), sig].join('.');
      for (const bad of [expired, foreign, none, tampered, 'garbage', `${token}x`]) {
        const res = await t.rest('GET', `/users/${user.id}`, { auth: `Bearer clara_user_${bad}` });
        assert.equal(res.status, 401, bad);
        assert.equal(res.body.status, 'error');
      }
      // A valid signature over a session that does not exist is refused too.
      const ghost = jwt.sign({ sub: user.id, role: 'user', sid: 'session_' + '0'.repeat(32) }, SECRET);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: `Bearer clara_user_${ghost}` })).status, 401);
    });

    test('a session past its expiry is refused even when the JWT itself has not expired', async () => {
      const user = await t.activeUser();
      const token = (await t.login(user.email, user.password)).body.data.token.slice('clara_user_'.length);
      const claims = jwt.decode(token) as jwt.JwtPayload;
      await t.orm.em.fork().getConnection().execute(`update sessions set expires_at = now() - interval '1 minute' where id = '${claims.sid}'`);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: `Bearer clara_user_${token}` })).status, 401);
    });

    test('GraphQL login and logout', async () => {
      const user = await t.activeUser();
      const login = await t.gql('mutation ($i: LoginInput!) { login(input: $i) { token user { id } } }', { i: { email: user.email, password: user.password } });
      assert.equal(login.body.data.login.user.id, user.id);
      const auth = `Bearer ${login.body.data.login.token}`;
      assert.deepEqual((await t.gql('mutation { logout { done userErrors { code } } }', {}, auth)).body.data.logout, { done: true, userErrors: [] });
      const after = await t.gql('{ viewer { id } }', {}, auth);
      assert.equal(after.body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
      const bad = await t.gql('mutation ($i: LoginInput!) { login(input: $i) { token userErrors { code message } } }', { i: { email: user.email, password: 'nope' } });
      assert.equal(bad.body.data.login.token, null);
      assert.equal(bad.body.data.login.userErrors[0].code, 'UNAUTHENTICATED', 'a wrong password is a typed user error');
    });
  });

  describe(`session length is configurable (${db})`, () => {
    const t = new TestApp(db, { SESSION_DAYS: '2' });
    before(() => t.start());
    after(() => t.stop());

    test('SESSION_DAYS sets the token and session lifetime', async () => {
      const user = await t.activeUser();
      const token = (await t.login(user.email, user.password)).body.data.token.slice('clara_user_'.length);
      const claims = jwt.decode(token) as jwt.JwtPayload;
      assert.equal(claims.exp! - claims.iat!, 2 * 86400);
    });
  });
}
