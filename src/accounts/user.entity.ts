import { Check, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/pagination';
import { newId } from '../core/ids';

export type TwoFactorMethod = 'email' | 'totp';

export const TwoFactorMethodEnum = { EMAIL: 'email', TOTP: 'totp' } as const;
registerEnumType(TwoFactorMethodEnum, { name: 'TwoFactorMethod', description: 'How the second factor is proven: an emailed code or an authenticator app.' });

@ObjectType({ description: 'A Clara account. Only its owner can see it.', implements: Node })
@Entity({ tableName: 'users' })
// Declared here (not only in the migration) so that generated migrations never drop it.
@Check({ name: 'users_credits_non_negative', expression: 'credits >= 0' })
export class User {
  [OptionalProps]?: 'credits' | 'isActive' | 'isDarkMode' | 'createdAt' | 'updatedAt' | 'twoFactorMethod' | 'is2faEnabled';

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
}
