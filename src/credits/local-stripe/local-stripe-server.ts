import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { decodeStripeForm } from './form';
import { checkoutPage, portalPage, resultPage } from './pages';

/** An API call as the local server received it (decoded), for tests to assert on. */
export interface ReceivedRequest { method: string; path: string; params: Record<string, unknown>; idempotencyKey?: string }

export interface SignedEvent { event: Record<string, any>; payload: string; signature: string }

type Json = Record<string, any>;

class StripeApiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly param?: string) {
    super(message);
  }
}

const id = (prefix: string, bytes = 12) => `${prefix}${randomBytes(bytes).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/**
 * A local stand-in for the parts of Stripe this service uses: customers, Checkout Sessions and billing
 * portal sessions over Stripe's wire formats (form-encoded requests, JSON responses, Bearer secret key,
 * Idempotency-Key), hosted checkout and portal pages, and webhooks signed with the SDK's own helper.
 * Tests point the real SDK at it; `npm start` without STRIPE_SECRET_KEY runs it in-process.
 */
export class LocalStripeServer {
  readonly requests: ReceivedRequest[] = [];
  /** Where webhooks are delivered (the service's /api/v1/stripe/settle). */
  webhookUrl?: string;
  private readonly customers = new Map<string, Json>();
  private readonly sessions = new Map<string, Json>();
  private readonly portals = new Map<string, Json>();
  private readonly idempotent = new Map<string, { fingerprint: string; status: number; body: Json }>();
  private server?: Server;
  private baseUrl = '';

  constructor(private readonly options: { secretKey: string; webhookSecret: string; host?: string; port?: number; onError?: (error: unknown) => void }) {}

  get url(): string {
    return this.baseUrl;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    const host = this.options.host ?? '127.0.0.1';
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port ?? 0, host, resolve);
    });
    this.baseUrl = `http://${host}:${this.port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** API calls received at `path` (e.g. '/v1/checkout/sessions'), oldest first. */
  requestsTo(method: string, path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  session(sessionId: string): Json {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`no checkout session ${sessionId}`);
    return session;
  }

  /** The customer pays (card): the session completes as paid and checkout.session.completed is delivered. */
  pay(sessionId: string) {
    Object.assign(this.openSession(sessionId), { status: 'complete', payment_status: 'paid', payment_intent: id('pi_') });
    return this.deliver(this.signedEvent('checkout.session.completed', sessionId));
  }

  /** A delayed payment method: the session completes unpaid; the outcome follows with `asyncPaymentResult`. */
  completeAwaitingPayment(sessionId: string) {
    Object.assign(this.openSession(sessionId), { status: 'complete', payment_status: 'unpaid', payment_intent: id('pi_') });
    return this.deliver(this.signedEvent('checkout.session.completed', sessionId));
  }

  asyncPaymentResult(sessionId: string, succeeded: boolean) {
    if (succeeded) this.session(sessionId).payment_status = 'paid';
    return this.deliver(this.signedEvent(succeeded ? 'checkout.session.async_payment_succeeded' : 'checkout.session.async_payment_failed', sessionId));
  }

  /** The session expires unpaid (the customer cancelled or left). */
  expire(sessionId: string) {
    this.openSession(sessionId).status = 'expired';
    return this.deliver(this.signedEvent('checkout.session.expired', sessionId));
  }

  /** An event about a session as it is now, with its Stripe-Signature header from the SDK's signing helper. */
  signedEvent(type: string, sessionId: string, secret = this.options.webhookSecret): SignedEvent {
    const event = {
      id: id('evt_'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: now(),
      data: { object: structuredClone(this.session(sessionId)) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    const payload = JSON.stringify(event);
    return { event, payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
  }

  /** POSTs a signed event to the webhook URL, as Stripe does; returns the service's answer. */
  async deliver(signed: SignedEvent): Promise<{ status: number; body: any }> {
    if (!this.webhookUrl) throw new Error('webhookUrl is not set');
    const response = await fetch(this.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signed.signature, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
      body: signed.payload,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  private openSession(sessionId: string): Json {
    const session = this.session(sessionId);
    if (session.status !== 'open') throw new Error(`checkout session ${sessionId} is ${session.status}`);
    return session;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', this.baseUrl);
      const body = await readBody(request);
      if (url.pathname.startsWith('/v1/')) return await this.api(request, url, body, response);
      return await this.browser(request.method ?? 'GET', url.pathname, response);
    } catch (error) {
      if (error instanceof StripeApiError) return sendJson(response, error.status, { error: { type: error.type, message: error.message, ...(error.param ? { param: error.param } : {}) } });
      this.options.onError?.(error);
      sendJson(response, 500, { error: { type: 'api_error', message: 'Local Stripe server error.' } });
    }
  }

  private async api(request: IncomingMessage, url: URL, body: string, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const params = decodeStripeForm(method === 'GET' ? url.search.slice(1) : body);
    const idempotencyKey = header(request, 'idempotency-key');
    this.requests.push({ method, path: url.pathname, params, ...(idempotencyKey ? { idempotencyKey } : {}) });
    if (header(request, 'authorization') !== `Bearer ${this.options.secretKey}`) {
      throw new StripeApiError(401, 'invalid_request_error', 'Invalid API Key provided.');
    }
    // Stripe replays the first answer for a repeated key, and refuses the key with different parameters.
    const replayKey = idempotencyKey && `${method} ${url.pathname} ${idempotencyKey}`;
    const fingerprint = JSON.stringify(params);
    const earlier = replayKey ? this.idempotent.get(replayKey) : undefined;
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) throw new StripeApiError(400, 'idempotency_error', 'Keys for idempotent requests can only be used with the same parameters they were first used with.');
      return sendJson(response, earlier.status, earlier.body, { 'idempotent-replayed': 'true' });
    }
    const result = this.route(method, url.pathname, params);
    if (replayKey) this.idempotent.set(replayKey, { fingerprint, status: 200, body: result });
    sendJson(response, 200, result);
  }

  private route(method: string, path: string, params: Json): Json {
    if (method === 'POST' && path === '/v1/customers') return this.createCustomer(params);
    if (method === 'POST' && path === '/v1/checkout/sessions') return this.createCheckoutSession(params);
    const retrieve = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path);
    if (method === 'GET' && retrieve) {
      const session = this.sessions.get(decodeURIComponent(retrieve[1]));
      if (!session) throw new StripeApiError(404, 'invalid_request_error', `No such checkout.session: '${retrieve[1]}'`, 'id');
      return session;
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') return this.createPortalSession(params);
    throw new StripeApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  private createCustomer(params: Json): Json {
    const customer = { id: id('cus_', 7), object: 'customer', created: now(), email: params.email ?? null, name: params.name ?? null, metadata: params.metadata ?? {}, livemode: false };
    this.customers.set(customer.id, customer);
    return customer;
  }

  private createCheckoutSession(params: Json): Json {
    if (params.mode !== 'payment') throw new StripeApiError(400, 'invalid_request_error', 'The local Stripe server supports mode=payment only.', 'mode');
    if (!params.success_url) throw new StripeApiError(400, 'invalid_request_error', 'Missing required param: success_url.', 'success_url');
    if (params.customer && !this.customers.has(params.customer)) throw new StripeApiError(400, 'invalid_request_error', `No such customer: '${params.customer}'`, 'customer');
    const items: Json[] = Array.isArray(params.line_items) ? params.line_items : [];
    if (!items.length) throw new StripeApiError(400, 'invalid_request_error', 'Missing required param: line_items.', 'line_items');
    const amounts = items.map((item) => Number(item.price_data?.unit_amount) * Number(item.quantity ?? 1));
    const currencies = new Set(items.map((item) => item.price_data?.currency));
    if (amounts.some((amount) => !Number.isInteger(amount) || amount <= 0) || currencies.size !== 1) {
      throw new StripeApiError(400, 'invalid_request_error', 'Each line item needs price_data with a positive integer unit_amount and one currency.', 'line_items');
    }
    const sessionId = id('cs_test_', 29);
    const amountTotal = amounts.reduce((sum, amount) => sum + amount, 0);
    const session = {
      id: sessionId,
      object: 'checkout.session',
      amount_subtotal: amountTotal,
      amount_total: amountTotal,
      cancel_url: params.cancel_url ?? null,
      success_url: params.success_url,
      client_reference_id: params.client_reference_id ?? null,
      currency: [...currencies][0],
      customer: params.customer ?? null,
      created: now(),
      expires_at: now() + 24 * 3600,
      livemode: false,
      metadata: params.metadata ?? {},
      mode: 'payment',
      payment_intent: null,
      payment_status: 'unpaid',
      status: 'open',
      url: `${this.baseUrl}/checkout/${sessionId}`,
    };
    this.sessions.set(sessionId, session);
    return session;
  }

  private createPortalSession(params: Json): Json {
    if (!params.customer || !this.customers.has(params.customer)) throw new StripeApiError(400, 'invalid_request_error', `No such customer: '${params.customer ?? ''}'`, 'customer');
    const portal = { id: id('bps_'), object: 'billing_portal.session', created: now(), customer: params.customer, livemode: false, return_url: params.return_url ?? null, url: '' };
    portal.url = `${this.baseUrl}/portal/${portal.id}`;
    this.portals.set(portal.id, portal);
    return portal;
  }

  /** The hosted pages: checkout (Pay / Cancel) and the billing portal. */
  private async browser(method: string, path: string, response: ServerResponse): Promise<void> {
    const [, page, pageId, action] = path.split('/');
    if (page === 'portal' && method === 'GET' && this.portals.has(pageId)) {
      const portal = this.portals.get(pageId)!;
      return sendHtml(response, 200, portalPage(portal.customer, portal.return_url ?? undefined));
    }
    const session = page === 'checkout' ? this.sessions.get(pageId) : undefined;
    if (!session) return sendHtml(response, 404, resultPage('Not found', 'There is no such page.'));
    if (method === 'GET' && !action) {
      const amountText = `${(session.amount_total / 100).toFixed(2)} ${String(session.currency).toUpperCase()}`;
      const description = session.metadata?.credits ? `${session.metadata.credits} Clara credits` : 'Clara purchase';
      return sendHtml(response, 200, checkoutPage({ id: session.id, amountText, description, status: session.status }));
    }
    if (method !== 'POST' || (action !== 'pay' && action !== 'cancel')) return sendHtml(response, 405, resultPage('Not allowed', 'Use the buttons on the checkout page.'));
    if (session.status !== 'open') return sendHtml(response, 409, resultPage('Checkout', `This checkout session is already ${session.status}.`));
    const delivered = action === 'pay' ? await this.pay(session.id) : await this.expire(session.id);
    const back = action === 'pay' ? String(session.success_url).replace('{CHECKOUT_SESSION_ID}', session.id) : session.cancel_url;
    const link = back ? { href: back, label: 'Back to the app' } : undefined;
    if (delivered.status !== 200) return sendHtml(response, 502, resultPage('Webhook failed', `The service answered the webhook with ${delivered.status}.`, link));
    return sendHtml(response, 200, action === 'pay' ? resultPage('Payment complete', 'Your credits have been added.', link) : resultPage('Payment cancelled', 'Nothing was charged.', link));
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req_'), ...headers }).end(JSON.stringify(body));
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);
}
