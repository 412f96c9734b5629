import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/pagination';
import { newId } from '../core/ids';

export const SECURITY_EVENT_KINDS = [
  'SIGN_IN',
  'SIGN_IN_FAILED',
  'PASSWORD_CHANGED',
  'TWO_FACTOR_ENABLED',
  'TWO_FACTOR_DISABLED',
  'API_KEY_RESET',
  'SESSIONS_REVOKED',
  'GOOGLE_LINKED',
  // Operator actions (the admin key), each with the operator's reason in detail.note.
  'CREDITS_ADJUSTED',
  'LEDGER_CORRECTED',
  'ACCOUNT_DEACTIVATED',
  'ACCOUNT_REACTIVATED',
  'ACCOUNT_ERASED',
] as const;
export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number];
export const SecurityEventKindEnum = Object.fromEntries(SECURITY_EVENT_KINDS.map((kind) => [kind, kind])) as { [K in SecurityEventKind]: K };
registerEnumType(SecurityEventKindEnum, { name: 'SecurityEventKind', description: 'What happened to the account.' });

/** The small typed detail of an entry; which fields are set depends on the kind. */
export interface SecurityEventDetail {
  /** SIGN_IN: `password` or `google`; TWO_FACTOR_*: `email` or `totp`. */
  method?: 'password' | 'google' | 'email' | 'totp';
  /** SIGN_IN_FAILED: what was wrong. SESSIONS_REVOKED / PASSWORD_CHANGED / API_KEY_RESET: what caused it. */
  reason?: 'wrong_password' | 'wrong_code' | 'logout' | 'user_request' | 'password_changed' | 'password_reset' | 'google_takeover' | 'activation' | 'admin';
  /** SESSIONS_REVOKED: `current`, `one`, `others` or `all`. */
  scope?: 'current' | 'one' | 'others' | 'all';
  /** SESSIONS_REVOKED: how many sessions ended. */
  count?: number;
  /** Operator actions: the reason the operator gave. */
  note?: string;
  /** CREDITS_ADJUSTED / LEDGER_CORRECTED: the ledger row written. */
  transactionId?: string;
}

@ObjectType('SecurityEventDetail', { description: 'Details of a security log entry; which fields are set depends on its kind.' })
export class SecurityEventDetailType {
  @Field(() => String, { nullable: true, description: 'SIGN_IN: password or google; TWO_FACTOR_*: email or totp.' }) method?: string;
  @Field(() => String, { nullable: true, description: 'SIGN_IN_FAILED: wrong_password or wrong_code; otherwise what caused it (logout, user_request, password_changed, password_reset, google_takeover, activation, admin).' }) reason?: string;
  @Field(() => String, { nullable: true, description: 'SESSIONS_REVOKED: current, one, others or all.' }) scope?: string;
  @Field(() => Int, { nullable: true, description: 'SESSIONS_REVOKED: how many sessions ended.' }) count?: number;
  @Field(() => String, { nullable: true, description: 'Operator actions (CREDITS_ADJUSTED, LEDGER_CORRECTED, ACCOUNT_*): the reason the operator gave.' }) note?: string;
  @Field(() => ID, { nullable: true, description: 'CREDITS_ADJUSTED and LEDGER_CORRECTED: the ledger row written.' }) transactionId?: string;
}

/** One entry of a user's security log: what happened to the account, when, and from where. */
@ObjectType({ description: 'An entry of your security log: what happened to your account, when and from where.', implements: Node })
@Entity({ tableName: 'security_events' })
// Newest first by keyset, like transactions: a page costs the same at any depth.
@Index({ name: 'security_events_user_page_index', expression: 'create index "security_events_user_page_index" on "security_events" ("user_id", "created_at" desc, "id" desc)' })
export class SecurityEvent {
  [OptionalProps]?: 'createdAt' | 'ip' | 'userAgent' | 'detail';

  @PrimaryKey({ type: 'string', length: 47 })
  @Field(() => ID)
  id: string = newId('security_event');

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 24 })
  @Field(() => SecurityEventKindEnum)
  kind!: SecurityEventKind;

  @Property({ type: 'string', length: 45, nullable: true })
  @Field(() => String, { nullable: true, description: 'The client IP of the request.' })
  ip: string | null = null;

  @Property({ type: 'string', length: 512, nullable: true })
  @Field(() => String, { nullable: true })
  userAgent: string | null = null;

  @Property({ type: 'json' })
  @Field(() => SecurityEventDetailType)
  detail: SecurityEventDetail = {};

  @Property({ type: 'datetime' })
  @Field()
  createdAt: Date = new Date();
}
