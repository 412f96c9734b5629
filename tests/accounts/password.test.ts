import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../helpers/database';
import { PUBLIC_KEY, TestApp } from '../helpers/harness';

for (const db of testDatabases()) {
  describe(`change password (${db})`, () => {
    const t = new TestApp(db);
    before(() => t.start());
    after(() => t.stop());

    test('forgotten password: public key + CHANGE_PASSWORD code; every session ends; the new password works', async () => {
      const user = await t.activeUser();
      const other = `Bearer ${(await t.login(user.email, user.password)).body.data.token}`;
      const code = await t.otp(user.email, 'CHANGE_PASSWORD');
      const res = await t.rest('PATCH', `/users/${user.email}/password`, { auth: PUBLIC_KEY, body: { password: 'brand new password', code } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { data: null, message: 'User password changed successfully.', status: 'success' });
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: other })).status, 401);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 401);
      assert.equal((await t.login(user.email, user.password)).status, 401);
      assert.equal((await t.login(user.email, 'brand new password')).status, 200);
    });

    test('the forgotten-password path also replaces the API key; a signed-in change keeps it', async () => {
      const user = await t.activeUser();
      const key = (await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token;
      const signedIn = await t.rest('PATCH', `/users/${user.email}/password`, { auth: user.token, body: { password: 'changed while in', code: await t.otp(user.email, 'CHANGE_PASSWORD') } });
      assert.equal(signedIn.status, 200);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${key}` })).status, 200);
      const forgotten = await t.rest('PATCH', `/users/${user.email}/password`, { auth: PUBLIC_KEY, body: { password: 'recovered account', code: await t.otp(user.email, 'CHANGE_PASSWORD') } });
      assert.equal(forgotten.status, 200);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: `Bearer ${key}` })).status, 401);
    });

    test('signed in: own token + code keeps this session and ends the others', async () => {
      const user = await t.activeUser();
      const other = `Bearer ${(await t.login(user.email, user.password)).body.data.token}`;
      const code = await t.otp(user.email, 'CHANGE_PASSWORD');
      const res = await t.rest('PATCH', `/users/${user.email}/password`, { auth: user.token, body: { password: 'second password', code } });
      assert.equal(res.status, 200);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).status, 200);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: other })).status, 401);
    });

    test("a user token cannot change someone else's password", async () => {
      const mallory = await t.activeUser();
      const victim = await t.activeUser();
      const code = await t.otp(mallory.email, 'CHANGE_PASSWORD');
      const res = await t.rest('PATCH', `/users/${victim.email}/password`, { auth: mallory.token, body: { password: 'stolen password', code } });
      assert.equal(res.status, 403);
      assert.equal((await t.login(victim.email, victim.password)).status, 200);
    });

    test('bad input: short password 400, missing code 400, wrong code 401, unknown email 404, no auth 401', async () => {
      const user = await t.activeUser();
      const code = await t.otp(user.email, 'CHANGE_PASSWORD');
      const patch = (email: string, body: unknown, auth: string | null = PUBLIC_KEY) => t.rest('PATCH', `/users/${email}/password`, { auth: auth ?? undefined, body });
      assert.equal((await patch(user.email, { password: 'short', code })).status, 400);
      assert.equal((await patch(user.email, { password: 'long enough pw' })).status, 400);
      assert.equal((await patch(user.email, { password: 'long enough pw', code: code === '000000' ? '000001' : '000000' })).status, 401);
      assert.equal((await patch('nobody@example.com', { password: 'long enough pw', code })).status, 404);
      assert.equal((await patch(user.email, { password: 'long enough pw', code }, null)).status, 401);
      assert.equal((await patch(user.email, { password: 'long enough pw', code })).status, 200);
    });
  });
}
