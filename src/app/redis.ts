import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The Redis client for shared rate limits. Commands fail at once while Redis is unreachable (no offline queue),
 * so the limiters fall back to their per-instance insurance limiters; ioredis keeps reconnecting, and limits
 * are shared again once it is back. The outage and the recovery are each logged once, not per request.
 */
export function connectRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  let down = false;
  // Every failed reconnection attempt is an 'error' (also what keeps ioredis from printing them as unhandled).
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: error }, 'Redis is unreachable: rate limits are enforced per instance until it is back');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('Redis is reachable again: rate limits are shared by the instances again');
  });
  return redis;
}
