import type { Logger } from 'pino';
import type { Config } from '../../core/config';
import { LocalStripeServer } from './local-stripe-server';

/**
 * `npm start` without STRIPE_SECRET_KEY: runs the local Stripe server in this process and points the
 * Stripe SDK at it (so its checkout page and webhooks go through the real fulfilment path). Does nothing
 * when a key is configured.
 */
export async function startLocalStripeIfUnconfigured(config: Config, log: Logger): Promise<LocalStripeServer | undefined> {
  if (!config.stripe.local) return undefined;
  const server = await new LocalStripeServer({
    secretKey: config.stripe.secretKey,
    webhookSecret: config.stripe.webhookSecret,
    port: Number(process.env.STRIPE_LOCAL_PORT ?? 0),
    onError: (error) => log.error({ err: error }, 'local Stripe server error'),
  }).start();
  config.stripe = { ...config.stripe, apiHost: '127.0.0.1', apiPort: server.port, apiProtocol: 'http' };
  log.warn(`STRIPE_SECRET_KEY is not set: payments go to the local Stripe simulator at ${server.url} (no real money)`);
  return server;
}
