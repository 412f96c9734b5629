import { Check, Entity, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref, Unique } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { newId } from '../core/ids';

/** pending → paid (credits granted), or → failed / expired; a late payment still turns those into paid. */
export type PurchaseStatus = 'pending' | 'paid' | 'failed' | 'expired';

/** A credit purchase through a Stripe Checkout Session; the credits are granted when Stripe confirms payment. */
@Entity({ tableName: 'purchases' })
@Check({ name: 'purchases_credits_positive', expression: 'credits > 0' })
@Check({ name: 'purchases_amount_positive', expression: 'amount_cents > 0' })
export class Purchase {
  [OptionalProps]?: 'status' | 'createdAt' | 'updatedAt' | 'checkoutSessionId' | 'paidAt';

  @PrimaryKey({ type: 'string', length: 41 })
  id: string = newId('purchase');

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: true })
  user!: Ref<User>;

  @Property({ type: 'string', length: 10 })
  status: PurchaseStatus = 'pending';

  @Property({ type: 'integer' })
  credits!: number;

  @Property({ type: 'integer' })
  amountCents!: number;

  @Property({ type: 'string', length: 3 })
  currency!: string;

  /** Set once Stripe has created the session; a session pays for one purchase only. */
  @Unique()
  @Property({ type: 'string', length: 255, nullable: true })
  checkoutSessionId: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  paidAt: Date | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
