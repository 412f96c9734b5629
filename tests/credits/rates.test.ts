import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '../../src/core/errors';
import { quote } from '../../src/credits/rates';

describe('credit rates', () => {
  const tiers = [
    { lowerLimit: 5, upperLimit: 99.99, rate: 100 },
    { lowerLimit: 100, upperLimit: 10000, rate: 110 },
  ];

  test('amounts are exact to the cent and use the tier that covers them', () => {
    assert.deepEqual(quote(tiers, 5), { amountCents: 500, credits: 500 });
    assert.deepEqual(quote(tiers, 0.1 + 19.2), { amountCents: 1930, credits: 1930 });
    assert.deepEqual(quote(tiers, 99.99), { amountCents: 9999, credits: 9999 });
    assert.deepEqual(quote(tiers, 100), { amountCents: 10000, credits: 11000 });
    assert.deepEqual(quote([{ lowerLimit: 1, upperLimit: 10, rate: 3 }], 1.01), { amountCents: 101, credits: 3 });
  });

  test('uncovered amounts are NOT_FOUND, malformed ones BAD_REQUEST', () => {
    const code = (amount: unknown) => {
      try {
        quote(tiers, amount);
        return 'none';
      } catch (error) {
        return (error as DomainError).code;
      }
    };
    assert.equal(code(4.99), 'NOT_FOUND');
    assert.equal(code(10000.01), 'NOT_FOUND');
    for (const bad of [0, -1, 1.005, Number.NaN, Infinity, '5', null]) assert.equal(code(bad), 'BAD_REQUEST', String(bad));
  });
});
