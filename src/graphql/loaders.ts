import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Task } from '../agent/task.entity';
import { Transaction } from '../credits/transaction.entity';
import { plainRowReader } from '../database/plain-rows';
import { rawQuery } from '../database/shared-pool';
import { SecurityEvent } from '../security-log/security-event.entity';

/**
 * Per-request batching of the objects nested fields lead to (a transaction's task, a task's charge and
 * refund): a page of 100 rows asks once per type, not once per row. Every load is scoped to the caller, so
 * a loader can never hand out someone else's row. Built lazily: most requests need none.
 */
export class RequestLoaders {
  private taskLoader?: DataLoader<string, Task | null>;
  private transactionLoader?: DataLoader<string, Transaction | null>;
  private securityEventLoader?: DataLoader<string, SecurityEvent | null>;

  /** Only runs SQL and reads metadata: any EntityManager (the loads stay out of every identity map). */
  constructor(
    private readonly em: EntityManager,
    private readonly ownerId: string | null,
  ) {}

  get tasks(): DataLoader<string, Task | null> {
    this.taskLoader ??= this.byId(Task);
    return this.taskLoader;
  }

  get transactions(): DataLoader<string, Transaction | null> {
    this.transactionLoader ??= this.byId(Transaction);
    return this.transactionLoader;
  }

  get securityEvents(): DataLoader<string, SecurityEvent | null> {
    this.securityEventLoader ??= this.byId(SecurityEvent);
    return this.securityEventLoader;
  }

  private byId<T extends Task | Transaction | SecurityEvent>(entity: new () => T): DataLoader<string, T | null> {
    return new DataLoader(async (ids) => {
      if (!this.ownerId) return ids.map(() => null);
      // Read-only like a page: one hand-written query into unmanaged objects (src/database/plain-rows.ts).
      const reader = plainRowReader(this.em, entity);
      const { rows } = await rawQuery(this.em, `select ${reader.columns} from "${reader.table}" where "id" = any($1) and "user_id" = $2`, [[...ids], this.ownerId]);
      const byId = new Map(rows.map((row) => [row.id as string, reader.read(row)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }
}
