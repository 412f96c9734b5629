import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { BudgetExceeded, type Budget } from '../auth/rate-limits';
import type { Caller } from '../auth/caller';
import type { GraphQLLimitsConfig } from '../core/config';
import { DomainError } from '../core/errors';
import { rateLimitHeaders } from '../http/rate-limit-headers';
import type { Context } from './context';
import { analyzeOperation } from './cost';
import { KEYLESS_ROOT_FIELDS } from './permissions';

/** No credentials of one's own: no header, an invalid one, or the app's public key (which anyone can read). */
export function isKeyless(caller: Caller): boolean {
  return caller.kind === 'anonymous' || caller.kind === 'rejected' || caller.kind === 'public';
}

/**
 * Spends `cost` points of the caller's budget (one per user, shared by all their sessions; one per API key; the admin
 * key's; or, keyless, the client IP's) and keeps the result on the context for the RateLimit headers and the `rateLimit` field.
 * Over budget: BudgetExceeded (429).
 */
export async function spendBudget(context: Context, cost: number): Promise<Budget | null> {
  const { caller } = context;
  context.cost = cost;
  const key = caller.kind === 'apiKey' ? `key:${caller.apiKeyId}` : caller.kind === 'user' ? `user:${caller.user.id}` : caller.kind === 'admin' ? 'admin' : `ip:${context.ip}`;
  try {
    context.budget = await context.services.rateLimits.spend(key, cost, isKeyless(caller));
  } catch (error) {
    if (error instanceof BudgetExceeded) context.budget = error.budget;
    throw error;
  }
  return context.budget;
}

/**
 * Before an operation of a client's document runs (over HTTP or a subscription socket): keyless callers may
 * only call the root fields open to them; the cost must be within the limit; then it is spent from the
 * caller's budget. Refusals are DomainErrors (UNAUTHENTICATED, QUERY_TOO_COMPLEX, RATE_LIMITED).
 */
export async function admitOperation(context: Context, limits: GraphQLLimitsConfig, schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | undefined): Promise<Budget | null> {
  const { cost, rootFields } = analyzeOperation(schema, document, operationName, variables ?? {});
  const keyless = isKeyless(context.caller);
  if (keyless && [...rootFields].some((field) => !KEYLESS_ROOT_FIELDS.has(field))) {
    throw new DomainError('UNAUTHENTICATED', 'Authentication is required: without a user token or an API key only health, version, rateLimit, sign-up and login can be called.');
  }
  const maxCost = keyless ? limits.anonymousMaxCost : limits.maxCost;
  if (maxCost > 0 && cost > maxCost) throw new DomainError('QUERY_TOO_COMPLEX', `The query is too complex: it costs ${cost} points, at most ${maxCost} are allowed${keyless ? ' without credentials' : ''}.`);
  return spendBudget(context, cost);
}

/**
 * Per /graphql operation, once it is parsed, validated and its operation known, before anything runs:
 * keyless callers may only call the root fields open to them and spend little; the operation's cost must
 * be within the limit; then the cost is spent from the caller's budget. A document refused earlier (syntax,
 * validation, limits) still costs 1 point, so floods of refused documents are limited too.
 */
export function budgetPlugin(limits: GraphQLLimitsConfig): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, request, schema, response, operation }) {
          try {
            if (operation?.operation === 'subscription') throw new DomainError('BAD_REQUEST', 'Subscriptions run over a WebSocket on /graphql (the graphql-ws protocol), not over HTTP.');
            const budget = await admitOperation(contextValue, limits, schema, document, request.operationName, request.variables);
            if (budget) for (const [name, value] of rateLimitHeaders(budget)) response.http.headers.set(name, value);
          } catch (error) {
            throw error instanceof DomainError ? asHttpError(error) : error;
          }
        },
        async didEncounterErrors({ contextValue, response }) {
          if (contextValue.cost !== undefined) return;
          // Refused before it could run (syntax, validation, limits): one point.
          const budget = await spendBudget(contextValue, 1).catch(() => undefined);
          if (budget) for (const [name, value] of rateLimitHeaders(budget)) response.http.headers.set(name, value);
        },
      };
    },
  };
}

/** A DomainError as Apollo answers it: its status, and for a 429 Retry-After and the RateLimit headers. */
function asHttpError(error: DomainError): GraphQLError {
  const headers = new HeaderMap();
  if (error instanceof BudgetExceeded) {
    headers.set('retry-after', String(error.data?.retry_after_seconds));
    for (const [name, value] of rateLimitHeaders(error.budget)) headers.set(name, value);
  }
  // Apollo reads a HeaderMap here; graphql-yoga's typings (the bench peer) declare a plain record for the same key.
  const extensions = { code: error.code, http: { status: error.status, headers } } as unknown as Record<string, unknown>;
  return new GraphQLError(error.message, { originalError: error, extensions });
}
