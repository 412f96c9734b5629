import type { RateTier } from '../core/config';
import { badRequest, notFound } from '../core/errors';

export interface Quote { amountCents: number; credits: number }

/** USD amount → whole cents; refuses anything that is not a positive amount in whole cents. */
export function toCents(amountUsd: unknown): number {
  if (typeof amountUsd !== 'number' || !Number.isFinite(amountUsd) || amountUsd <= 0) throw badRequest('amount must be a positive number of USD.');
  const cents = Math.round(amountUsd * 100);
  if (Math.abs(cents - amountUsd * 100) > 1e-6) throw badRequest('amount must be in whole cents (at most 2 decimals).');
  return cents;
}

/** The credits an amount buys under the first tier that covers it; 404 (documented) when none does. */
export function quote(tiers: RateTier[], amountUsd: unknown): Quote {
  const amountCents = toCents(amountUsd);
  const tier = tiers.find((t) => Math.round(t.lowerLimit * 100) <= amountCents && amountCents <= Math.round(t.upperLimit * 100));
  if (!tier) {
    const ranges = tiers.map((t) => `${t.lowerLimit}-${t.upperLimit}`).join(', ');
    throw notFound(`No credit rate covers ${amountCents / 100} USD; amounts between ${ranges} USD can be bought.`);
  }
  // Integer arithmetic: cents × credits-per-USD / 100, rounded down so a purchase never over-grants.
  return { amountCents, credits: Math.floor((amountCents * tier.rate) / 100) };
}

/** What credits are worth in cents at the base (first) tier's rate, for ledger rows that were not paid for. */
export function creditsToCents(tiers: RateTier[], credits: number): number {
  return Math.round((credits * 100) / tiers[0].rate);
}
