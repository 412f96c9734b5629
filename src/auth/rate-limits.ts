import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../core/errors';

/**
 * Request budgets. The store is memory for a single instance or Redis (REDIS_URL) so several
 * instances share one budget per caller.
 */
export class RateLimits {
  private readonly perCaller: RateLimiterAbstract | null;
  private readonly authPerIp: RateLimiterAbstract;
  private readonly authPerAccount: RateLimiterAbstract;

  constructor(options: { perSecond: number; authPerAccountPerMinute: number; authPerIpPerMinute: number; redis?: Redis; keyPrefix: string }) {
    const make = (name: string, points: number, duration: number) => budget(options, name, points, duration);
    // 0 turns the per-caller limit off (benchmarks measure the limiter's own cost this way).
    this.perCaller = options.perSecond > 0 ? make('caller', options.perSecond, 1) : null;
    this.authPerIp = make('auth-ip', options.authPerIpPerMinute, 60);
    this.authPerAccount = make('auth-account', options.authPerAccountPerMinute, 60);
  }

  /** Every request: `key` is the API key, user session or IP the budget belongs to. */
  async consumeRequest(key: string): Promise<void> {
    if (this.perCaller) await consume(this.perCaller, key);
  }

  /** Sign-up, login and OTP attempts: charged to the client IP and, when one is named, to the account. */
  async consumeAuthAttempt(ip: string, account?: string): Promise<void> {
    await consume(this.authPerIp, ip);
    if (account) await consume(this.authPerAccount, account);
  }
}

/** A budget of `points` per `duration` seconds per key, in memory or in Redis (shared by instances). */
export function budget(store: { redis?: Redis; keyPrefix: string }, name: string, points: number, duration: number): RateLimiterAbstract {
  const keyPrefix = `${store.keyPrefix}:rl:${name}`;
  const memory = new RateLimiterMemory({ keyPrefix, points, duration });
  // If Redis is unreachable, each instance keeps limiting on its own instead of failing requests.
  return store.redis
    ? new RateLimiterRedis({ storeClient: store.redis, keyPrefix, points, duration, useRedisPackage: false, insuranceLimiter: memory })
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
