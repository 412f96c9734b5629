import Stripe from 'stripe';
import type { Logger } from 'pino';
import type { StripeConfig } from '../core/config';
import { badRequest, DomainError } from '../core/errors';

export type CheckoutSession = Stripe.Checkout.Session;
export type StripeWebhookEvent = Stripe.Event;

export interface CheckoutRequest {
  customerId: string;
  purchaseId: string;
  userId: string;
  credits: number;
  amountCents: number;
  currency: string;
  successUrl: string;
  cancelUrl: string;
}

/**
 * The Stripe API as this service uses it, through the official SDK. Host, port and protocol are
 * configurable so that tests and `npm start` without a key reach the project's local Stripe server.
 */
export class StripeService {
  private readonly client: Stripe;

  constructor(private readonly config: StripeConfig, private readonly log: Logger) {
    this.client = new Stripe(config.secretKey, {
      host: config.apiHost,
      port: config.apiPort,
      protocol: config.apiProtocol,
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
      appInfo: { name: 'clara' },
    });
  }

  /** The idempotency key makes concurrent first purchases of one user share a single customer. */
  async createCustomer(user: { id: string; email: string; firstName: string; lastName?: string | null }): Promise<string> {
    const customer = await this.call('customers.create', () =>
      this.client.customers.create(
        { email: user.email, name: [user.firstName, user.lastName].filter(Boolean).join(' '), metadata: { user_id: user.id } },
        { idempotencyKey: `clara-customer-${user.id}` },
      ),
    );
    return customer.id;
  }

  createCheckoutSession(request: CheckoutRequest): Promise<CheckoutSession> {
    const metadata = { user_id: request.userId, purchase_id: request.purchaseId, credits: String(request.credits) };
    return this.call('checkout.sessions.create', () =>
      this.client.checkout.sessions.create(
        {
          mode: 'payment',
          customer: request.customerId,
          client_reference_id: request.purchaseId,
          line_items: [{ quantity: 1, price_data: { currency: request.currency, unit_amount: request.amountCents, product_data: { name: `${request.credits} Clara credits` } } }],
          metadata,
          payment_intent_data: { metadata },
          success_url: request.successUrl,
          cancel_url: request.cancelUrl,
        },
        // One purchase, one session: a retried request can never open a second one.
        { idempotencyKey: `clara-checkout-${request.purchaseId}` },
      ),
    );
  }

  retrieveCheckoutSession(id: string): Promise<CheckoutSession> {
    return this.call('checkout.sessions.retrieve', () => this.client.checkout.sessions.retrieve(id));
  }

  async createPortalSession(customerId: string, returnUrl: string): Promise<string> {
    const session = await this.call('billing_portal.sessions.create', () => this.client.billingPortal.sessions.create({ customer: customerId, return_url: returnUrl }));
    return session.url;
  }

  /** Checks the Stripe-Signature header over the exact bytes received; anything else is a 400. */
  verifyWebhook(rawBody: Buffer, signature: string | undefined): StripeWebhookEvent {
    if (!signature) throw badRequest('The Stripe-Signature header is missing.');
    try {
      return this.client.webhooks.constructEvent(rawBody, signature, this.config.webhookSecret, this.config.webhookToleranceSeconds);
    } catch (error) {
      this.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'Stripe webhook refused: bad signature');
      throw badRequest('The Stripe signature is not valid.');
    }
  }

  /** Stripe failures become a 503 for the client; the log keeps what helps (never the key or the request body). */
  private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const e = error as Partial<Stripe.errors.StripeError>;
      this.log.error({ operation, type: e.type, code: e.code, statusCode: e.statusCode, requestId: e.requestId, message: e.message }, 'Stripe request failed');
      throw new DomainError('UNAVAILABLE', 'The payment provider could not complete the request; try again later.');
    }
  }
}
