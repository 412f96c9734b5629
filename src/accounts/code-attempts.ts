import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../core/errors';
import { newId } from '../core/ids';
import type { CodeFlow } from './code-attempt.entity';
import type { User } from './user.entity';

/** What happens when a flow locks: the owner is told (AccountsService mails them). */
export type LockoutNotice = (user: User, flow: CodeFlow, lockedUntil: Date) => Promise<void>;

/**
 * One attempt limit for every code a person types: emailed codes, authenticator codes, recovery codes.
 * An attempt is counted *before* the code is checked, by one atomic upsert that refuses once the flow is
 * locked, so concurrent guesses can never check more codes than the limit. A right code clears the count;
 * a new code does not. After `maxFailures` the flow is locked for `lockoutMinutes` (429) and the owner is
 * told; failures older than a lockout period are forgotten.
 */
export class CodeAttempts {
  constructor(private readonly options: { maxFailures: number; lockoutMinutes: number; onLockout: LockoutNotice }) {}

  /** Runs `check` (which throws UNAUTHENTICATED for a wrong code) as one counted attempt. */
  async attempt<T>(em: EntityManager, user: User, flow: CodeFlow, check: () => Promise<T>): Promise<T> {
    const claim = await this.claim(em, user.id, flow);
    let result: T;
    try {
      result = await check();
    } catch (error) {
      const wrongCode = error instanceof DomainError && error.code === 'UNAUTHENTICATED';
      if (!wrongCode) await this.release(em, user.id, flow);
      else if (claim.lockedUntil) await this.options.onLockout(user, flow, claim.lockedUntil);
      throw error;
    }
    await em.getConnection().execute('update code_attempts set failures = 0, locked_until = null, updated_at = now() where user_id = ? and flow = ?', [user.id, flow]);
    return result;
  }

  /** Counts one attempt, or refuses with 429 while the flow is locked. `lockedUntil` is set on the last allowed one. */
  private async claim(em: EntityManager, userId: string, flow: CodeFlow): Promise<{ failures: number; lockedUntil: Date | null }> {
    const lockSeconds = this.options.lockoutMinutes * 60;
    const max = this.options.maxFailures;
    // Stale: an expired lockout, or failures older than a lockout period; counting starts again at 1.
    const stale = `(c.locked_until is not null and c.locked_until <= now()) or (c.locked_until is null and c.updated_at <= now() - ? * interval '1 second')`;
    const rows: { failures: number; locked_until: Date | null }[] = await em.getConnection().execute(
      `insert into code_attempts as c (id, user_id, flow, failures, locked_until, updated_at)
         values (?, ?, ?, 1, case when 1 >= ? then now() + ? * interval '1 second' end, now())
       on conflict (user_id, flow) do update set
         failures = case when ${stale} then 1 else c.failures + 1 end,
         locked_until = case when (case when ${stale} then 1 else c.failures + 1 end) >= ? then now() + ? * interval '1 second' end,
         updated_at = now()
       where c.locked_until is null or c.locked_until <= now()
       returning failures, locked_until`,
      [newId('code_attempt'), userId, flow, max, lockSeconds, lockSeconds, lockSeconds, max, lockSeconds],
    );
    if (rows.length) return { failures: Number(rows[0].failures), lockedUntil: rows[0].locked_until ? new Date(rows[0].locked_until) : null };
    const [lock] = await em.getConnection().execute(
      `select ceil(extract(epoch from (locked_until - now())))::int as seconds from code_attempts where user_id = ? and flow = ?`,
      [userId, flow],
    );
    const seconds = Math.max(1, Number(lock?.seconds ?? lockSeconds));
    throw new DomainError('RATE_LIMITED', `Too many wrong codes: this is locked for ${Math.ceil(seconds / 60)} more minute(s).`, { retry_after_seconds: seconds });
  }

  /** An attempt that never checked a code (bad input, nothing to check) is not a failure. */
  private async release(em: EntityManager, userId: string, flow: CodeFlow): Promise<void> {
    await em.getConnection().execute(
      'update code_attempts set failures = greatest(failures - 1, 0), locked_until = case when failures - 1 < ? then null else locked_until end where user_id = ? and flow = ?',
      [this.options.maxFailures, userId, flow],
    );
  }
}
