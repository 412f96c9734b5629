import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { User } from '../accounts/user.entity';
import type { RateTier } from '../core/config';
import { badRequest } from '../core/errors';
import { centsToDecimal, type Money } from '../core/money';
import type { CreditsService } from './credits.service';
import { Purchase } from './purchase.entity';
import { quote } from './rates';
import { StripeEvent } from './stripe-event.entity';
import type { Transaction } from './transaction.entity';
import type { CheckoutSession, StripeService, StripeWebhookEvent } from './stripe.service';

export interface BuyResult { returnPath: string; url: string; valueInCredits: number; valueInFiat: Money }

/** What a webhook delivery did; every outcome but a bad signature is acknowledged with 200. */
export const SETTLE_OUTCOMES = ['granted', 'failed', 'expired', 'unchanged', 'duplicate', 'ignored'] as const;
export type SettleOutcome = (typeof SETTLE_OUTCOMES)[number];

const CHECKOUT_EVENTS = new Set(['checkout.session.completed', 'checkout.session.async_payment_succeeded', 'checkout.session.async_payment_failed', 'checkout.session.expired']);

/** Buying credits: a Stripe Checkout Session per purchase, fulfilled exactly once from Stripe's webhook. */
export class PurchasesService {
  constructor(
    private readonly deps: {
      stripe: StripeService;
      credits: CreditsService;
      rates: RateTier[];
      currency: string;
      appUrl: string;
      log: Logger;
    },
  ) {}

  rates(): RateTier[] {
    return this.deps.rates;
  }

  async buy(em: EntityManager, user: User, input: { amountCents: number; returnPath?: string | null }): Promise<BuyResult> {
    // Everything that can refuse the request does so before anything is created at Stripe.
    const { amountCents, credits } = quote(this.deps.rates, input.amountCents);
    const returnPath = input.returnPath ?? '';
    const returnUrl = this.returnUrl(returnPath);
    const customerId = await this.customerFor(em, user);
    const purchase = em.create(Purchase, { user, credits, amountCents, currency: this.deps.currency });
    await em.flush();
    let session: CheckoutSession;
    try {
      session = await this.deps.stripe.createCheckoutSession({
        customerId,
        purchaseId: purchase.id,
        userId: user.id,
        credits,
        amountCents,
        currency: this.deps.currency,
        successUrl: withQuery(returnUrl, 'checkout=success&session_id={CHECKOUT_SESSION_ID}'),
        cancelUrl: withQuery(returnUrl, 'checkout=cancelled'),
      });
    } catch (error) {
      purchase.status = 'failed';
      await em.flush();
      throw error;
    }
    purchase.checkoutSessionId = session.id;
    await em.flush();
    return { returnPath, url: session.url!, valueInCredits: credits, valueInFiat: { cents: amountCents, currency: this.deps.currency } };
  }

  async portal(em: EntityManager, user: User, returnPath?: string | null): Promise<{ url: string }> {
    const returnUrl = this.returnUrl(returnPath ?? '');
    return { url: await this.deps.stripe.createPortalSession(await this.customerFor(em, user), returnUrl) };
  }

  /**
   * Applies one webhook delivery. The session's current state is read back from Stripe, so deliveries in
   * any order converge; the event row, the purchase's state change and the grant with its ledger row are
   * one database transaction, and the event id (primary key) and the conditional `status <> 'paid'` update
   * make replays and concurrent deliveries grant once.
   */
  async settle(em: EntityManager, rawBody: Buffer, signature: string | undefined): Promise<SettleOutcome> {
    const event = this.deps.stripe.verifyWebhook(rawBody, signature);
    if (!CHECKOUT_EVENTS.has(event.type)) return 'ignored';
    if (await em.count(StripeEvent, { id: event.id })) return 'duplicate';
    const sessionId = (event.data.object as CheckoutSession).id;
    const session = await this.deps.stripe.retrieveCheckoutSession(sessionId);
    // The grant's ledger row, reported to the credits metrics once the transaction has committed.
    const written: Transaction[] = [];
    try {
      const outcome = await em.transactional(async (tx) => {
        tx.create(StripeEvent, { id: event.id, type: event.type });
        // Written first: a concurrent delivery of the same event waits here, then fails on the primary key.
        await tx.flush();
        return this.apply(tx as EntityManager, event, session, written);
      });
      for (const entry of written) this.deps.credits.committed(entry);
      return outcome;
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) return 'duplicate';
      throw error;
    }
  }

  private async apply(tx: EntityManager, event: StripeWebhookEvent, session: CheckoutSession, written: Transaction[]): Promise<SettleOutcome> {
    const purchase = session.client_reference_id ? await tx.findOne(Purchase, { id: session.client_reference_id }) : null;
    if (!purchase || (purchase.checkoutSessionId ?? session.id) !== session.id) {
      this.deps.log.warn({ eventId: event.id, sessionId: session.id }, 'Stripe event for a checkout session that is not one of our purchases');
      return 'ignored';
    }
    const paid = session.status === 'complete' && (session.payment_status === 'paid' || session.payment_status === 'no_payment_required');
    if (paid) return this.grant(tx, purchase, session, written);
    if (event.type === 'checkout.session.async_payment_failed') return (await this.markUnpaid(tx, purchase, 'failed')) ? 'failed' : 'unchanged';
    if (session.status === 'expired') return (await this.markUnpaid(tx, purchase, 'expired')) ? 'expired' : 'unchanged';
    return 'unchanged';
  }

  private async grant(tx: EntityManager, purchase: Purchase, session: CheckoutSession, written: Transaction[]): Promise<SettleOutcome> {
    if (session.amount_total !== purchase.amountCents || session.currency !== purchase.currency) {
      this.deps.log.error({ purchaseId: purchase.id, sessionId: session.id }, 'Paid checkout session does not match its purchase; no credits granted');
      return 'ignored';
    }
    // The row lock taken by this update serialises concurrent deliveries; only the first sees status <> 'paid'.
    const claimed = await tx.nativeUpdate(Purchase, { id: purchase.id, status: { $ne: 'paid' } }, { status: 'paid', paidAt: new Date(), checkoutSessionId: session.id });
    if (!claimed) return 'unchanged';
    const user = await tx.findOneOrFail(User, purchase.user.id);
    const entry = await this.deps.credits.applyInTransaction(tx, {
      userId: user.id,
      delta: purchase.credits,
      kind: 'purchase',
      reference: purchase.id,
      fiatCents: purchase.amountCents,
      describe: () => `${user.firstName} ${user.lastName ?? ''}`.trim() + ` bought ${purchase.credits} credits for ${formatMoney(purchase.amountCents, purchase.currency)}.`,
    });
    written.push(entry);
    return 'granted';
  }

  /** Failed or expired only while still pending: a paid purchase stays paid whatever arrives later. */
  private async markUnpaid(tx: EntityManager, purchase: Purchase, status: 'failed' | 'expired'): Promise<boolean> {
    return (await tx.nativeUpdate(Purchase, { id: purchase.id, status: 'pending' }, { status })) > 0;
  }

  /** The user's Stripe customer, created on first use and kept on the user. */
  private async customerFor(em: EntityManager, user: User): Promise<string> {
    if (user.stripeCustomerId) return user.stripeCustomerId;
    const created = await this.deps.stripe.createCustomer(user);
    // Only the first writer wins; a concurrent first purchase got the same customer (idempotency key).
    await em.nativeUpdate(User, { id: user.id, stripeCustomerId: null }, { stripeCustomerId: created });
    await em.refresh(user);
    return user.stripeCustomerId ?? created;
  }

  /** Return paths are paths on the app's own origin: Checkout must never redirect to someone else's site. */
  private returnUrl(returnPath: string): string {
    if (returnPath.length > 2000) throw badRequest('return_path is too long.');
    if (returnPath === '') return new URL('/', this.deps.appUrl).toString();
    if (!returnPath.startsWith('/') || returnPath.startsWith('//') || returnPath.includes('\\')) throw badRequest('return_path must be a path starting with "/".');
    return new URL(returnPath, this.deps.appUrl).toString();
  }
}

function withQuery(url: string, query: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

function formatMoney(cents: number, currency: string): string {
  return `${centsToDecimal(cents)} ${currency.toUpperCase()}`;
}
