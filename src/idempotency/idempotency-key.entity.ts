import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

export const IDEMPOTENCY_STATES = ['IN_PROGRESS', 'COMPLETED'] as const;
export type IdempotencyState = (typeof IDEMPOTENCY_STATES)[number];

/**
 * A caller's idempotency key: claimed (IN_PROGRESS) before the mutation runs, so a concurrent request with the
 * same key is refused, then COMPLETED with the mutation's answer, which later requests with the key get back.
 */
@Entity({ tableName: 'idempotency_keys' })
@Unique({ properties: ['scope', 'key'] })
@Index({ properties: ['createdAt'] })
export class IdempotencyKey {
  [OptionalProps]?: 'createdAt' | 'completedAt' | 'response' | 'state';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  /** Whose key: `user:<id>`, `api_key:<id>`, `admin` or `public` (see IdempotencyService.scopeOf). */
  @Property({ type: 'string', length: 64 })
  scope!: string;

  @Property({ type: 'string', length: 255 })
  key!: string;

  /** The mutation's name and an HMAC of its input without the key: a different request with the key is refused. */
  @Property({ type: 'string', length: 64 })
  operation!: string;

  @Property({ type: 'string', length: 64 })
  fingerprint!: string;

  @Property({ type: 'string', length: 16 })
  state: IdempotencyState = 'IN_PROGRESS';

  /** The answer, encrypted (it can hold a session token): a payload snapshot or a user error. */
  @Property({ type: 'text', nullable: true })
  response: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  completedAt: Date | null = null;
}
