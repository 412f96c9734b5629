import { badRequest } from './errors';

/** An amount of money in minor units (cents) of an ISO 4217 currency: never a float. */
export interface Money { cents: number; currency: string }

const DECIMAL = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$/;

/** "12.5" or "12.50" → 1250. Refuses anything but a plain non-negative decimal with at most two decimals. */
export function decimalToCents(decimal: string): number {
  if (!DECIMAL.test(decimal)) throw badRequest('amount must be a decimal number of at most two decimals, e.g. "12.50".');
  const [whole, fraction = ''] = decimal.split('.');
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  if (cents <= 0) throw badRequest('amount must be a positive number of USD.');
  return cents;
}

/** A JSON number of USD (the REST paths' `amount`) → whole cents; refuses fractions of a cent. */
export function numberToCents(amount: unknown): number {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) throw badRequest('amount must be a positive number of USD.');
  const cents = Math.round(amount * 100);
  if (Math.abs(cents - amount * 100) > 1e-6) throw badRequest('amount must be in whole cents (at most 2 decimals).');
  return cents;
}

/** 1250 → "12.50": exact, whatever the size. */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
