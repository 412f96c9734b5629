import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { newId } from '../core/ids';
import { User } from './user.entity';

/** A single-use two-factor recovery code; only its keyed hash is kept. */
@Entity({ tableName: 'recovery_codes' })
export class RecoveryCode {
  [OptionalProps]?: 'usedAt' | 'createdAt';

  @PrimaryKey({ type: 'string', length: 50 })
  id: string = newId('recovery_code');

  @Index()
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 64 })
  codeHash!: string;

  @Property({ type: 'datetime', nullable: true })
  usedAt?: Date | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
