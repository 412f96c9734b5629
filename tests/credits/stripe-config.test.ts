import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import Stripe from 'stripe';
import { loadConfig } from '../../src/core/config';
import { startLocalStripeIfUnconfigured } from '../../src/credits/local-stripe/in-process';

describe('Stripe configuration', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clara-stripe-config-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(40), PUBLIC_API_KEY: 'p' };
  const log = pino({ level: 'silent' });

  test('a configured key never uses the local server', async () => {
    const config = loadConfig({ ...base, STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' });
    assert.equal(config.stripe.local, false);
    assert.equal(await startLocalStripeIfUnconfigured(config, log), undefined);
    assert.equal(config.stripe.apiHost, undefined);
  });

  test('production refuses to start without a key; a key needs its webhook secret', () => {
    assert.throws(() => loadConfig({ ...base, NODE_ENV: 'production' }), /STRIPE_SECRET_KEY/);
    assert.throws(() => loadConfig({ ...base, STRIPE_SECRET_KEY: 'sk_test_x' }), /STRIPE_WEBHOOK_SECRET/);
    assert.throws(() => loadConfig({ ...base, STRIPE_API_PROTOCOL: 'ftp' }), /STRIPE_API_PROTOCOL/);
  });

  test('without a key the local server runs in-process and the real SDK reaches it', async () => {
    const config = loadConfig(base);
    const server = await startLocalStripeIfUnconfigured(config, log);
    assert.ok(server);
    try {
      assert.deepEqual([config.stripe.apiHost, config.stripe.apiPort, config.stripe.apiProtocol], ['127.0.0.1', server.port, 'http']);
      const sdk = new Stripe(config.stripe.secretKey, { host: config.stripe.apiHost, port: config.stripe.apiPort, protocol: config.stripe.apiProtocol });
      const customer = await sdk.customers.create({ email: 'x@example.com' });
      assert.match(customer.id, /^cus_/);
      assert.equal(server.requestsTo('POST', '/v1/customers')[0].params.email, 'x@example.com');
    } finally {
      await server.stop();
    }
  });

  test('rate tiers come from CREDIT_RATES', () => {
    const config = loadConfig({ ...base, CREDIT_RATES: '[{"lower_limit": 1, "upper_limit": 99.5, "rate": 120}]' });
    assert.deepEqual(config.creditRates, [{ lowerLimit: 1, upperLimit: 99.5, rate: 120 }]);
    assert.deepEqual(loadConfig(base).creditRates, [{ lowerLimit: 5, upperLimit: 10000, rate: 100 }]);
    assert.throws(() => loadConfig({ ...base, CREDIT_RATES: '[{"lower_limit": 10, "upper_limit": 5, "rate": 100}]' }), /CREDIT_RATES/);
  });
});
