import { LocalStripeServer } from '../../src/credits/local-stripe/local-stripe-server';
import type { DatabaseKind } from './database';
import { TestApp } from './harness';

export const STRIPE_KEY = 'sk_test_clara_suite';
export const WEBHOOK_SECRET = 'whsec_test_clara_suite';

/**
 * The service configured as with a real Stripe key, its SDK pointed at the project's local Stripe server:
 * every test runs the real SDK, the real wire formats and the real signature check.
 */
export class CreditsTestApp extends TestApp {
  readonly stripe: LocalStripeServer;

  constructor(database: DatabaseKind, stripe: LocalStripeServer, env: Record<string, string> = {}) {
    super(database, {
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_HOST: '127.0.0.1',
      STRIPE_API_PORT: String(stripe.port),
      STRIPE_API_PROTOCOL: 'http',
      APP_URL: 'https://app.clara.test',
      ...env,
    });
    this.stripe = stripe;
  }

  static async start(database: DatabaseKind, env: Record<string, string> = {}): Promise<CreditsTestApp> {
    const stripe = await new LocalStripeServer({ secretKey: STRIPE_KEY, webhookSecret: WEBHOOK_SECRET }).start();
    const app = await new CreditsTestApp(database, stripe, env).start();
    stripe.webhookUrl = `${app.baseUrl}/api/v1/stripe/settle`;
    return app;
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.stripe.stop();
  }

  /** Starts a purchase over REST and returns the checkout session id from its URL. */
  async buy(user: { token: string }, amount: number, returnPath = '/billing'): Promise<{ sessionId: string; body: any }> {
    const res = await this.rest('POST', '/stripe/buy', { auth: user.token, body: { amount, return_path: returnPath } });
    if (res.status !== 201) throw new Error(`buy failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { sessionId: new URL(res.body.data.url).pathname.split('/').pop()!, body: res.body };
  }

  async balance(user: { id: string; token: string }): Promise<number> {
    const res = await this.rest('GET', `/users/${user.id}`, { auth: user.token });
    return res.body.data.credits;
  }

  async transactions(user: { id: string; token: string }, query = ''): Promise<any[]> {
    const res = await this.rest('GET', `/users/${user.id}/transactions${query}`, { auth: user.token });
    if (res.status !== 200) throw new Error(`transactions failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data;
  }
}
