import { ref, type EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/user.entity';
import { keysetCount, keysetPage, type KeysetList, type Page, type PageRequest } from '../core/keyset';
import type { RequestOrigin } from './request-origin';
import { SecurityEvent, type SecurityEventDetail, type SecurityEventKind } from './security-event.entity';

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

  /** A page of the user's log, newest first (see keysetPage: cursors both ways, or an offset for REST). */
  page(em: EntityManager, userId: string, request: PageRequest): Promise<Page<SecurityEvent>> {
    return keysetPage(em, logOf(userId), request);
  }

  count(em: EntityManager, userId: string): Promise<number> {
    return keysetCount(em, logOf(userId));
  }
}

/** A user's security log. */
const logOf = (userId: string): KeysetList<SecurityEvent> => ({ entity: SecurityEvent, kind: 'security_event', where: { user_id: userId } });
