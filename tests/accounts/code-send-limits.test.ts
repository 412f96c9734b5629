import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../helpers/database';
import { PUBLIC_KEY, TestApp } from '../helpers/harness';

for (const db of testDatabases()) {
  describe(`how often codes are mailed to one account (${db})`, () => {
    const t = new TestApp(db, { OTP_RESEND_INTERVAL_SECONDS: '3600', OTP_SENDS_PER_HOUR: '2' });
    before(() => t.start());
    after(() => t.stop());

    const send = (email: string, type: string) => t.rest('POST', `/users/${email}/otp/${type}`, { auth: PUBLIC_KEY });

    test('one code of a type per interval, then 429 in the envelope with Retry-After; no mail goes out', async () => {
      const user = await t.register();
      const mails = t.mailbox.countTo(user.email);
      const again = await send(user.email, 'ACTIVATION');
      assert.equal(again.status, 429);
      assert.deepEqual(Object.keys(again.body).sort(), ['data', 'message', 'request_id', 'status']);
      assert.equal(again.body.status, 'error');
      assert.ok(again.body.data.retry_after_seconds > 3500);
      assert.equal(again.headers.get('retry-after'), String(again.body.data.retry_after_seconds));
      assert.equal(t.mailbox.countTo(user.email), mails, 'no mail was sent');
      // A registration of the same (unactivated) address mails a code too, so it is limited the same way.
      const reRegister = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body: { first_name: 'A', last_name: 'B', email: user.email, password: 'another password' } });
      assert.equal(reRegister.status, 429);
    });

    test('the documented 201 for a normal send; a cap per hour over all types; other accounts unaffected', async () => {
      const user = await t.register();
      const first = await send(user.email, 'CHANGE_PASSWORD');
      assert.equal(first.status, 201);
      assert.deepEqual(first.body, { data: null, message: 'OTP sent successfully.', status: 'success' });
      const capped = await send(user.email, 'TWO_FACTOR_AUTH');
      assert.equal(capped.status, 429, 'two codes this hour already (activation, password)');
      const other = await t.register();
      assert.equal((await send(other.email, 'CHANGE_PASSWORD')).status, 201);
    });
  });
}
