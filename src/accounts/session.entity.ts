import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { newId } from '../core/ids';
import { User } from './user.entity';

/** A login. The user token names it, so logging out (revoking it) ends the token at once. */
@Entity({ tableName: 'sessions' })
export class Session {
  [OptionalProps]?: 'createdAt' | 'revokedAt' | 'lastUsedAt' | 'ip' | 'userAgent';

  @PrimaryKey({ type: 'string', length: 45 })
  id: string = newId('session');

  @Index()
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt?: Date | null;

  /** Refreshed at most once per SESSION_TOUCH_INTERVAL_SECONDS, so it costs no write on most requests. */
  @Property({ type: 'datetime', nullable: true })
  lastUsedAt?: Date | null = this.createdAt;

  /** Where the session was signed in from, shown in the user's session list. */
  @Property({ type: 'string', length: 45, nullable: true })
  ip?: string | null = null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent?: string | null = null;
}
