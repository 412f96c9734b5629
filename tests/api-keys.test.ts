import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { testDatabases } from './helpers/database';
import { TestApp } from './helpers/harness';

for (const db of testDatabases()) {
  describe(`API keys (${db})`, () => {
    const t = new TestApp(db);
    before(() => t.start());
    after(() => t.stop());

    test('view: the documented shape, the same token each time, a clara_api_ JWT with sub and role api_key', async () => {
      const user = await t.activeUser();
      const first = await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token });
      assert.equal(first.status, 200);
      assert.deepEqual(Object.keys(first.body.data).sort(), ['created_at', 'id', 'token', 'updated_at']);
      assert.match(first.body.data.id, /^api_key_[0-9a-f]{32}$/);
      const token: string = first.body.data.token;
      assert.ok(token.startsWith('clara_api_'));
      const claims = jwt.decode(token.slice('clara_api_'.length)) as jwt.JwtPayload;
      assert.equal(claims.sub, user.id);
      assert.equal(claims.role, 'api_key');
      const second = await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token });
      assert.equal(second.body.data.token, token);
    });

    test('reset answers 201 with a new key; the old token stops working at once', async () => {
      const user = await t.activeUser();
      const old = (await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data;
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${old.token}` })).status, 200);
      const reset = await t.rest('POST', `/users/${user.id}/api_key`, { auth: user.token });
      assert.equal(reset.status, 201);
      assert.notEqual(reset.body.data.id, old.id);
      assert.notEqual(reset.body.data.token, old.token);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${old.token}` })).status, 401);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${reset.body.data.token}` })).status, 200);
    });

    test('the database holds no usable secret: only the key id', async () => {
      const user = await t.activeUser();
      const key = (await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data;
      const rows = await t.orm.em.fork().getConnection().execute(`select * from api_keys where user_id = '${user.id}'`);
      assert.deepEqual(Object.keys(rows[0]).sort(), ['created_at', 'id', 'updated_at', 'user_id']);
      assert.ok(!JSON.stringify(rows).includes(key.token.slice(10, 40)));
    });

    test("another user's API key path is 403; a key forged for another user is 401", async () => {
      const me = await t.activeUser();
      const other = await t.activeUser();
      assert.equal((await t.rest('GET', `/users/${other.id}/api_key`, { auth: me.token })).status, 403);
      assert.equal((await t.rest('POST', `/users/${other.id}/api_key`, { auth: me.token })).status, 403);
      const mine = (await t.rest('GET', `/users/${me.id}/api_key`, { auth: me.token })).body.data;
      // My key id with the other user's id as subject, signed with a guessed secret.
      const forged = 'clara_api_' + jwt.sign({ sub: other.id, role: 'api_key', jti: mine.id }, 'guess', { noTimestamp: true });
      assert.equal((await t.rest('GET', `/users/${other.id}`, { auth: `Bearer ${forged}` })).status, 401);
    });

    test('GraphQL apiKey and resetApiKey', async () => {
      const user = await t.activeUser();
      const view = await t.gql('{ viewer { apiKey { id token } } }', {}, user.token);
      const viewed = view.body.data.viewer.apiKey;
      const reset = await t.gql('mutation { resetApiKey { apiKey { id token } userErrors { code } } }', {}, user.token);
      assert.deepEqual(reset.body.data.resetApiKey.userErrors, []);
      assert.notEqual(reset.body.data.resetApiKey.apiKey.id, viewed.id);
      const old = await t.gql('{ viewer { id } }', {}, `Bearer ${viewed.token}`);
      assert.equal(old.body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
      const fresh = await t.gql('{ viewer { id } }', {}, `Bearer ${reset.body.data.resetApiKey.apiKey.token}`);
      assert.equal(fresh.body.data.viewer.id, user.id);
      const byKey = await t.gql('{ viewer { apiKey { token } } }', {}, `Bearer ${reset.body.data.resetApiKey.apiKey.token}`);
      assert.equal(byKey.body.errors?.[0].extensions.code, 'FORBIDDEN', 'an API key cannot read the key');
    });
  });
}
