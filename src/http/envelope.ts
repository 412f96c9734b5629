import type { FastifyReply } from 'fastify';
import { BudgetExceeded } from '../auth/rate-limits';
import { DomainError } from '../core/errors';
import { rateLimitHeaders } from './rate-limit-headers';

/** The documented response body: `{data, message, status}`; errors also name the request (`request_id`, as in X-Request-Id). */
export interface Envelope { data: unknown; message: string; status: 'success' | 'error'; request_id?: string }

export function sendSuccess(reply: FastifyReply, statusCode: number, message: string, data: unknown): FastifyReply {
  if (statusCode === 204) return reply.code(204).send();
  return reply.code(statusCode).send({ data, message, status: 'success' } satisfies Envelope);
}

export function sendError(reply: FastifyReply, error: DomainError): FastifyReply {
  // RATE_LIMITED and SERVICE_UNAVAILABLE say when to come back.
  if (error.data?.retry_after_seconds) reply.header('retry-after', String(error.data.retry_after_seconds));
  if (error instanceof BudgetExceeded) reply.headers(Object.fromEntries(rateLimitHeaders(error.budget)));
  return reply.code(error.status).send({ data: error.data, message: error.message, status: 'error', request_id: reply.request.id } satisfies Envelope);
}

/** REST field names and date format from GraphQL's: `is2faEnabled` → `is_2fa_enabled`, ISO → RFC 1123 GMT. */
export function toRestShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toRestShape);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    out[restKeyOf(key)] = key.endsWith('At') && typeof field === 'string' ? new Date(field).toUTCString() : toRestShape(field);
  }
  return out;
}

/** Field names repeat on every row of every page: convert each once. */
const restKeys = new Map<string, string>();
function restKeyOf(key: string): string {
  let restKey = restKeys.get(key);
  if (restKey === undefined) {
    restKey = key.replace(/([a-z])(\d)/g, '$1_$2').replace(/([A-Z])/g, '_$1').toLowerCase();
    // Keys come from our own GraphQL documents, plus analysis results; bound the cache all the same.
    if (restKeys.size < 10_000) restKeys.set(key, restKey);
  }
  return restKey;
}
