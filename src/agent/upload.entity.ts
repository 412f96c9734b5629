import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { newId } from '../core/ids';

/** A file uploaded ahead of an analysis (POST /api/v1/uploads); a task consumes it once. */
@Entity({ tableName: 'uploads' })
@Index({ properties: ['createdAt'] })
export class Upload {
  [OptionalProps]?: 'createdAt' | 'taskId';

  @PrimaryKey({ type: 'string', length: 40 })
  id: string = newId('upload');

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  owner!: Ref<User>;

  @Property({ type: 'string', length: 255 })
  fileName!: string;

  /** Where the upload storage keeps the bytes; never shown to clients. */
  @Property({ type: 'string', length: 200 })
  storageKey!: string;

  @Property({ type: 'integer' })
  sizeBytes!: number;

  @Property({ type: 'string', length: 32 })
  category!: string;

  @Property({ type: 'string', length: 100 })
  mimeType!: string;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  /** The task that consumed it; null while unused. Set once, in the task's own transaction. */
  @Property({ type: 'string', length: 40, nullable: true })
  taskId: string | null = null;
}
