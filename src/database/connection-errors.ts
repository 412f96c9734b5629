import { DomainError } from '../core/errors';

/** What a client is told to wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Socket errors of a connection that is refused, reset or gone. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * PostgreSQL SQLSTATEs of an unusable server rather than a bad statement: class 08 (connection exception),
 * 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting or stopping), 53300 too many connections.
 */
const SQLSTATE = /^(08...|57P0[123]|53300)$/;
/**
 * Messages of node-postgres and knex that carry no code ("Transaction query already complete": a statement
 * of a transaction whose connection was lost and rolled back under it).
 */
const MESSAGES = /Connection terminated|connection error and is not queryable|Timeout acquiring a connection|Connection ended unexpectedly|the database system is (starting up|shutting down)|Transaction query already complete/i;

/**
 * True when `error` (or anything it wraps: MikroORM's driver exceptions, knex's, an AggregateError from
 * connecting) says the database cannot be reached, as opposed to a fault of the request or of our code.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length && seen.size < 10) {
    const current = queue.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const { code, message, name } = current as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE.test(code))) return true;
    if (name === 'KnexTimeoutError' || (typeof message === 'string' && MESSAGES.test(message))) return true;
    const wrapped = current as { cause?: unknown; previous?: unknown; originalError?: unknown; errors?: unknown };
    queue.push(wrapped.cause, wrapped.previous, wrapped.originalError, ...(Array.isArray(wrapped.errors) ? wrapped.errors : []));
  }
  return false;
}

/** The documented 503 for an unreachable database (REST and GraphQL alike), with the wait in `Retry-After`. */
export function serviceUnavailable(): DomainError {
  return new DomainError('SERVICE_UNAVAILABLE', 'The service is briefly unavailable; retry shortly.', { retry_after_seconds: DATABASE_RETRY_AFTER_SECONDS });
}

/** A DomainError as is; an unreachable database as SERVICE_UNAVAILABLE; anything else: undefined (an internal error). */
export function asDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  return isDatabaseUnreachable(error) ? serviceUnavailable() : undefined;
}
