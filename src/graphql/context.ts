import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../app/services';
import { callerUser, type Caller } from '../auth/caller';
import type { Budget } from '../auth/rate-limits';
import { requestOrigin, type RequestOrigin } from '../security-log/request-origin';
import { RequestLoaders } from './loaders';

/** What every resolver and permission rule sees; built once per request by `createContext`. */
export interface Context {
  em: EntityManager;
  caller: Caller;
  ip: string;
  /** IP and user agent, recorded on new sessions and security log entries. */
  origin: RequestOrigin;
  services: Services;
  /** Batches nested reads (a page's tasks, charges, refunds) into one query per type, scoped to the caller. */
  loaders: RequestLoaders;
  /** Set by the REST shim and MCP: a mutation's refusal is thrown (status, data) rather than returned as userErrors. */
  throwUserErrors?: boolean;
  /** Set once the request's cost is spent (src/graphql/budget.ts); budget null: no rate limit configured. */
  cost?: number;
  budget?: Budget | null;
  /** Set when a mutation's answer is the one kept under its idempotency key (REST says so in a header). */
  idempotency: { replayed: boolean };
}

/**
 * Shared by the GraphQL endpoint and the REST shim: a fresh EntityManager (identity map per request) and
 * the caller read from the Authorization header. The adapters spend the request's cost (spendBudget).
 */
export async function createContext(services: Services, authorization: string | undefined, ip: string, userAgent?: string): Promise<Context> {
  const em = services.orm.em.fork() as EntityManager;
  const caller = await services.callers.resolve(em, authorization);
  return { em, caller, ip, origin: requestOrigin(ip, userAgent), services, loaders: new RequestLoaders(em, callerUser(caller)?.id ?? null), idempotency: { replayed: false } };
}
