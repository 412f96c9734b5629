import { unwrapResolverError } from '@apollo/server/errors';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { DomainError } from '../core/errors';
import { asDomainError, DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnreachable } from '../database/connection-errors';
import { currentRequestId } from '../observability/request-context';
import { tokenLimitError, withoutSuggestions } from './limits';

/**
 * What a GraphQL client sees of an error: domain errors with their code, HTTP-like status and data;
 * GraphQL's own parse/validation errors as they are; anything else as an opaque internal error.
 */
export function formatGraphQLError(log: Logger, options: { suggestions: boolean } = { suggestions: true }) {
  const format = formatWithSuggestions(log);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = format(formatted, error);
    // The request's id (X-Request-Id), to find its log lines.
    const extensions = { ...result.extensions, requestId: currentRequestId() };
    return { ...result, extensions, ...(options.suggestions ? {} : { message: withoutSuggestions(result.message) }) };
  };
}

function formatWithSuggestions(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const found = domainErrorIn(error) ?? tokenLimitError(error) ?? unwrapResolverError(error);
    const original = asDomainError(found) ?? found;
    if (original instanceof DomainError) {
      return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: { code: original.code, status: original.status, ...(original.data ? { data: original.data } : {}) } };
    }
    const code = formatted.extensions?.code;
    if (code && code !== 'INTERNAL_SERVER_ERROR') return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
    // Apollo's own refusals of a request without a code of their own (a persisted-query hash that does not
    // match its text, an unsupported persisted-query version) carry a 4xx: the client's fault, not ours.
    const status = (error as GraphQLError | undefined)?.extensions?.http as { status?: number } | undefined;
    if (status?.status && status.status >= 400 && status.status < 500) return { message: formatted.message, extensions: { code: 'BAD_REQUEST', status: status.status } };
    log.error({ err: original }, 'unexpected GraphQL error');
    return { message: 'Internal server error.', path: formatted.path, extensions: { code: 'INTERNAL', status: 500 } };
  };
}

/** Finds a DomainError anywhere in the chain of wrapped errors (resolver, context creation). */
export function domainErrorIn(error: unknown): DomainError | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof DomainError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/**
 * An operation that failed only because the database is unreachable answers HTTP 503 with Retry-After, as
 * REST does, so load balancers and clients back off (the body keeps the GraphQL errors, code SERVICE_UNAVAILABLE).
 */
export function serviceUnavailableStatus(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, errors }) {
          const unavailable = errors?.length && errors.every((error) => domainErrorIn(error)?.code === 'SERVICE_UNAVAILABLE' || isDatabaseUnreachable(error.originalError));
          if (!unavailable || response.body.kind !== 'single') return;
          response.http.status = 503;
          response.http.headers.set('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
        },
      };
    },
  };
}
