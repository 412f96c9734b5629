import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../helpers/database';
import { CreditsTestApp } from '../helpers/stripe';

const RFC1123 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

for (const db of testDatabases()) {
  describe(`buying credits (${db})`, () => {
    let t: CreditsTestApp;
    before(async () => {
      t = await CreditsTestApp.start(db);
    });
    after(() => t.stop());

    test('buy → Stripe Checkout → webhook → balance and ledger', async () => {
      const user = await t.activeUser();
      const res = await t.rest('POST', '/stripe/buy', { auth: user.token, body: { amount: 5, return_path: '/billing' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body.data).sort(), ['return_path', 'url', 'value_in_credits', 'value_in_fiat']);
      assert.equal(res.body.data.value_in_credits, 500);
      assert.equal(res.body.data.value_in_fiat, 5);
      assert.equal(res.body.data.return_path, '/billing');
      assert.match(res.body.data.url, new RegExp(`^${t.stripe.url}/checkout/cs_test_`));

      // What reached Stripe: a customer on first use, then the session in Stripe's form encoding.
      const [customer] = t.stripe.requestsTo('POST', '/v1/customers');
      assert.equal(customer.params.email, user.email);
      assert.deepEqual(customer.params.metadata, { user_id: user.id });
      const [checkout] = t.stripe.requestsTo('POST', '/v1/checkout/sessions');
      assert.equal(checkout.params.mode, 'payment');
      assert.deepEqual(checkout.params.line_items, [{ quantity: '1', price_data: { currency: 'usd', unit_amount: '500', product_data: { name: '500 Clara credits' } } }]);
      assert.equal((checkout.params.metadata as any).user_id, user.id);
      assert.equal((checkout.params.metadata as any).credits, '500');
      assert.match(checkout.idempotencyKey!, /^clara-checkout-purchase_[0-9a-f]{32}$/);
      assert.equal(checkout.params.success_url, 'https://app.clara.test/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}');
      assert.equal(checkout.params.cancel_url, 'https://app.clara.test/billing?checkout=cancelled');
      const sessionId = new URL(res.body.data.url).pathname.split('/').pop()!;
      assert.equal(t.stripe.session(sessionId).customer, await customerOf(t, user.id));

      assert.equal(await t.balance(user), 0, 'nothing is granted before payment');
      const delivered = await t.stripe.pay(sessionId);
      assert.equal(delivered.status, 200);
      assert.equal(delivered.body.data.outcome, 'granted');
      assert.equal(await t.balance(user), 500);

      const [purchase] = await t.transactions(user);
      assert.deepEqual(Object.keys(purchase).sort(), ['created_at', 'description', 'id', 'type', 'updated_at', 'user_id', 'value_in_credits', 'value_in_fiat']);
      assert.match(purchase.id, /^transaction_[0-9a-f]{32}$/);
      assert.equal(purchase.user_id, user.id);
      assert.equal(purchase.type, 'CREDIT');
      assert.equal(purchase.value_in_credits, 500);
      assert.equal(purchase.value_in_fiat, 5);
      assert.match(purchase.description, /bought 500 credits for 5\.00 USD/);
      assert.match(purchase.created_at, RFC1123);

      const gql = await t.gql('{ viewer { credits transactions { edges { node { kind balanceAfter valueInFiat { amount currencyCode minorUnits } reference task { id } } } } } }', {}, user.token);
      assert.equal(gql.body.data.viewer.credits, 500);
      const [row] = gql.body.data.viewer.transactions.edges.map((edge: { node: any }) => edge.node);
      assert.equal(row.kind, 'PURCHASE');
      assert.equal(row.balanceAfter, 500);
      assert.deepEqual(row.valueInFiat, { amount: '5.00', currencyCode: 'USD', minorUnits: 500 }, 'money is exact, never a float');
      assert.equal(row.task, null);
      assert.match(row.reference, /^purchase_/);
    });

    test('the Stripe customer is created once and reused', async () => {
      const user = await t.activeUser();
      const before = t.stripe.requestsTo('POST', '/v1/customers').length;
      await t.buy(user, 5);
      await t.buy(user, 7.5);
      await t.rest('POST', '/stripe/portal', { auth: user.token });
      assert.equal(t.stripe.requestsTo('POST', '/v1/customers').length, before + 1);
      const customer = await customerOf(t, user.id);
      const sessions = t.stripe.requestsTo('POST', '/v1/checkout/sessions').filter((r) => (r.params.metadata as any).user_id === user.id);
      assert.deepEqual(sessions.map((s) => s.params.customer), [customer, customer]);
      assert.equal(sessions[1].params.line_items && (sessions[1].params.line_items as any)[0].price_data.unit_amount, '750');
    });

    test('amounts no tier covers get 404, malformed bodies 400, and nothing is created at Stripe', async () => {
      const user = await t.activeUser();
      const before = t.stripe.requests.length;
      const cases: [unknown, number][] = [
        [{ amount: 4.99, return_path: '' }, 404],
        [{ amount: 10000.01, return_path: '' }, 404],
        [{ amount: 0, return_path: '' }, 400],
        [{ amount: -5, return_path: '' }, 400],
        [{ amount: 5.001, return_path: '' }, 400],
        [{ amount: '5', return_path: '' }, 400],
        [{ return_path: '' }, 400],
        [{ amount: 5, return_path: 'https://evil.example/phish' }, 400],
        [{ amount: 5, return_path: '//evil.example' }, 400],
        [{ amount: 5, extra: true }, 400],
        [[], 400],
      ];
      for (const [body, status] of cases) {
        const res = await t.rest('POST', '/stripe/buy', { auth: user.token, body });
        assert.equal(res.status, status, JSON.stringify(body));
        assert.equal(res.body.status, 'error');
        assert.equal(typeof res.body.message, 'string');
      }
      assert.equal((await t.rest('POST', '/stripe/buy', { auth: user.token, rawBody: '{"amount": ' })).status, 400);
      assert.equal((await t.rest('POST', '/stripe/buy', { auth: user.token })).status, 400);
      assert.equal(t.stripe.requests.length, before, 'no request reached Stripe');
      for (const [amount, code] of [['3', 'NOT_FOUND'], ['5.001', 'BAD_REQUEST'], ['0', 'BAD_REQUEST']]) {
        const gql = await t.gql('mutation ($a: Decimal!) { buyCredits(input: { amount: $a }) { checkout { url } userErrors { field code message } } }', { a: amount }, user.token);
        assert.equal(gql.body.data.buyCredits.checkout, null, amount);
        assert.equal(gql.body.data.buyCredits.userErrors[0].code, code, amount);
      }
      const float = await t.gql('mutation { buyCredits(input: { amount: 5.5 }) { checkout { url } } }', {}, user.token);
      assert.equal(float.status, 400, 'a float is not a Decimal');
      assert.equal(t.stripe.requests.length, before);
      const ok = await t.gql('mutation { buyCredits(input: { amount: "12.34", returnPath: "/billing" }) { checkout { valueInCredits valueInFiat { amount currencyCode } } userErrors { code } } }', {}, user.token);
      assert.deepEqual(ok.body.data.buyCredits, { checkout: { valueInCredits: 1234, valueInFiat: { amount: '12.34', currencyCode: 'USD' } }, userErrors: [] });
    });

    test('buying needs an active account and a user or API key token', async () => {
      const inactive = await t.register();
      assert.equal((await t.rest('POST', '/stripe/buy', { auth: inactive.token, body: { amount: 5 } })).status, 401);
      assert.equal((await t.rest('POST', '/stripe/buy', { body: { amount: 5 } })).status, 401);
      const user = await t.activeUser();
      const key = await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token });
      const viaKey = await t.rest('POST', '/stripe/buy', { auth: `Bearer ${key.body.data.token}`, body: { amount: 20 } });
      assert.equal(viaKey.status, 201);
      assert.equal(viaKey.body.data.value_in_credits, 2000);
    });

    test('rate: the configured tiers as documented', async () => {
      const user = await t.activeUser();
      const res = await t.rest('GET', '/stripe/rate', { auth: user.token });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, [{ lower_limit: 5, upper_limit: 10000, rate: 100 }]);
      assert.equal((await t.rest('GET', '/stripe/rate')).status, 401);
      const gql = await t.gql('{ stripeRate { lowerLimit { amount currencyCode } upperLimit { amount minorUnits } rate } }', {}, user.token);
      assert.deepEqual(gql.body.data.stripeRate, [{ lowerLimit: { amount: '5.00', currencyCode: 'USD' }, upperLimit: { amount: '10000.00', minorUnits: 1_000_000 }, rate: 100 }]);
    });

    test('portal: a billing portal session for the user’s customer', async () => {
      const user = await t.activeUser();
      const res = await t.rest('POST', '/stripe/portal', { auth: user.token, body: { return_path: '/settings' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body.data), ['url']);
      assert.match(res.body.data.url, new RegExp(`^${t.stripe.url}/portal/bps_`));
      const [portal] = t.stripe.requestsTo('POST', '/v1/billing_portal/sessions').slice(-1);
      assert.equal(portal.params.customer, await customerOf(t, user.id));
      assert.equal(portal.params.return_url, 'https://app.clara.test/settings');
      const page = await fetch(res.body.data.url);
      assert.equal(page.status, 200);
      const gql = await t.gql('mutation { portal { portal { url } } }', {}, user.token);
      assert.match(gql.body.data.portal.portal.url, /\/portal\/bps_/);
    });

    test('a Stripe outage is a 503 and leaves the balance alone', async () => {
      const outage = await CreditsTestApp.start(db, { STRIPE_SECRET_KEY: 'sk_test_wrong_key' });
      try {
        const user = await outage.activeUser();
        const res = await outage.rest('POST', '/stripe/buy', { auth: user.token, body: { amount: 5 } });
        assert.equal(res.status, 503);
        assert.equal(res.body.status, 'error');
        assert.equal(await outage.balance(user), 0);
      } finally {
        await outage.stop();
      }
    });
  });
}

async function customerOf(t: CreditsTestApp, userId: string): Promise<string> {
  const rows = await t.orm.em.fork().getConnection().execute('select stripe_customer_id from users where id = ?', [userId]);
  return rows[0].stripe_customer_id;
}
