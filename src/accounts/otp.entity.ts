import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { newId } from '../core/ids';
import { User } from './user.entity';

export const OTP_TYPES = ['ACTIVATION', 'TWO_FACTOR_AUTH', 'CHANGE_PASSWORD'] as const;
export type OtpType = (typeof OTP_TYPES)[number];

/**
 * The sign-up an ACTIVATION code was mailed for: its session and, when it re-registered an address that
 * was never activated, the password and names it chose. Activating with the code makes that sign-up the
 * account's; a code sent on request has none, so activating with it keeps no earlier credentials.
 */
export interface PendingRegistration { sessionId: string; passwordHash?: string; firstName?: string; lastName?: string }

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

  @Property({ type: 'json', nullable: true, hidden: true })
  registration?: PendingRegistration | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
