import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../core/errors';
import { isId } from '../core/ids';
import type { RequestOrigin } from '../security-log/request-origin';
import type { SecurityEventDetail } from '../security-log/security-event.entity';
import type { SecurityLog } from '../security-log/security-log.service';
import { Session } from './session.entity';

export interface SessionView {
  id: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  /** The session of the token that asked. */
  current: boolean;
}

/** Which of a user's sessions to end: one by id, all but one, or all. */
export type SessionTarget = { userId: string } & ({ sessionId: string } | { sessionIds: string[] } | { exceptSessionId?: string });

/** A user's live sessions: listing them, and ending them (every path that ends a session goes through `revoke`). */
export class SessionsService {
  constructor(private readonly deps: { securityLog: SecurityLog; touchIntervalSeconds: number }) {}

  /** The user's sessions that still work (not revoked, not expired), newest first. */
  async list(em: EntityManager, userId: string, currentSessionId: string | null): Promise<SessionView[]> {
    const sessions = await em.find(Session, { user: userId, revokedAt: null, expiresAt: { $gt: new Date() } }, { orderBy: { createdAt: 'desc', id: 'desc' }, disableIdentityMap: true });
    return sessions.map((s) => ({ id: s.id, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt ?? null, expiresAt: s.expiresAt, ip: s.ip ?? null, userAgent: s.userAgent ?? null, current: s.id === currentSessionId }));
  }

  /** Ends one of the user's sessions; another user's id, an unknown or an already ended one is 404 alike. */
  async revokeOne(em: EntityManager, userId: string, sessionId: string, origin?: RequestOrigin): Promise<void> {
    const ended = isId('session', sessionId) ? await this.revoke(em, { userId, sessionId }, { scope: 'one', reason: 'user_request' }, origin) : [];
    if (!ended.length) throw notFound('Session not found.');
  }

  /** Ends all the user's sessions, or all but the caller's own; answers how many ended. */
  async revokeMany(em: EntityManager, userId: string, scope: 'others' | 'all', currentSessionId: string, origin?: RequestOrigin): Promise<number> {
    const target: SessionTarget = scope === 'others' ? { userId, exceptSessionId: currentSessionId } : { userId };
    return (await this.revoke(em, target, { scope, reason: 'user_request' }, origin)).length;
  }

  /**
   * The one place sessions end (logout, revocation, password change, an unproven account taken over with
   * Google): a token naming an ended session is refused on its next request. The update and its security
   * log entry are one transaction (the caller's, when one is open). Answers the ids that ended (for caches).
   */
  async revoke(em: EntityManager, target: SessionTarget, why: Pick<SecurityEventDetail, 'scope' | 'reason'>, origin?: RequestOrigin): Promise<string[]> {
    const where: Record<string, unknown> = { user: target.userId, revokedAt: null };
    if ('sessionId' in target) where.id = target.sessionId;
    else if ('sessionIds' in target) where.id = { $in: target.sessionIds };
    else if (target.exceptSessionId) where.id = { $ne: target.exceptSessionId };
    return em.transactional(async (tx) => {
      const rows: { id: string }[] = await tx.createQueryBuilder(Session).update({ revokedAt: new Date() }).where(where).returning(['id']).execute('all');
      if (rows.length) await this.deps.securityLog.write(tx as EntityManager, target.userId, 'SESSIONS_REVOKED', origin, { ...why, count: rows.length });
      return rows.map((row) => row.id);
    });
  }

  /**
   * Records that a session was used. Called by authentication only when the session's last use is older
   * than the interval (read in the same query), so most requests cost no write; the condition keeps
   * concurrent requests (or instances) from writing it twice.
   */
  async touch(em: EntityManager, sessionId: string): Promise<void> {
    await em.execute(`update sessions set last_used_at = now() where id = ? and (last_used_at is null or last_used_at < now() - make_interval(secs => ?))`, [sessionId, this.deps.touchIntervalSeconds], 'run');
  }

  /** SQL that is true when a session's last use should be refreshed (`s` is the sessions alias). */
  get touchDueSql(): string {
    return `(s.last_used_at is null or s.last_used_at < now() - make_interval(secs => ${Number(this.deps.touchIntervalSeconds)}))`;
  }
}
