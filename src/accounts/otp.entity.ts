import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { newId } from '../core/ids';
import { Registration } from './registration.entity';
import { User } from './user.entity';

export const OTP_TYPES = ['ACTIVATION', 'TWO_FACTOR_AUTH', 'CHANGE_PASSWORD'] as const;
export type OtpType = (typeof OTP_TYPES)[number];

/** One live code per user and type: issuing a new one replaces the old (unique index). Only a hash is kept. */
@Entity({ tableName: 'otps' })
@Unique({ properties: ['user', 'type'] })
export class Otp {
  [OptionalProps]?: 'attempts' | 'createdAt' | 'registration';

  @PrimaryKey({ type: 'string', length: 40 })
  id: string = newId('otp');

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 20 })
  type!: OtpType;

  @Property({ type: 'string', length: 64 })
  codeHash!: string;

  @Property({ type: 'integer' })
  attempts: number = 0;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  /**
   * For an ACTIVATION code: the sign-up it was mailed for (activating with it makes that sign-up the
   * account's). A code sent on request with the public key has none.
   */
  @ManyToOne(() => Registration, { ref: true, nullable: true, deleteRule: 'set null' })
  registration?: Ref<Registration> | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
