import { Field, Float, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../graphql/pagination';
import type { TransactionRow } from './credits.service';
import { Transaction } from './transaction.entity';

@ObjectType('RateTier', { description: 'Amounts between the limits (USD, inclusive) buy `rate` credits per USD.' })
export class RateTierType {
  @Field(() => Float) lowerLimit!: number;
  @Field(() => Float) upperLimit!: number;
  @Field(() => Int, { description: 'Credits per USD.' }) rate!: number;
}

@ObjectType({ description: 'A Stripe Checkout page to pay for credits; they are added once Stripe confirms the payment.' })
export class CreditCheckout {
  @Field({ description: 'Open this URL to pay.' }) url!: string;
  @Field() returnPath!: string;
  @Field(() => Int) valueInCredits!: number;
  @Field(() => Float, { description: 'USD.' }) valueInFiat!: number;
}

@ObjectType({ description: 'A Stripe billing portal page for your payment details and receipts.' })
export class BillingPortal {
  @Field() url!: string;
}

@ObjectType()
export class TransactionEdge {
  @Field() cursor!: string;
  @Field(() => Transaction) node!: TransactionRow;
}

@ObjectType({ description: 'Your transactions, newest first.' })
export class TransactionConnection {
  @Field(() => [TransactionEdge]) edges!: TransactionEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}
