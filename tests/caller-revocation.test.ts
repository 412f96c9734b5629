import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TokenService } from '../src/auth/tokens';
import { testDatabases } from './helpers/database';
import { TestApp } from './helpers/harness';

const ME = '{ viewer { id } }';

/*
 * Two instances of the service on one database (as behind a load balancer): ending a session or an API
 * key on one must be refused by the other on its very next request, however warm that instance is.
 */
for (const db of testDatabases()) {
  describe(`logout and key reset reach every instance at once (${db})`, () => {
    const a = new TestApp(db);
    let b: TestApp;
    before(async () => {
      await a.start();
      b = await new TestApp(db, {}, { sharing: a }).start();
    });
    after(async () => {
      await b?.stop();
      await a.stop();
    });

    /** Warm instance B for this credential on every path (REST, GraphQL, repeated so compiled plans are in use). */
    async function warm(userId: string, auth: string): Promise<void> {
      for (let i = 0; i < 3; i++) {
        assert.equal((await b.rest('GET', `/users/${userId}`, { auth })).status, 200);
        assert.equal((await b.gql(ME, {}, auth)).body.data?.viewer.id, userId);
      }
    }

    test('a user token logged out on instance A is refused by instance B on the next request', async () => {
      const user = await a.activeUser();
      const token = `Bearer ${(await a.login(user.email, user.password)).body.data.token}`;
      await warm(user.id, token);

      assert.equal((await a.rest('DELETE', '/auth/session', { auth: token })).status, 204);

      const rest = await b.rest('GET', `/users/${user.id}`, { auth: token });
      assert.equal(rest.status, 401);
      assert.deepEqual(rest.body, { data: null, message: 'The session has ended; log in again.', status: 'error', request_id: rest.headers.get('x-request-id') });
      const gql = await b.gql(ME, {}, token);
      assert.equal(gql.body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
      // The registration token (another session) still works on both.
      assert.equal((await b.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 200);
    });

    test('an API key reset on instance A is refused by instance B on the next request; the new key works there', async () => {
      const user = await a.activeUser();
      const oldKey = `Bearer ${(await a.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token}`;
      await warm(user.id, oldKey);

      const reset = await a.rest('POST', `/users/${user.id}/api_key`, { auth: user.token });
      assert.equal(reset.status, 201);

      const refused = await b.rest('GET', `/users/${user.id}`, { auth: oldKey });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.message, 'The API key is no longer valid.');
      assert.equal((await b.gql(ME, {}, oldKey)).body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
      assert.equal((await b.rest('GET', `/users/${user.id}`, { auth: `Bearer ${reset.body.data.token}` })).status, 200);
    });

    test('a password change on A ends the other sessions on B at once', async () => {
      const user = await a.activeUser();
      const other = `Bearer ${(await a.login(user.email, user.password)).body.data.token}`;
      await warm(user.id, other);
      const code = await a.otp(user.email, 'CHANGE_PASSWORD');
      const changed = await a.rest('PATCH', `/users/${encodeURIComponent(user.email)}/password`, { auth: user.token, body: { password: 'a brand new password', code } });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal((await b.rest('GET', `/users/${user.id}`, { auth: other })).status, 401);
      assert.equal((await b.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 200);
    });
  });
}

describe('verified-token cache', () => {
  const secret = 'test-jwt-secret-that-is-long-enough-1234567890';

  test('a cached token still expires on time, and forged or unknown tokens are never served from it', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const tokens = new TokenService(secret, 2, () => now);
    const token = tokens.signUserToken('user_1', 'session_1', new Date(now + 60_000), new Date(now));
    assert.deepEqual(tokens.read(token), { sub: 'user_1', role: 'user', sid: 'session_1' });
    assert.deepEqual(tokens.read(token), { sub: 'user_1', role: 'user', sid: 'session_1' });
    now += 59_999;
    assert.ok(tokens.read(token));
    now += 1;
    assert.equal(tokens.read(token), null);
    // A token differing in its signature is another cache key and fails verification.
    const fresh = tokens.signUserToken('user_1', 'session_1', new Date(now + 60_000), new Date(now));
    assert.ok(tokens.read(fresh));
    assert.equal(tokens.read(fresh.slice(0, -2) + (fresh.endsWith('AA') ? 'BB' : 'AA')), null);
    assert.equal(new TokenService('another-secret-another-secret-another').read(fresh), null);
  });

  test('the cache holds at most its bound, oldest out first', () => {
    const now = Date.UTC(2026, 0, 1);
    const tokens = new TokenService(secret, 2, () => now);
    const cache = (tokens as unknown as { verified: Map<string, unknown> }).verified;
    const keys = ['k1', 'k2', 'k3'].map((id) => tokens.signApiKeyToken('user_1', id));
    for (const key of keys) assert.equal(tokens.read(key)?.sub, 'user_1');
    assert.deepEqual([...cache.keys()], keys.slice(1));
  });
});
