import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { Field, Int, ObjectType } from 'type-graphql';
import { centsToDecimal, type Money } from '../core/money';

const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Exact decimal amounts travel as strings, as Shopify's `Decimal` does: a float would lose cents. */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'An exact decimal number as a string, e.g. "12.50".',
  serialize: (value) => String(value),
  parseValue(value) {
    if (typeof value !== 'string' || !DECIMAL.test(value)) throw new GraphQLError('A Decimal is a string such as "12.50".');
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING || !DECIMAL.test(ast.value)) throw new GraphQLError('A Decimal is a string such as "12.50".');
    return ast.value;
  },
});

@ObjectType('Money', { description: 'An amount of money: exact, never a float.' })
export class MoneyType {
  @Field(() => DecimalScalar, { description: 'The amount in the currency\'s major unit, e.g. "12.50".' }) amount!: string;
  @Field({ description: 'ISO 4217 code, e.g. USD.' }) currencyCode!: string;
  @Field(() => Int, { description: 'The amount in minor units (cents).' }) minorUnits!: number;
}

export function toMoney({ cents, currency }: Money): MoneyType {
  return { amount: centsToDecimal(cents), currencyCode: currency.toUpperCase(), minorUnits: cents };
}
