import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Task } from '../agent/task.entity';
import { Transaction } from '../credits/transaction.entity';
import { plainRowReader } from '../database/plain-rows';
import { rawQuery } from '../database/shared-pool';
import { SecurityEvent } from '../security-log/security-event.entity';

type Owned = Task | Transaction | SecurityEvent;

/** A row asked for on behalf of its owner: the caller for `node`, the parent row's owner for nested fields. */
interface OwnedKey {
  id: string;
  ownerId: string;
}

/**
 * Per-request batching of the objects nested fields lead to (a transaction's task, a task's charge and
 * refund): a page of 100 rows asks once per type, not once per row. Every load names the owner the row must
 * belong to, so a loader can never hand out someone else's row; nested fields name their parent's owner,
 * which is what lets the admin key follow a user's ledger to its tasks. Built lazily: most requests need none.
 */
export class RequestLoaders {
  private readonly loaders = new Map<new () => Owned, DataLoader<OwnedKey, Owned | null, string>>();

  /** Only runs SQL and reads metadata: any EntityManager (the loads stay out of every identity map). */
  constructor(private readonly em: EntityManager) {}

  task(id: string, ownerId: string): Promise<Task | null> {
    return this.load(Task, id, ownerId);
  }

  transaction(id: string, ownerId: string): Promise<Transaction | null> {
    return this.load(Transaction, id, ownerId);
  }

  securityEvent(id: string, ownerId: string): Promise<SecurityEvent | null> {
    return this.load(SecurityEvent, id, ownerId);
  }

  private load<T extends Owned>(entity: new () => T, id: string, ownerId: string): Promise<T | null> {
    let loader = this.loaders.get(entity);
    if (!loader) this.loaders.set(entity, (loader = this.byId(entity)));
    return loader.load({ id, ownerId }) as Promise<T | null>;
  }

  private byId(entity: new () => Owned): DataLoader<OwnedKey, Owned | null, string> {
    return new DataLoader(
      async (keys) => {
        // Read-only like a page: one hand-written query into unmanaged objects (src/database/plain-rows.ts).
        const reader = plainRowReader(this.em, entity);
        const ids = [...new Set(keys.map((key) => key.id))];
        const owners = [...new Set(keys.map((key) => key.ownerId))];
        const { rows } = await rawQuery(this.em, `select ${reader.columns} from "${reader.table}" where "id" = any($1) and "user_id" = any($2)`, [ids, owners]);
        const byId = new Map(rows.map((row) => [row.id as string, { ownerId: row.user_id as string, item: reader.read(row) }]));
        return keys.map((key) => {
          const found = byId.get(key.id);
          return found && found.ownerId === key.ownerId ? found.item : null;
        });
      },
      { cacheKeyFn: (key) => `${key.ownerId}/${key.id}` },
    );
  }
}
