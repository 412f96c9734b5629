import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../app/services';
import type { User } from '../accounts/user.entity';
import { callerUser, type Caller } from '../auth/caller';
import type { Budget } from '../auth/rate-limits';
import { requestOrigin, type RequestOrigin } from '../security-log/request-origin';
import { RequestLoaders } from './loaders';

/** What every resolver and permission rule sees; built once per request by `createContext`. */
export interface Context {
  /** This request's unit of work, forked on first use (see createContext). */
  readonly em: EntityManager;
  /** The shared EntityManager, for hand-written read-only queries (plain-row pages and counts): no unit of work needed. */
  readonly readOnlyEm: EntityManager;
  caller: Caller;
  ip: string;
  /** IP and user agent, recorded on new sessions and security log entries. */
  origin: RequestOrigin;
  services: Services;
  /** Batches nested reads (a page's tasks, charges, refunds) into one query per type, each scoped to an owner. */
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
 * Shared by the GraphQL endpoint and the REST shim: the caller read from the Authorization header and a
 * fresh EntityManager (identity map per request). The adapters spend the request's cost (spendBudget).
 *
 * The EntityManager is forked on first use: reads answered from the caller's own row (viewer, user, the
 * REST user read) and plain-row pages need none, and forking plus adopting the caller cost more than the
 * rest of such a request. On first use the caller's user (read unmanaged) is merged into it, so services
 * that change the caller and flush see a managed entity, the same object the resolvers hold.
 */
export async function createContext(services: Services, authorization: string | undefined, ip: string, userAgent?: string): Promise<Context> {
  const root = services.orm.em as EntityManager;
  const caller = await services.callers.resolve(root, authorization);
  return new RequestContext(new UnitOfWork(root, callerUser(caller)), root, caller, ip, requestOrigin(ip, userAgent), services, new RequestLoaders(root));
}

/** The request's EntityManager, forked on first use; every copy of the context shares this one. */
class UnitOfWork {
  private em?: EntityManager;

  constructor(
    private readonly root: EntityManager,
    private readonly user: User | null,
  ) {}

  get(): EntityManager {
    if (!this.em) {
      this.em = this.root.fork();
      if (this.user) this.em.merge(this.user);
    }
    return this.em;
  }
}

/**
 * `em` is a getter on the class, not an own property: Apollo hands resolvers a copy of the context
 * (Object.assign over Object.create of its prototype), which copies own getters by calling them.
 */
class RequestContext implements Context {
  idempotency = { replayed: false };

  constructor(
    private readonly unitOfWork: UnitOfWork,
    public readonly readOnlyEm: EntityManager,
    public caller: Caller,
    public ip: string,
    public origin: RequestOrigin,
    public services: Services,
    public loaders: RequestLoaders,
  ) {}

  get em(): EntityManager {
    return this.unitOfWork.get();
  }
}
