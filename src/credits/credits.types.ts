import { MaxLength } from 'class-validator';
import { ArgsType, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DecimalScalar, MoneyType } from '../graphql/money';
import { Connection, ConnectionArgs } from '../graphql/pagination';
import { UserError } from '../graphql/user-errors';
import { IdempotencyKeyField } from '../idempotency/idempotency.types';
import { Transaction, TransactionTypeEnum, type TransactionType } from './transaction.entity';

@ObjectType('RateTier', { description: 'Amounts between the limits (inclusive) buy `rate` credits per unit of the currency.' })
export class RateTierType {
  @Field(() => MoneyType) lowerLimit!: MoneyType;
  @Field(() => MoneyType) upperLimit!: MoneyType;
  @Field(() => Int, { description: 'Credits per unit of the currency (per USD).' }) rate!: number;
}

@ObjectType({ description: 'A Stripe Checkout page to pay for credits; they are added once Stripe confirms the payment.' })
export class CreditCheckout {
  @Field({ description: 'Open this URL to pay.' }) url!: string;
  @Field() returnPath!: string;
  @Field(() => Int) valueInCredits!: number;
  @Field(() => MoneyType, { description: 'What the checkout charges.' }) valueInFiat!: MoneyType;
}

@ObjectType({ description: 'A Stripe billing portal page for your payment details and receipts.' })
export class BillingPortal {
  @Field() url!: string;
}

export const TransactionConnection = Connection(Transaction, 'Transaction');

@ArgsType()
export class TransactionsArgs extends ConnectionArgs {
  @Field(() => TransactionTypeEnum, { nullable: true, description: 'Only credits or only debits.' }) type?: TransactionType | null;
}

@InputType()
export class BuyCreditsInput {
  @Field(() => DecimalScalar, { description: 'How much to pay, in the currency of the rate tiers (USD), e.g. "25.00".' }) amount!: string;
  @Field(() => String, { nullable: true, description: 'Path on the app to come back to after checkout.' }) @MaxLength(2048) returnPath?: string | null;
  @IdempotencyKeyField() idempotencyKey?: string | null;
}

@ObjectType()
export class BuyCreditsPayload {
  @Field(() => CreditCheckout, { nullable: true }) checkout?: CreditCheckout;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@InputType()
export class OpenBillingPortalInput {
  @Field(() => String, { nullable: true, description: 'Path on the app to come back to.' }) @MaxLength(2048) returnPath?: string | null;
}

@ObjectType()
export class OpenBillingPortalPayload {
  @Field(() => BillingPortal, { nullable: true }) portal?: BillingPortal;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@InputType()
export class AdjustCreditsInput {
  @Field(() => ID) userId!: string;
  @Field(() => Int, { description: 'Credits to grant (positive) or remove (negative).' }) amount!: number;
  @Field({ description: 'Why, for the ledger (1 to 500 characters).' }) reason!: string;
  @IdempotencyKeyField() idempotencyKey?: string | null;
}

@ObjectType()
export class AdjustCreditsPayload {
  @Field(() => Transaction, { nullable: true, description: 'The ledger row written.' }) transaction?: Transaction;
  @Field(() => [UserError]) userErrors!: UserError[];
}
