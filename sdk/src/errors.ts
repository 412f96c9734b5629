import { ERROR_CODES } from './generated/operations';

/** The server's error-code catalogue (src/core/errors.ts, the schema's ErrorCode enum). */
export type ServerErrorCode = (typeof ERROR_CODES)[number];

/** Codes Apollo Server itself answers before an operation runs. */
const GRAPHQL_SERVER_CODES = ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE'] as const;
export type GraphQLServerCode = (typeof GRAPHQL_SERVER_CODES)[number];

/** Everything a ClaraError's code can be: NETWORK_ERROR when no readable answer came back at all. */
export type ClaraErrorCode = ServerErrorCode | GraphQLServerCode | 'NETWORK_ERROR';

export interface ClaraUserError {
  readonly code: ServerErrorCode;
  readonly field: readonly string[] | null;
  readonly message: string;
}

/**
 * Every refusal the client meets, typed: a mutation's userErrors (`userErrors` holds them all; `code` is the
 * first's), a GraphQL error's `extensions.code`, a REST answer's status, or a network failure.
 */
export class ClaraError extends Error {
  override readonly name = 'ClaraError';

  constructor(
    readonly code: ClaraErrorCode,
    message: string,
    readonly details: {
      /** The HTTP status, when an answer came back. */
      status?: number;
      /** The operation or REST path that failed. */
      operation?: string;
      /** The input field at fault, e.g. ['input', 'password']. */
      field?: readonly string[] | null;
      userErrors?: readonly ClaraUserError[];
      /** Extra data the server sent along (e.g. `{ retry_after_seconds }`). */
      data?: unknown;
    } = {},
  ) {
    super(message);
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

const CODES: ReadonlySet<string> = new Set([...ERROR_CODES, ...GRAPHQL_SERVER_CODES]);

/** A code the server sent, kept when it is known to the SDK, else INTERNAL (a newer server's new code). */
export function knownCode(code: unknown): ClaraErrorCode {
  return typeof code === 'string' && CODES.has(code) ? (code as ClaraErrorCode) : 'INTERNAL';
}

/** The REST paths answer a status and `{data, message, status: "error"}`; their codes by status (README "Error codes"). */
export function codeOfStatus(status: number): ServerErrorCode {
  const byStatus: Record<number, ServerErrorCode> = { 400: 'BAD_REQUEST', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 429: 'RATE_LIMITED', 503: 'UNAVAILABLE' };
  return byStatus[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}
