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

    describe('guessing across re-issued codes (CODE_MAX_FAILURES 5, per account and flow)', () => {
      const failuresOf = async (userId: string, flow: string) => {
        const [row] = await t.orm.em.fork().getConnection().execute('select failures from code_attempts where user_id = ? and flow = ?', [userId, flow]);
        return row ? Number(row.failures) : 0;
      };
      const lockoutMails = (email: string) => t.mailbox.received.filter((m) => m.to === email && /too many wrong codes/i.test(m.subject));
      const resetPassword = (email: string, code: string) => t.rest('PATCH', `/users/${email}/password`, { auth: PUBLIC_KEY, body: { password: 'a brand new password', code } });

      test('a new code does not reset the count: after 5 wrong codes over two issues even the right one is refused with 429, and the owner is told', async () => {
        const user = await t.activeUser();
        const first = await t.otp(user.email, 'CHANGE_PASSWORD');
        for (let i = 0; i < 3; i++) assert.equal((await resetPassword(user.email, wrongCode(first))).status, 401);
        const second = await t.otp(user.email, 'CHANGE_PASSWORD');
        for (let i = 0; i < 2; i++) assert.equal((await resetPassword(user.email, wrongCode(second))).status, 401);
        const locked = await resetPassword(user.email, second);
        assert.equal(locked.status, 429);
        assert.equal(locked.body.status, 'error');
        assert.match(locked.body.message, /locked/);
        assert.ok(locked.body.data.retry_after_seconds > 14 * 60 && locked.body.data.retry_after_seconds <= 15 * 60);
        assert.equal((await t.login(user.email, user.password)).status, 200, 'the password was not changed');
        assert.equal(lockoutMails(user.email).length, 1, 'the owner got one lockout notice');
        assert.match(lockoutMails(user.email)[0].text, /resetting your password/);
        const third = await t.otp(user.email, 'CHANGE_PASSWORD');
        assert.equal((await resetPassword(user.email, third)).status, 429, 'a fresh code does not lift the lock');
        // Stand in for the lockout period passing.
        await t.orm.em.fork().getConnection().execute(`update code_attempts set locked_until = now() - interval '1 second' where user_id = ?`, [user.id]);
        assert.equal((await resetPassword(user.email, third)).status, 200);
        assert.equal(await failuresOf(user.id, 'CHANGE_PASSWORD'), 0, 'a right code clears the count');
      });

      test('activation codes are counted the same way; flows are counted apart', async () => {
        const user = await t.register();
        const first = await t.mailbox.nextCode(user.email, 0);
        for (let i = 0; i < 3; i++) assert.equal((await activate(user.email, wrongCode(first))).status, 401);
        const second = await t.otp(user.email, 'ACTIVATION');
        for (let i = 0; i < 2; i++) assert.equal((await activate(user.email, wrongCode(second))).status, 401);
        assert.equal((await activate(user.email, second)).status, 429);
        assert.equal(await failuresOf(user.id, 'ACTIVATION'), 5);
        assert.equal(await failuresOf(user.id, 'CHANGE_PASSWORD'), 0);
      });

      test('many concurrent wrong guesses: exactly CODE_MAX_FAILURES are checked, the rest refused, the count is exact', async () => {
        const user = await t.register();
        const code = await t.mailbox.nextCode(user.email, 0);
        const guesses = await Promise.all(Array.from({ length: 20 }, () => activate(user.email, wrongCode(code))));
        const statuses = guesses.map((g) => g.status).sort();
        assert.deepEqual(statuses, [...Array(5).fill(401), ...Array(15).fill(429)]);
        assert.equal(await failuresOf(user.id, 'ACTIVATION'), 5);
        assert.equal(lockoutMails(user.email).length, 1);
      });

      test('a right code before the limit clears the count', async () => {
        const user = await t.activeUser();
        const code = await t.otp(user.email, 'CHANGE_PASSWORD');
        for (let i = 0; i < 2; i++) await resetPassword(user.email, wrongCode(code));
        assert.equal(await failuresOf(user.id, 'CHANGE_PASSWORD'), 2);
        assert.equal((await resetPassword(user.email, code)).status, 200);
        assert.equal(await failuresOf(user.id, 'CHANGE_PASSWORD'), 0);
      });
    });

    test('OTP lifetime is configurable', async () => {
      const user = await t.register();
      const rows = await t.orm.em.fork().getConnection().execute(`select extract(epoch from (expires_at - created_at)) as seconds from otps where user_id = '${user.id}'`);
      assert.ok(Math.abs(Number(rows[0].seconds) - 600) < 5, `default 10 minutes, got ${rows[0].seconds}`);
    });
  });
}
