import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '../../src/core/errors';
import { centsToDecimal, decimalToCents, numberToCents } from '../../src/core/money';
import { quote } from '../../src/credits/rates';

const codeOf = (run: () => unknown) => {
  try {
    run();
    return 'none';
  } catch (error) {
    return (error as DomainError).code;
  }
};

describe('credit rates and money', () => {
  const tiers = [
    { lowerLimit: 5, upperLimit: 99.99, rate: 100 },
    { lowerLimit: 100, upperLimit: 10000, rate: 110 },
  ];

  test('amounts are exact to the cent and use the tier that covers them', () => {
    assert.deepEqual(quote(tiers, numberToCents(5)), { amountCents: 500, credits: 500 });
    assert.deepEqual(quote(tiers, numberToCents(0.1 + 19.2)), { amountCents: 1930, credits: 1930 });
    assert.deepEqual(quote(tiers, decimalToCents('99.99')), { amountCents: 9999, credits: 9999 });
    assert.deepEqual(quote(tiers, decimalToCents('100')), { amountCents: 10000, credits: 11000 });
    assert.deepEqual(quote([{ lowerLimit: 1, upperLimit: 10, rate: 3 }], decimalToCents('1.01')), { amountCents: 101, credits: 3 });
  });

  test('uncovered amounts are NOT_FOUND, malformed ones BAD_REQUEST', () => {
    assert.equal(codeOf(() => quote(tiers, 499)), 'NOT_FOUND');
    assert.equal(codeOf(() => quote(tiers, 1000001)), 'NOT_FOUND');
    for (const bad of [0, -1, 1.005, Number.NaN, Infinity, '5', null]) assert.equal(codeOf(() => numberToCents(bad)), 'BAD_REQUEST', String(bad));
    for (const bad of ['', '-1', '1.005', '1e3', '01', '1.', ' 1', 'NaN', '1,5']) assert.equal(codeOf(() => decimalToCents(bad)), 'BAD_REQUEST', bad);
  });

  test('decimals convert exactly both ways', () => {
    assert.equal(decimalToCents('12.5'), 1250);
    assert.equal(decimalToCents('0.07'), 7);
    assert.equal(centsToDecimal(1250), '12.50');
    assert.equal(centsToDecimal(7), '0.07');
    assert.equal(centsToDecimal(-105), '-1.05');
    assert.equal(centsToDecimal(999_999_999_999), '9999999999.99');
  });
});
