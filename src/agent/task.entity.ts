import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { User } from '../accounts/user.entity';
import { newId } from '../core/ids';
import { Node } from '../graphql/pagination';
import type { AnalysisResult } from './analysis';

export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TaskStatusEnum = { QUEUED: 'queued', RUNNING: 'running', COMPLETED: 'completed', FAILED: 'failed' } as const;
registerEnumType(TaskStatusEnum, { name: 'TaskStatus', description: 'queued → running → completed, or failed (credits refunded).' });

/** One uploaded file of a task: what the user sent, and where its bytes are kept. */
@ObjectType({ description: 'A file given to an analysis.' })
export class TaskInput {
  @Field() fileName!: string;
  @Field(() => Int) sizeBytes!: number;
  @Field() category!: string;
  @Field() mimeType!: string;
  /** Where the upload storage keeps the bytes; never shown to clients. */
  storageKey!: string;
}

/** An analysis the user paid for. Its ledger rows reference it by id; it names them back. */
@ObjectType({ description: 'An analysis task: its inputs, status, cost and, when completed, the report.', implements: Node })
@Entity({ tableName: 'tasks' })
@Index({ name: 'tasks_user_page_index', expression: 'create index "tasks_user_page_index" on "tasks" ("user_id", "created_at" desc, "id" desc)' })
export class Task {
  [OptionalProps]?: 'status' | 'attempts' | 'createdAt' | 'updatedAt' | 'result' | 'error' | 'userId' | 'chargeTransactionId' | 'refundTransactionId';

  @Field(() => ID)
  @PrimaryKey({ type: 'string', length: 40 })
  id: string = newId('task');

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Field(() => TaskStatusEnum)
  @Enum({ items: () => [...TASK_STATUSES], type: 'string', length: 16 })
  status: TaskStatus = 'queued';

  @Field({ description: 'What the user asked, with any other text fields sent along.' })
  @Property({ type: 'text' })
  prompt!: string;

  @Field(() => [TaskInput])
  @Property({ type: 'json' })
  inputs!: TaskInput[];

  /** The provider's result as stored; GraphQL shows it typed as `report` (with the raw JSON as `report.raw`). */
  @Property({ type: 'json', nullable: true })
  result: AnalysisResult | null = null;

  @Field(() => String, { nullable: true, description: 'Why the task failed, in plain words.' })
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Field(() => Int, { description: 'Credits charged for this task.' })
  @Property({ type: 'integer' })
  cost!: number;

  @Field(() => Int, { description: 'Times a worker started it.' })
  @Property({ type: 'integer' })
  attempts: number = 0;

  /** GraphQL: `charge`. */
  @Property({ type: 'string', length: 45, nullable: true })
  chargeTransactionId: string | null = null;

  /** GraphQL: `refund`. */
  @Property({ type: 'string', length: 45, nullable: true })
  refundTransactionId: string | null = null;

  @Field()
  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  @Field(() => ID)
  get userId(): string {
    return this.user.id;
  }
}
