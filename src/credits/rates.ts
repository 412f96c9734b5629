import type { RateTier } from '../core/config';
import { notFound } from '../core/errors';
import { centsToDecimal } from '../core/money';

export interface Quote { amountCents: number; credits: number }

/** The credits an amount buys under the first tier that covers it; 404 (documented) when none does. */
export function quote(tiers: RateTier[], amountCents: number): Quote {
  const tier = tiers.find((t) => Math.round(t.lowerLimit * 100) <= amountCents && amountCents <= Math.round(t.upperLimit * 100));
  if (!tier) {
    const ranges = tiers.map((t) => `${t.lowerLimit}-${t.upperLimit}`).join(', ');
    throw notFound(`No credit rate covers ${centsToDecimal(amountCents)} USD; amounts between ${ranges} USD can be bought.`);
  }
  // Integer arithmetic: cents × credits-per-USD / 100, rounded down so a purchase never over-grants.
  return { amountCents, credits: Math.floor((amountCents * tier.rate) / 100) };
}

/** What credits are worth in cents at the base (first) tier's rate, for ledger rows that were not paid for. */
export function creditsToCents(tiers: RateTier[], credits: number): number {
  return Math.round((credits * 100) / tiers[0].rate);
}
