import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** A Stripe event already applied: its id is the primary key, so an event is applied at most once. */
@Entity({ tableName: 'stripe_events' })
export class StripeEvent {
  [OptionalProps]?: 'processedAt';

  @PrimaryKey({ type: 'string', length: 255 })
  id!: string;

  @Property({ type: 'string', length: 100 })
  type!: string;

  @Property({ type: 'datetime' })
  processedAt: Date = new Date();
}
