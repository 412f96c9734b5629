import { Check, Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/pagination';
import { User } from '../accounts/user.entity';
import { newId } from '../core/ids';

export const TRANSACTION_TYPES = ['CREDIT', 'DEBIT'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];
export const TransactionTypeEnum = { CREDIT: 'CREDIT', DEBIT: 'DEBIT' } as const;
registerEnumType(TransactionTypeEnum, { name: 'TransactionType', description: 'CREDIT adds to the balance, DEBIT takes from it.' });

/** Why a balance changed. */
export type TransactionKind = 'purchase' | 'analysis' | 'refund' | 'admin' | 'correction';
/** CORRECTION: an operator's compensating entry for one earlier row (its reference); rows are never edited or deleted. */
export const TransactionKindEnum = { PURCHASE: 'purchase', ANALYSIS: 'analysis', REFUND: 'refund', ADMIN: 'admin', CORRECTION: 'correction' } as const;
registerEnumType(TransactionKindEnum, { name: 'TransactionKind', description: 'What caused a balance change.' });

/**
 * One change of one user's balance: the ledger. A row is written in the same database transaction as the
 * balance update it records, so the ledger and `users.credits` never disagree.
 */
@ObjectType({ description: 'A change of your credit balance.', implements: Node })
@Entity({ tableName: 'transactions' })
// Keyset pagination (newest first) reads these indexes in order: a page costs the same at any depth.
@Index({ name: 'transactions_user_page_index', expression: 'create index "transactions_user_page_index" on "transactions" ("user_id", "created_at" desc, "id" desc)' })
@Index({ name: 'transactions_user_type_page_index', expression: 'create index "transactions_user_type_page_index" on "transactions" ("user_id", "type", "created_at" desc, "id" desc)' })
// A purchase is granted once, a task is charged or refunded once: the reference is unique per kind.
@Unique({ name: 'transactions_kind_reference_unique', properties: ['kind', 'reference'] })
@Check({ name: 'transactions_value_positive', expression: 'value_in_credits > 0' })
@Check({ name: 'transactions_fiat_non_negative', expression: 'fiat_cents >= 0' })
@Check({ name: 'transactions_balance_non_negative', expression: 'balance_after >= 0' })
export class Transaction {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'reference' | 'userId';

  @PrimaryKey({ type: 'string', length: 45 })
  @Field(() => ID)
  id: string = newId('transaction');

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 6 })
  @Field(() => TransactionTypeEnum)
  type!: TransactionType;

  @Property({ type: 'string', length: 16 })
  @Field(() => TransactionKindEnum)
  kind!: TransactionKind;

  @Property({ type: 'text' })
  @Field({ description: 'A readable sentence: who changed how many credits, for what.' })
  description!: string;

  /** Always positive; `type` says in which direction. */
  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'How many credits (always positive; see type).' })
  valueInCredits!: number;

  /** Money in whole cents: what was paid for a purchase, the credits' worth at the base rate otherwise. */
  @Property({ type: 'integer' })
  fiatCents!: number;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'The balance right after this change.' })
  balanceAfter!: number;

  /** What caused it: a purchase id, a task id, the corrected row's id; null for admin adjustments. */
  @Property({ type: 'string', length: 64, nullable: true })
  @Field(() => String, { nullable: true, description: 'The purchase or task this change belongs to; for a CORRECTION, the row it compensates.' })
  reference: string | null = null;

  @Property({ type: 'datetime' })
  @Field()
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  @Field()
  updatedAt: Date = new Date();

  @Field(() => ID)
  get userId(): string {
    return this.user.id;
  }
}
