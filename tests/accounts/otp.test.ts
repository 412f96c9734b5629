import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../helpers/database';
import { PUBLIC_KEY, TestApp } from '../helpers/harness';

for (const db of testDatabases()) {
  describe(`one-time codes (${db})`, () => {
    const t = new TestApp(db, { OTP_MAX_ATTEMPTS: '3' });
    before(() => t.start());
    after(() => t.stop());

    const activate = (email: string, code: string) => t.rest('POST', `/users/${email}/activate`, { auth: PUBLIC_KEY, body: { code } });
    const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

    test('send OTP answers 201 with data null and mails a six-digit code', async () => {
      const user = await t.register();
      const res = await t.rest('POST', `/users/${user.email}/otp/ACTIVATION`, { auth: PUBLIC_KEY });
      assert.equal(res.status, 201);
      assert.deepEqual(res.body, { data: null, message: 'OTP sent successfully.', status: 'success' });
      assert.match(await t.mailbox.nextCode(user.email, 1), /^\d{6}$/);
    });

    test('a new code of a type replaces the old one', async () => {
      const user = await t.register();
      const first = await t.mailbox.nextCode(user.email, 0);
      const second = await t.otp(user.email, 'ACTIVATION');
      if (first !== second) assert.equal((await activate(user.email, first)).status, 401);
      assert.equal((await activate(user.email, second)).status, 200);
    });

    test('codes are stored only as hashes', async () => {
      const user = await t.register();
      const code = await t.mailbox.nextCode(user.email, 0);
      const rows = await t.orm.em.fork().getConnection().execute(`select * from otps where user_id = '${user.id}'`);
      assert.equal(rows.length, 1);
      assert.doesNotMatch(JSON.stringify(rows), new RegExp(code));
      assert.match(rows[0].code_hash, /^[0-9a-f]{64}$/);
    });

    test('after the allowed number of wrong tries even the right code is refused', async () => {
      const user = await t.register();
      const code = await t.mailbox.nextCode(user.email, 0);
      for (let i = 0; i < 3; i++) assert.equal((await activate(user.email, wrongCode(code))).status, 401);
      assert.equal((await activate(user.email, code)).status, 401);
    });

    test('an expired code is refused', async () => {
      const user = await t.register();
      const code = await t.mailbox.nextCode(user.email, 0);
      await t.orm.em.fork().getConnection().execute(`update otps set expires_at = now() - interval '1 second' where user_id = '${user.id}'`);
      assert.equal((await activate(user.email, code)).status, 401);
    });

    test('a code of one type does not work for another', async () => {
      const user = await t.activeUser();
      const code = await t.otp(user.email, 'TWO_FACTOR_AUTH');
      const res = await t.rest('PATCH', `/users/${user.email}/password`, { auth: PUBLIC_KEY, body: { password: 'a new password', code } });
      assert.equal(res.status, 401);
    });

    test('concurrent submissions of the right code: exactly one succeeds', async () => {
      const user = await t.activeUser();
      const code = await t.otp(user.email, 'CHANGE_PASSWORD');
      const results = await Promise.all(
        Array.from({ length: 5 }, () => t.rest('PATCH', `/users/${user.email}/password`, { auth: PUBLIC_KEY, body: { password: 'another password', code } })),
      );
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      assert.equal(results.filter((r) => r.status === 401).length, 4);
    });

    test('OTP lifetime is configurable', async () => {
      const user = await t.register();
      const rows = await t.orm.em.fork().getConnection().execute(`select extract(epoch from (expires_at - created_at)) as seconds from otps where user_id = '${user.id}'`);
      assert.ok(Math.abs(Number(rows[0].seconds) - 600) < 5, `default 10 minutes, got ${rows[0].seconds}`);
    });
  });
}
