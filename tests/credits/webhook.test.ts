import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { testDatabases } from '../helpers/database';
import { CreditsTestApp, WEBHOOK_SECRET } from '../helpers/stripe';

for (const db of testDatabases()) {
  describe(`Stripe webhook fulfilment (${db})`, () => {
    let t: CreditsTestApp;
    before(async () => {
      t = await CreditsTestApp.start(db);
    });
    after(() => t.stop());

    const sql = async (query: string, params: unknown[] = []) => t.orm.em.fork().getConnection().execute(query, params);
    const purchaseRows = async (userId: string) => (await sql('select * from transactions where user_id = ? and kind = ?', [userId, 'purchase'])) as any[];
    const purchaseStatus = async (sessionId: string) => (await sql('select status from purchases where checkout_session_id = ?', [sessionId]))[0].status;

    async function boughtSession(amount = 5) {
      const user = await t.activeUser();
      const { sessionId } = await t.buy(user, amount);
      return { user, sessionId };
    }

    test('the same event replayed 100 times grants once', async () => {
      const { user, sessionId } = await boughtSession(12.34);
      Object.assign(t.stripe.session(sessionId), { status: 'complete', payment_status: 'paid' });
      const signed = t.stripe.signedEvent('checkout.session.completed', sessionId);
      const outcomes: string[] = [];
      for (let i = 0; i < 100; i++) {
        const res = await t.stripe.deliver(signed);
        assert.equal(res.status, 200);
        outcomes.push(res.body.data.outcome);
      }
      assert.equal(outcomes.filter((o) => o === 'granted').length, 1);
      assert.equal(outcomes.filter((o) => o === 'duplicate').length, 99);
      assert.equal(await t.balance(user), 1234);
      const rows = await purchaseRows(user.id);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].fiat_cents, 1234);
      assert.equal(await purchaseStatus(sessionId), 'paid');
    });

    test('concurrent deliveries, of one event and of different events for one session, grant once', async () => {
      const { user, sessionId } = await boughtSession(5);
      Object.assign(t.stripe.session(sessionId), { status: 'complete', payment_status: 'paid' });
      const completed = t.stripe.signedEvent('checkout.session.completed', sessionId);
      const succeeded = t.stripe.signedEvent('checkout.session.async_payment_succeeded', sessionId);
      const deliveries = Array.from({ length: 30 }, (_, i) => t.stripe.deliver(i % 3 === 0 ? succeeded : completed));
      const results = await Promise.all(deliveries);
      assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.filter((r) => r.status !== 200)));
      assert.equal(results.filter((r) => r.body.data.outcome === 'granted').length, 1);
      assert.equal(await t.balance(user), 500);
      assert.equal((await purchaseRows(user.id)).length, 1);
      assert.equal((await sql('select count(*)::int as n from stripe_events where id in (?, ?)', [completed.event.id, succeeded.event.id]))[0].n, 2);
    });

    test('forged, tampered, stale or unsigned deliveries get 400 and change nothing', async () => {
      const { user, sessionId } = await boughtSession(5);
      Object.assign(t.stripe.session(sessionId), { status: 'complete', payment_status: 'paid' });
      const genuine = t.stripe.signedEvent('checkout.session.completed', sessionId);
      const forged = t.stripe.signedEvent('checkout.session.completed', sessionId, 'whsec_not_the_secret');
      const tampered = { ...genuine, payload: genuine.payload.replace('"amount_total":500', '"amount_total":50000') };
      assert.notEqual(tampered.payload, genuine.payload);
      const staleTimestamp = Math.floor(Date.now() / 1000) - 3600;
      const stale = { ...genuine, signature: Stripe.webhooks.generateTestHeaderString({ payload: genuine.payload, secret: WEBHOOK_SECRET, timestamp: staleTimestamp }) };
      const unsigned = { ...genuine, signature: '' };
      for (const attempt of [forged, tampered, stale, unsigned]) {
        const res = await t.stripe.deliver(attempt);
        assert.equal(res.status, 400);
        assert.equal(res.body.status, 'error');
        assert.match(res.body.message, /Stripe-Signature|signature/);
      }
      const events = await sql('select count(*)::int as n from stripe_events where id = ?', [genuine.event.id]);
      assert.equal(events[0].n, 0);
      assert.equal(await t.balance(user), 0);
      assert.equal(await purchaseStatus(sessionId), 'pending');
      // The genuine delivery still works afterwards.
      assert.equal((await t.stripe.deliver(genuine)).body.data.outcome, 'granted');
      assert.equal(await t.balance(user), 500);
    });

    test('out of order: the async success before the completion, and an expiry after the payment', async () => {
      const { user, sessionId } = await boughtSession(8);
      Object.assign(t.stripe.session(sessionId), { status: 'complete', payment_status: 'unpaid' });
      const completedUnpaid = t.stripe.signedEvent('checkout.session.completed', sessionId);
      t.stripe.session(sessionId).payment_status = 'paid';
      const succeeded = t.stripe.signedEvent('checkout.session.async_payment_succeeded', sessionId);
      const lateExpiry = t.stripe.signedEvent('checkout.session.expired', sessionId);
      assert.equal((await t.stripe.deliver(succeeded)).body.data.outcome, 'granted');
      assert.equal((await t.stripe.deliver(completedUnpaid)).body.data.outcome, 'unchanged');
      assert.equal((await t.stripe.deliver(lateExpiry)).body.data.outcome, 'unchanged');
      assert.equal(await t.balance(user), 800);
      assert.equal(await purchaseStatus(sessionId), 'paid');
    });

    test('a delayed payment that fails, and a session that expires, grant nothing', async () => {
      const failing = await boughtSession(5);
      assert.equal((await t.stripe.completeAwaitingPayment(failing.sessionId)).body.data.outcome, 'unchanged');
      assert.equal(await purchaseStatus(failing.sessionId), 'pending');
      assert.equal((await t.stripe.asyncPaymentResult(failing.sessionId, false)).body.data.outcome, 'failed');
      assert.equal(await purchaseStatus(failing.sessionId), 'failed');
      assert.equal(await t.balance(failing.user), 0);

      const expiring = await boughtSession(5);
      assert.equal((await t.stripe.expire(expiring.sessionId)).body.data.outcome, 'expired');
      assert.equal(await purchaseStatus(expiring.sessionId), 'expired');
      assert.equal(await t.balance(expiring.user), 0);
      assert.deepEqual(await t.transactions(expiring.user), []);
    });

    test('a delayed payment that succeeds grants once it is confirmed', async () => {
      const { user, sessionId } = await boughtSession(6);
      await t.stripe.completeAwaitingPayment(sessionId);
      assert.equal(await t.balance(user), 0);
      assert.equal((await t.stripe.asyncPaymentResult(sessionId, true)).body.data.outcome, 'granted');
      assert.equal(await t.balance(user), 600);
    });

    test('events of other types and for sessions that are not ours are acknowledged and ignored', async () => {
      const { user, sessionId } = await boughtSession(5);
      Object.assign(t.stripe.session(sessionId), { status: 'complete', payment_status: 'paid' });
      const other = t.stripe.signedEvent('customer.updated', sessionId);
      assert.deepEqual((await t.stripe.deliver(other)).body.data, { received: true, outcome: 'ignored' });
      const foreign = t.stripe.signedEvent('checkout.session.completed', sessionId);
      t.stripe.session(sessionId).client_reference_id = 'purchase_00000000000000000000000000000000';
      assert.equal((await t.stripe.deliver(foreign)).body.data.outcome, 'ignored');
      assert.equal(await t.balance(user), 0);
    });

    test('the local checkout page: Pay delivers the signed webhook, Cancel expires the session', async () => {
      const { user, sessionId } = await boughtSession(5);
      const page = await fetch(`${t.stripe.url}/checkout/${sessionId}`);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /Pay 5\.00 USD/);
      assert.match(html, /500 Clara credits/);
      const paid = await fetch(`${t.stripe.url}/checkout/${sessionId}/pay`, { method: 'POST' });
      assert.equal(paid.status, 200);
      assert.match(await paid.text(), /Payment complete/);
      assert.equal(await t.balance(user), 500);
      assert.equal((await fetch(`${t.stripe.url}/checkout/${sessionId}/pay`, { method: 'POST' })).status, 409);
      assert.equal(await t.balance(user), 500);

      const cancelled = await boughtSession(5);
      const res = await fetch(`${t.stripe.url}/checkout/${cancelled.sessionId}/cancel`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /cancelled/);
      assert.equal(await purchaseStatus(cancelled.sessionId), 'expired');
    });
  });
}
