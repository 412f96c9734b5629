import type { EntityManager } from '@mikro-orm/postgresql';
import { CodeAttempt } from '../accounts/code-attempt.entity';
import { Otp } from '../accounts/otp.entity';
import { RecoveryCode } from '../accounts/recovery-code.entity';
import { Registration } from '../accounts/registration.entity';
import { Session } from '../accounts/session.entity';
import type { SessionsService } from '../accounts/sessions.service';
import { User, type UserStatus } from '../accounts/user.entity';
import { Task } from '../agent/task.entity';
import { Upload } from '../agent/upload.entity';
import type { UploadStorage } from '../agent/upload-storage';
import { ApiKey } from '../api-keys/api-key.entity';
import { operatorReason } from '../credits/credits.service';
import { badRequest, DomainError, notFound } from '../core/errors';
import { isId } from '../core/ids';
import { keysetCount, keysetPage, type KeysetList, type Page, type PageRequest } from '../core/keyset';
import { SecurityEvent } from '../security-log/security-event.entity';
import type { SecurityLog } from '../security-log/security-log.service';

export interface UserFilter {
  /** A fragment of the email address (case-insensitive). */
  email?: string | null;
  /** A fragment of the first and last name (case-insensitive). */
  name?: string | null;
  status?: UserStatus | null;
}

/** SQL conditions on the users table (alias `u`) for each status; they match User.status. */
const STATUS_SQL: Record<UserStatus, string> = {
  ERASED: 'erased_at is not null',
  DEACTIVATED: 'deactivated_at is not null and erased_at is null',
  ACTIVE: 'is_active and deactivated_at is null',
  PENDING_ACTIVATION: 'not is_active and deactivated_at is null',
};

/** `%fragment%` for ILIKE, with the fragment's own wildcards taken literally. */
const containing = (fragment: string) => `%${fragment.trim().replace(/[\\%_]/g, '\\$&')}%`;

/** The address an erased account keeps: unique, never deliverable (.invalid), so the real one is free again. */
const erasedEmail = (userId: string) => `erased-${userId}@erased.invalid`;

/**
 * What operators do to accounts with the admin key: find them, deactivate and reactivate them, erase their
 * personal data. Every change is written with the operator's reason to the user's security log, in the same
 * database transaction. (Credit changes are CreditsService.adjust and .correct.)
 */
export class AdminService {
  constructor(private readonly deps: { sessions: SessionsService; securityLog: SecurityLog; storage: UploadStorage }) {}

  /** Users matching every given filter, newest first by keyset (see keysetPage). */
  search(em: EntityManager, filter: UserFilter, request: PageRequest): Promise<Page<User>> {
    return keysetPage(em, usersMatching(filter), request);
  }

  count(em: EntityManager, filter: UserFilter): Promise<number> {
    return keysetCount(em, usersMatching(filter));
  }

  /** One user by id; an unknown or malformed id is NOT_FOUND. */
  async user(em: EntityManager, userId: string): Promise<User> {
    const user = isId('user', userId) ? await em.findOne(User, { id: userId }) : null;
    if (!user) throw notFound('User not found.', ['input', 'userId']);
    return user;
  }

  /**
   * Ends every session at once (SessionsService.revoke) and refuses login, Google sign-in, user tokens and the
   * API key from now on (the authentication queries check deactivated_at too, so a login racing this is refused).
   * Deactivating a deactivated account changes nothing.
   */
  deactivate(em: EntityManager, userId: string, reason: string): Promise<User> {
    return this.setDeactivated(em, userId, reason, true);
  }

  /** Allows login again (with the password or Google; the API key works again). An erased account stays as it is. */
  reactivate(em: EntityManager, userId: string, reason: string): Promise<User> {
    return this.setDeactivated(em, userId, reason, false);
  }

  /** deactivate and reactivate: an account already as asked is left alone; else the change and its security-log event commit together. */
  private async setDeactivated(em: EntityManager, userId: string, reason: string, deactivated: boolean): Promise<User> {
    const note = operatorReason(reason);
    const user = await this.user(em, userId);
    if (!deactivated && user.erasedAt) throw badRequest('An erased account cannot be reactivated: its owner can register again.');
    if (Boolean(user.deactivatedAt) === deactivated) return user;
    await em.transactional(async (tx) => {
      user.deactivatedAt = deactivated ? new Date() : null;
      tx.persist(user);
      if (deactivated) await this.deps.sessions.revoke(tx as EntityManager, { userId }, { scope: 'all', reason: 'admin' });
      await this.deps.securityLog.write(tx as EntityManager, userId, deactivated ? 'ACCOUNT_DEACTIVATED' : 'ACCOUNT_REACTIVATED', undefined, { reason: 'admin', note });
    });
    return user;
  }

  /**
   * Removes the account's personal data in one database transaction: email (replaced by a unique undeliverable
   * address, so the real one can register again as a new account), names, password hash, second factor, Google and
   * Stripe ids, sessions, registrations, codes, the API key, uploads, task prompts and inputs, and the IPs and user
   * agents of its security log; purchase rows' descriptions lose the buyer's name. The user row stays (deactivated)
   * with its id and balance, so every ledger row keeps its owner and the balances stay consistent. Files go after the
   * commit. Refused (CONFLICT) while a task is queued or running: deactivate first, then erase once they ended.
   * Erasing an erased account changes nothing.
   */
  async erase(em: EntityManager, userId: string, reason: string): Promise<User> {
    const note = operatorReason(reason);
    const user = await this.user(em, userId);
    if (user.erasedAt) return user;
    if (await em.count(Task, { user: userId, status: { $in: ['queued', 'running'] } })) {
      throw new DomainError('CONFLICT', 'The account has analyses queued or running: deactivate it, then erase it once they have ended.');
    }
    const folders: string[] = [];
    await em.transactional(async (tx) => {
      const t = tx as EntityManager;
      await this.deps.sessions.revoke(t, { userId }, { scope: 'all', reason: 'admin' });
      folders.push(...(await t.find(Upload, { owner: userId }, { fields: ['id'] })).map((upload) => upload.id));
      folders.push(...(await t.find(Task, { user: userId }, { fields: ['id'] })).map((task) => task.id));
      // Children before their parents: otps point at registrations, registrations at sessions.
      for (const entity of [Otp, Registration, Session, ApiKey, CodeAttempt, RecoveryCode]) await t.nativeDelete(entity as typeof Session, { user: userId });
      await t.nativeDelete(Upload, { owner: userId });
      await t.execute(`update tasks set prompt = '', inputs = '[]', result = null where user_id = ?`, [userId], 'run');
      await t.execute(`update transactions set description = regexp_replace(description, '^.* bought ', 'An erased user bought ') where user_id = ? and kind = 'purchase'`, [userId], 'run');
      await t.nativeUpdate(SecurityEvent, { user: userId }, { ip: null, userAgent: null });
      const now = new Date();
      Object.assign(user, {
        email: erasedEmail(userId), firstName: '', lastName: null, passwordHash: null, twoFactorMethod: null, totpSecret: null, totpPendingSecret: null,
        totpLastStep: null, googleId: null, stripeCustomerId: null, isDarkMode: true, deactivatedAt: user.deactivatedAt ?? now, erasedAt: now,
      });
      t.persist(user);
      await this.deps.securityLog.write(t, userId, 'ACCOUNT_ERASED', undefined, { reason: 'admin', note });
    });
    await Promise.all(folders.map((folder) => this.deps.storage.removeTask(folder).catch(() => undefined)));
    return user;
  }
}

function usersMatching(filter: UserFilter): KeysetList<User> {
  return {
    entity: User,
    kind: 'user',
    where: {},
    filters: (param) => [
      ...(filter.email?.trim() ? [`email ilike ${param(containing(filter.email))}`] : []),
      ...(filter.name?.trim() ? [`(first_name || ' ' || coalesce(last_name, '')) ilike ${param(containing(filter.name))}`] : []),
      ...(filter.status ? [STATUS_SQL[filter.status]] : []),
    ],
  };
}
