import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { newId } from '../core/ids';
import { Session } from './session.entity';
import { User } from './user.entity';

/**
 * One sign-up of an address that is not activated yet: what it chose and the session it got. Nobody has
 * proven owning the address; activating with a code bound to a sign-up makes it the account's (see
 * AccountsService.activate). Removed on activation.
 */
@Entity({ tableName: 'registrations' })
export class Registration {
  [OptionalProps]?: 'createdAt' | 'createdAccount';

  @PrimaryKey({ type: 'string', length: 50 })
  id: string = newId('registration');

  @Index()
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  /** The sign-up that created the account (and its API key). */
  @Property({ type: 'boolean' })
  createdAccount: boolean = false;

  @Index()
  @ManyToOne(() => Session, { ref: true, deleteRule: 'cascade' })
  session!: Ref<Session>;

  @Property({ type: 'string', hidden: true })
  passwordHash!: string;

  @Property({ type: 'string', length: 200 })
  firstName!: string;

  @Property({ type: 'string', length: 200, nullable: true })
  lastName?: string | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
