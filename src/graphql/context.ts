import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../app/services';
import { callerUser, type Caller } from '../auth/caller';
import { RequestLoaders } from './loaders';

/** What every resolver and permission rule sees; built once per request by `createContext`. */
export interface Context {
  em: EntityManager;
  caller: Caller;
  ip: string;
  services: Services;
  /** Batches nested reads (a page's tasks, charges, refunds) into one query per type, scoped to the caller. */
  loaders: RequestLoaders;
  /** Set by the REST shim and MCP: a mutation's refusal is thrown (status, data) rather than returned as userErrors. */
  throwUserErrors?: boolean;
}

/**
 * Shared by the GraphQL endpoint and the REST shim: a fresh EntityManager (identity map per request),
 * the caller read from the Authorization header, and the per-caller request budget.
 */
export async function createContext(services: Services, authorization: string | undefined, ip: string): Promise<Context> {
  const em = services.orm.em.fork() as EntityManager;
  const caller = await services.callers.resolve(em, authorization);
  const budgetKey = caller.kind === 'apiKey' ? `key:${caller.apiKeyId}` : caller.kind === 'user' ? `user:${caller.user.id}` : `ip:${ip}`;
  await services.rateLimits.consumeRequest(budgetKey);
  return { em, caller, ip, services, loaders: new RequestLoaders(em, callerUser(caller)?.id ?? null) };
}
