import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { newId } from '../core/ids';
import { User } from './user.entity';

/** The flows whose codes are guessed: activation, password reset, and every second-factor check. */
export const CODE_FLOWS = ['ACTIVATION', 'CHANGE_PASSWORD', 'SECOND_FACTOR'] as const;
export type CodeFlow = (typeof CODE_FLOWS)[number];

/**
 * Attempts at one account's codes of one flow, across re-issued codes: a new code does not reset them,
 * only a right answer (or a quiet lockout period) does. Written only by atomic upserts (CodeAttempts).
 */
@Entity({ tableName: 'code_attempts' })
@Unique({ properties: ['user', 'flow'] })
export class CodeAttempt {
  [OptionalProps]?: 'failures' | 'lockedUntil' | 'updatedAt';

  @PrimaryKey({ type: 'string', length: 50 })
  id: string = newId('code_attempt');

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 20 })
  flow!: CodeFlow;

  @Property({ type: 'integer' })
  failures: number = 0;

  @Property({ type: 'datetime', nullable: true })
  lockedUntil?: Date | null;

  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();
}
