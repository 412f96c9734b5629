import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../core/errors';

/** Where a caller's budget stands after a charge: what the RateLimit headers and the `rateLimit` field show. */
export interface Budget {
  /** Points this request cost. */
  cost: number;
  /** Points per window. */
  limit: number;
  remaining: number;
  windowSeconds: number;
  resetAt: Date;
}

/** Over budget: a 429 whose budget (remaining 0, reset time) still goes into the RateLimit headers. */
export class BudgetExceeded extends DomainError {
  constructor(readonly budget: Budget) {
    const retryAfter = Math.max(1, Math.ceil((budget.resetAt.getTime() - Date.now()) / 1000));
    super('RATE_LIMITED', `Too many requests; retry in ${retryAfter} s.`, { retry_after_seconds: retryAfter });
  }
}

/**
 * Budgets. Callers spend cost points (src/graphql/cost.ts), not requests, from a budget per window: the
 * signed-in per user (all their sessions together) or API key, everyone else per client IP with a smaller budget. The store is
 * memory for a single instance or Redis (REDIS_URL) so several instances share one budget per caller.
 */
export class RateLimits {
  private readonly perCaller: RateLimiterAbstract | null;
  private readonly perAnonymousIp: RateLimiterAbstract | null;
  private readonly authPerIp: RateLimiterAbstract;
  private readonly authPerAccount: RateLimiterAbstract;
  private readonly refusals?: { refusedByRateLimit(limiter: string): void };

  constructor(options: { points: number; windowSeconds: number; anonymousPoints: number; authPerAccountPerMinute: number; authPerIpPerMinute: number; redis?: Redis; keyPrefix: string; metrics?: { refusedByRateLimit(limiter: string): void } }) {
    this.refusals = options.metrics;
    const make = (name: string, points: number, duration: number) => budget(options, name, points, duration);
    // 0 turns the per-caller limit off (benchmarks measure the limiter's own cost this way).
    this.perCaller = options.points > 0 ? make('caller', options.points, options.windowSeconds) : null;
    this.perAnonymousIp = options.points > 0 && options.anonymousPoints > 0 ? make('anonymous', options.anonymousPoints, options.windowSeconds) : null;
    this.authPerIp = make('auth-ip', options.authPerIpPerMinute, 60);
    this.authPerAccount = make('auth-account', options.authPerAccountPerMinute, 60);
  }

  /**
   * Spends `cost` points of the budget `key` belongs to (an API key, a user, or `ip:` and the IP
   * of a caller without credentials). Over budget: BudgetExceeded. No limit configured: null.
   */
  async spend(key: string, cost: number, anonymous: boolean): Promise<Budget | null> {
    const limiter = anonymous ? this.perAnonymousIp : this.perCaller;
    if (!limiter) return null;
    // Never affordable, so not worth waiting for: refused without spending what the caller has left.
    if (cost > limiter.points) throw new DomainError('QUERY_TOO_COMPLEX', `The request costs ${cost} points, more than the whole budget of ${limiter.points} per ${limiter.duration} s.`);
    const budget = (res: RateLimiterRes): Budget => ({
      cost,
      limit: limiter.points,
      remaining: Math.max(0, res.remainingPoints),
      windowSeconds: limiter.duration,
      resetAt: new Date(Date.now() + res.msBeforeNext),
    });
    try {
      return budget(await limiter.consume(key, cost));
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        this.refusals?.refusedByRateLimit(anonymous ? 'anonymous' : 'caller');
        throw new BudgetExceeded(budget(error));
      }
      throw error;
    }
  }

  /** Sign-up, login and OTP attempts: charged to the client IP and, when one is named, to the account. */
  async consumeAuthAttempt(ip: string, account?: string): Promise<void> {
    await this.counted('auth-ip', consume(this.authPerIp, ip));
    if (account) await this.counted('auth-account', consume(this.authPerAccount, account));
  }

  private async counted(limiter: string, attempt: Promise<void>): Promise<void> {
    try {
      await attempt;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'RATE_LIMITED') this.refusals?.refusedByRateLimit(limiter);
      throw error;
    }
  }
}

/** A budget of `points` per `duration` seconds per key, in memory or in Redis (shared by instances). */
export function budget(store: { redis?: Redis; keyPrefix: string }, name: string, points: number, duration: number): RateLimiterAbstract {
  const keyPrefix = `${store.keyPrefix}:rl:${name}`;
  const memory = new RateLimiterMemory({ keyPrefix, points, duration });
  // If Redis is unreachable, each instance keeps limiting on its own instead of failing requests; while the
  // client is not connected the insurance limiter answers at once (no command attempted).
  return store.redis
    ? new RateLimiterRedis({ storeClient: store.redis, keyPrefix, points, duration, useRedisPackage: false, rejectIfRedisNotReady: true, insuranceLimiter: memory })
    : memory;
}

async function consume(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (error instanceof RateLimiterRes) {
      throw new DomainError('RATE_LIMITED', `Too many requests; retry in ${Math.ceil(error.msBeforeNext / 1000)} s.`, {
        retry_after_seconds: Math.ceil(error.msBeforeNext / 1000),
      });
    }
    throw error;
  }
}
