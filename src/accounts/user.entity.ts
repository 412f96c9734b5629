import { Check, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/pagination';
import { newId } from '../core/ids';

export type TwoFactorMethod = 'email' | 'totp';

/** Where an account stands: derived from isActive, deactivatedAt and erasedAt (an erased account is deactivated too). */
export const USER_STATUSES = ['PENDING_ACTIVATION', 'ACTIVE', 'DEACTIVATED', 'ERASED'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
export const UserStatusEnum = Object.fromEntries(USER_STATUSES.map((status) => [status, status])) as { [K in UserStatus]: K };
registerEnumType(UserStatusEnum, {
  name: 'UserStatus',
  description: 'PENDING_ACTIVATION until the emailed code is used; DEACTIVATED by an operator (no login, no API key); ERASED: personal data removed, the ledger kept.',
});

export const TwoFactorMethodEnum = { EMAIL: 'email', TOTP: 'totp' } as const;
registerEnumType(TwoFactorMethodEnum, { name: 'TwoFactorMethod', description: 'How the second factor is proven: an emailed code or an authenticator app.' });

@ObjectType({ description: 'A Clara account. Only its owner can see it.', implements: Node })
@Entity({ tableName: 'users' })
// Declared here (not only in the migration) so that generated migrations never drop it.
@Check({ name: 'users_credits_non_negative', expression: 'credits >= 0' })
// The admin's user search pages newest first by keyset, like the ledger.
@Index({ name: 'users_page_index', expression: 'create index "users_page_index" on "users" ("created_at" desc, "id" desc)' })
export class User {
  [OptionalProps]?: 'credits' | 'isActive' | 'isDarkMode' | 'createdAt' | 'updatedAt' | 'twoFactorMethod' | 'is2faEnabled' | 'deactivatedAt' | 'erasedAt' | 'status';

  @PrimaryKey({ type: 'string', length: 40 })
  @Field(() => ID)
  id: string = newId('user');

  /** Stored lower-cased; the unique index is what makes sign-up race-free. */
  @Unique()
  @Property({ type: 'string', length: 320 })
  @Field()
  email!: string;

  @Property({ type: 'string', nullable: true, hidden: true })
  passwordHash?: string | null;

  @Property({ type: 'string', length: 200 })
  @Field()
  firstName!: string;

  @Property({ type: 'string', length: 200, nullable: true })
  @Field(() => String, { nullable: true })
  lastName?: string | null;

  /** Whole credits; never negative (also a CHECK constraint in the migration). */
  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'Credit balance.' })
  credits: number = 0;

  @Property({ type: 'boolean' })
  @Field({ description: 'False until the account is activated with the emailed code.' })
  isActive: boolean = false;

  @Property({ type: 'boolean' })
  @Field()
  isDarkMode: boolean = true;

  /** null: 2FA off; 'email': the documented emailed TWO_FACTOR_AUTH code; 'totp': an authenticator app. */
  @Property({ type: 'string', length: 10, nullable: true })
  @Field(() => TwoFactorMethodEnum, { nullable: true })
  twoFactorMethod: TwoFactorMethod | null = null;

  /** TOTP secret, encrypted (AES-GCM); `totpPendingSecret` holds one awaiting its first code. */
  @Property({ type: 'text', nullable: true, hidden: true })
  totpSecret?: string | null;

  @Property({ type: 'text', nullable: true, hidden: true })
  totpPendingSecret?: string | null;

  /** Last accepted TOTP time step: a code is never accepted twice. */
  @Property({ type: 'integer', nullable: true, hidden: true })
  totpLastStep?: number | null;

  @Unique()
  @Property({ type: 'string', length: 64, nullable: true, hidden: true })
  googleId?: string | null;

  @Index()
  @Property({ type: 'string', length: 64, nullable: true, hidden: true })
  stripeCustomerId?: string | null;

  /** Set by an operator: sessions ended, login and the API key refused until reactivated. */
  @Property({ type: 'datetime', nullable: true })
  @Field(() => Date, { nullable: true, description: 'When an operator deactivated the account; null while it may sign in.' })
  deactivatedAt: Date | null = null;

  /** Set once the personal data is erased; the row stays so that the ledger keeps its owner and balance. */
  @Property({ type: 'datetime', nullable: true })
  @Field(() => Date, { nullable: true, description: 'When the personal data was erased (the ledger is kept, anonymised).' })
  erasedAt: Date | null = null;

  @Property({ type: 'datetime' })
  @Field()
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  @Field()
  updatedAt: Date = new Date();

  @Field()
  get is2faEnabled(): boolean {
    return this.twoFactorMethod !== null;
  }

  @Field(() => UserStatusEnum)
  get status(): UserStatus {
    if (this.erasedAt) return 'ERASED';
    if (this.deactivatedAt) return 'DEACTIVATED';
    return this.isActive ? 'ACTIVE' : 'PENDING_ACTIVATION';
  }
}
