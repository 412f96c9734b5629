import type { Budget } from '../auth/rate-limits';

/**
 * The IETF draft RateLimit header fields (draft-ietf-httpapi-ratelimit-headers): the policy (quota `q` in
 * cost points per window `w` seconds) and where the caller stands (`r` points remaining, `t` seconds to the
 * reset). On GraphQL and REST answers, 429s included.
 */
export function rateLimitHeaders(budget: Budget): [string, string][] {
  const secondsToReset = Math.max(0, Math.ceil((budget.resetAt.getTime() - Date.now()) / 1000));
  return [
    ['ratelimit-policy', `"cost";q=${budget.limit};w=${budget.windowSeconds}`],
    ['ratelimit', `"cost";r=${budget.remaining};t=${secondsToReset}`],
  ];
}
