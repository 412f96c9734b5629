import { ref, type EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/user.entity';
import { decodeKeysetCursor, pageOffset, pageSize } from '../core/paging';
import type { RequestOrigin } from './request-origin';
import { SecurityEvent, type SecurityEventDetail, type SecurityEventKind } from './security-event.entity';

export interface SecurityEventPage {
  events: SecurityEvent[];
  hasNextPage: boolean;
}

/**
 * The per-user security log. `record` adds an entry to the caller's unit of work, so the flush that makes
 * a change also writes its entry; `write` inserts at once, inside the caller's open transaction if there
 * is one, without flushing anything else (revocations, and failures whose request commits nothing).
 */
export class SecurityLog {
  record(em: EntityManager, user: User | string, kind: SecurityEventKind, origin?: RequestOrigin, detail: SecurityEventDetail = {}): SecurityEvent {
    const event = this.entry(em, user, kind, origin, detail);
    em.persist(event);
    return event;
  }

  async write(em: EntityManager, user: User | string, kind: SecurityEventKind, origin?: RequestOrigin, detail: SecurityEventDetail = {}): Promise<void> {
    await em.insert(this.entry(em, user, kind, origin, detail));
  }

  private entry(em: EntityManager, user: User | string, kind: SecurityEventKind, origin: RequestOrigin | undefined, detail: SecurityEventDetail): SecurityEvent {
    return Object.assign(new SecurityEvent(), { user: ref(typeof user === 'string' ? em.getReference(User, user) : user), kind, ip: origin?.ip ?? null, userAgent: origin?.userAgent ?? null, detail });
  }

  /** Newest first, after a cursor: a keyset read on (user_id, created_at desc, id desc). */
  async listAfter(em: EntityManager, userId: string, options: { first?: number | null; after?: string | null }): Promise<SecurityEventPage> {
    const limit = pageSize(options.first);
    const qb = em.createQueryBuilder(SecurityEvent, 'e').select('*').where({ user: userId });
    if (options.after) {
      const { createdAt, id } = decodeKeysetCursor(options.after, 'security_event');
      qb.andWhere('(e.created_at, e.id) < (?, ?)', [createdAt, id]);
    }
    const rows = await qb.orderBy({ createdAt: 'desc', id: 'desc' }).limit(limit + 1).getResultList();
    return { events: rows.slice(0, limit), hasNextPage: rows.length > limit };
  }

  /** Newest first, by offset (the REST paging, like transactions). */
  async listByOffset(em: EntityManager, userId: string, options: { limit?: number | null; offset?: number | null }): Promise<SecurityEventPage> {
    const limit = pageSize(options.limit);
    const rows = await em.find(SecurityEvent, { user: userId }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: limit + 1, offset: pageOffset(options.offset), disableIdentityMap: true });
    return { events: rows.slice(0, limit), hasNextPage: rows.length > limit };
  }
}
