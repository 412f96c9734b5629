import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../app/services';
import type { Caller } from '../auth/caller';
import { requestOrigin, type RequestOrigin } from '../security-log/request-origin';

/** What every resolver and permission rule sees; built once per request by `createContext`. */
export interface Context {
  em: EntityManager;
  caller: Caller;
  ip: string;
  /** IP and user agent, recorded on new sessions and security log entries. */
  origin: RequestOrigin;
  services: Services;
}

/**
 * Shared by the GraphQL endpoint and the REST shim: a fresh EntityManager (identity map per request),
 * the caller read from the Authorization header, and the per-caller request budget.
 */
export async function createContext(services: Services, authorization: string | undefined, ip: string, userAgent?: string): Promise<Context> {
  const em = services.orm.em.fork() as EntityManager;
  const caller = await services.callers.resolve(em, authorization);
  const budgetKey = caller.kind === 'apiKey' ? `key:${caller.apiKeyId}` : caller.kind === 'user' ? `user:${caller.user.id}` : `ip:${ip}`;
  await services.rateLimits.consumeRequest(budgetKey);
  return { em, caller, ip, origin: requestOrigin(ip, userAgent), services };
}
