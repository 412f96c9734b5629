/**
 * Errors the domain raises on purpose. Adapters translate `code` to an HTTP status (REST) or an
 * `extensions.code` (GraphQL); anything else that is thrown is an internal error and is never shown.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  /** The documented status for "already exists" (e.g. a taken email) is 400. */
  ALREADY_EXISTS: 400,
  /** GraphQL operation limits (src/graphql/limits.ts), checked before anything runs. */
  TOO_MANY_TOKENS: 400,
  TOO_MANY_ALIASES: 400,
  QUERY_TOO_DEEP: 400,
  TOO_MANY_DIRECTIVES: 400,
  TOO_MANY_ROOT_FIELDS: 400,
  QUERY_TOO_COMPLEX: 400,
  INTROSPECTION_DISABLED: 400,
  /** GRAPHQL_TRUSTED_DOCUMENTS=only: a document (or an id) that is not in the trusted-documents manifest. */
  TRUSTED_DOCUMENT_REQUIRED: 400,
  UNAUTHENTICATED: 401,
  /** A login needs the second-factor code (REST: `data: {is_2fa_enabled: true}`). */
  TWO_FACTOR_REQUIRED: 401,
  FORBIDDEN: 403,
  INSUFFICIENT_CREDITS: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  /** Another request with this idempotency key is still running. */
  IDEMPOTENCY_KEY_IN_USE: 409,
  PAYLOAD_TOO_LARGE: 413,
  /** This idempotency key was used for a different request (another operation or input). */
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  /** The database cannot be reached right now (restarting, failing over, pool exhausted): retry after `retry_after_seconds`. */
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra data a client needs to react (e.g. `{is_2fa_enabled: true}`). */
    readonly data: Record<string, unknown> | null = null,
    /** The input field at fault, as a path (e.g. `['input', 'amount']`), when one is. */
    readonly field: string[] | null = null,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** `field`: the input at fault, as a path (a form shows the message beside it). */
export const badRequest = (message: string, field: string[] | null = null) => new DomainError('BAD_REQUEST', message, null, field);
export const unauthenticated = (message: string, data: Record<string, unknown> | null = null) =>
  new DomainError('UNAUTHENTICATED', message, data);
export const forbidden = (message: string) => new DomainError('FORBIDDEN', message);
export const notFound = (message: string, field: string[] | null = null) => new DomainError('NOT_FOUND', message, null, field);
