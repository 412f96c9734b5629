import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

for (const db of testDatabases()) {
  describe(`view and update the user (${db})`, () => {
    const t = new TestApp(db);
    before(() => t.start());
    after(() => t.stop());

    test('view own user with a user token or an API key token; never secrets', async () => {
      const user = await t.activeUser();
      const byToken = await t.rest('GET', `/users/${user.id}`, { auth: user.token });
      assert.equal(byToken.status, 200);
      assert.equal(byToken.body.message, 'User fetched successfully.');
      assert.deepEqual(Object.keys(byToken.body.data).sort(), ['created_at', 'credits', 'email', 'first_name', 'id', 'is_2fa_enabled', 'is_active', 'is_dark_mode', 'last_name', 'updated_at']);
      const key = (await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token;
      const byKey = await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${key}` });
      assert.equal(byKey.status, 200);
      assert.deepEqual(byKey.body.data, byToken.body.data);
      assert.doesNotMatch(JSON.stringify(byKey.body), /password|argon|google|stripe/i);
    });

    test("another user's id is 403, an unknown id 404, no auth 401 — never the data", async () => {
      const me = await t.activeUser();
      const other = await t.activeUser();
      const res = await t.rest('GET', `/users/${other.id}`, { auth: me.token });
      assert.equal(res.status, 403);
      assert.equal(res.body.data, null);
      assert.doesNotMatch(JSON.stringify(res.body), new RegExp(other.email));
      assert.equal((await t.rest('GET', `/users/user_${'0'.repeat(32)}`, { auth: me.token })).status, 404);
      assert.equal((await t.rest('GET', `/users/${me.id}`)).status, 401);
      assert.equal((await t.rest('PATCH', `/users/${other.id}`, { auth: me.token, body: { first_name: 'Pwned' } })).status, 403);
      const gql = await t.gql('query ($id: ID!) { user(id: $id) { email } }', { id: other.id }, me.token);
      assert.equal(gql.body.errors?.[0].extensions.code, 'FORBIDDEN');
      assert.equal(gql.body.data, null);
    });

    test('update names and dark mode; the answer is the updated user', async () => {
      const user = await t.activeUser();
      const res = await t.rest('PATCH', `/users/${user.id}`, { auth: user.token, body: { first_name: 'Augusta', last_name: 'King', is_dark_mode: false } });
      assert.equal(res.status, 200);
      assert.equal(res.body.message, 'User updated successfully.');
      assert.equal(res.body.data.first_name, 'Augusta');
      assert.equal(res.body.data.last_name, 'King');
      assert.equal(res.body.data.is_dark_mode, false);
      const view = await t.rest('GET', `/users/${user.id}`, { auth: user.token });
      assert.equal(view.body.data.first_name, 'Augusta');
    });

    test('forbidden keys are refused with 400 and nothing changes', async () => {
      const user = await t.activeUser();
      for (const key of ['id', 'email', 'password', 'credits', 'is_2fa_enabled', 'is_active', 'created_at', 'updated_at', 'stripe_customer_id', 'google_id']) {
        const res = await t.rest('PATCH', `/users/${user.id}`, { auth: user.token, body: { first_name: 'Changed', [key]: key === 'credits' ? 1000 : 'x' } });
        assert.equal(res.status, 400, key);
        assert.match(res.body.message, new RegExp(key));
      }
      const view = await t.rest('GET', `/users/${user.id}`, { auth: user.token });
      assert.equal(view.body.data.first_name, 'Ada');
      assert.equal(view.body.data.credits, 0);
    });

    test('wrong types and empty bodies are 400', async () => {
      const user = await t.activeUser();
      for (const body of [{ is_dark_mode: 'yes' }, { first_name: 42 }, { first_name: '' }, {}]) {
        assert.equal((await t.rest('PATCH', `/users/${user.id}`, { auth: user.token, body })).status, 400, JSON.stringify(body));
      }
    });

    test('an API key may read but not change the account', async () => {
      const user = await t.activeUser();
      const key = (await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token;
      const res = await t.rest('PATCH', `/users/${user.id}`, { auth: `Bearer ${key}`, body: { first_name: 'Bot' } });
      assert.equal(res.status, 403);
      assert.equal((await t.rest('GET', `/users/${user.id}/api_key`, { auth: `Bearer ${key}` })).status, 403);
    });

    test('GraphQL updateUser refuses fields outside the input type', async () => {
      const user = await t.activeUser();
      const ok = await t.gql('mutation { updateUser(input: { isDarkMode: false }) { user { isDarkMode } userErrors { code } } }', {}, user.token);
      assert.deepEqual(ok.body.data.updateUser, { user: { isDarkMode: false }, userErrors: [] });
      const bad = await t.gql('mutation { updateUser(input: { credits: 5 }) { user { id } } }', {}, user.token);
      assert.equal(bad.status, 400);
      assert.ok(bad.body.errors?.length);
      for (const input of ['{ firstName: null }', '{ isDarkMode: null }']) {
        const nulls = await t.gql(`mutation { updateUser(input: ${input}) { user { id } userErrors { field code message } } }`, {}, user.token);
        assert.equal(nulls.body.data.updateUser.user, null, input);
        assert.equal(nulls.body.data.updateUser.userErrors[0].code, 'BAD_REQUEST', input);
      }
      const tooLong = await t.gql('mutation ($n: String!) { updateUser(input: { firstName: $n }) { user { id } userErrors { field code message } } }', { n: 'x'.repeat(201) }, user.token);
      assert.deepEqual(tooLong.body.data.updateUser.userErrors.map((e: { field: string[]; code: string }) => [e.field, e.code]), [[['input', 'firstName'], 'BAD_REQUEST']], 'validation is a typed user error naming the field');
      const others = await t.gql('mutation ($u: ID!) { updateUser(input: { userId: $u, isDarkMode: true }) { user { id } } }', { u: (await t.activeUser()).id }, user.token);
      assert.equal(others.body.errors?.[0].extensions.code, 'FORBIDDEN', 'someone else\'s account stays a permission error');
    });
  });
}
