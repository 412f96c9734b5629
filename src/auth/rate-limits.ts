import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../core/errors';

/**
 * Request budgets. The store is memory for a single instance or Redis (REDIS_URL) so several
 * instances share one budget per caller.
 */
export class RateLimits {
  private readonly perCaller: RateLimiterAbstract;
  private readonly auth: RateLimiterAbstract;

  constructor(options: { perSecond: number; authPerMinute: number; redis?: Redis }) {
    const make = (keyPrefix: string, points: number, duration: number) =>
      options.redis
        ? new RateLimiterRedis({ storeClient: options.redis, keyPrefix, points, duration, useRedisPackage: false })
        : new RateLimiterMemory({ keyPrefix, points, duration });
    this.perCaller = make('clara:rl:caller', options.perSecond, 1);
    this.auth = make('clara:rl:auth', options.authPerMinute, 60);
  }

  /** Every request: `key` is the API key, user session or IP the budget belongs to. */
  consumeRequest(key: string): Promise<void> {
    return consume(this.perCaller, key);
  }

  /** Login and OTP attempts: charged to each of the keys (the IP and the account). */
  async consumeAuthAttempt(keys: string[]): Promise<void> {
    for (const key of keys) await consume(this.auth, key);
  }
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
