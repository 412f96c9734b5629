/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** The stable error codes of Clara, shared by GraphQL, REST and MCP (README: "Error codes"). */
export type ErrorCode =
  | 'ALREADY_EXISTS'
  | 'BAD_REQUEST'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'IDEMPOTENCY_KEY_IN_USE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'INSUFFICIENT_CREDITS'
  | 'INTERNAL'
  | 'INTROSPECTION_DISABLED'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'QUERY_TOO_COMPLEX'
  | 'QUERY_TOO_DEEP'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'TOO_MANY_ALIASES'
  | 'TOO_MANY_DIRECTIVES'
  | 'TOO_MANY_ROOT_FIELDS'
  | 'TOO_MANY_TOKENS'
  | 'TRUSTED_DOCUMENT_REQUIRED'
  | 'TWO_FACTOR_REQUIRED'
  | 'UNAUTHENTICATED'
  | 'UNAVAILABLE';

export type LoginInput = {
  /** The second-factor code, when 2FA is on. */
  code?: string | null | undefined;
  email: string;
  password: string;
};

/** How the second factor is proven: an emailed code or an authenticator app. */
export type TwoFactorMethod =
  | 'EMAIL'
  | 'TOTP';

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { id: string, email: string, firstName: string, lastName: string | null, credits: number, isActive: boolean, is2faEnabled: boolean, twoFactorMethod: TwoFactorMethod | null, isDarkMode: boolean, createdAt: string, updatedAt: string } };

export type LoginMutationVariables = Exact<{
  input: LoginInput;
}>;


export type LoginMutation = { login: { token: string | null, user: { id: string, email: string } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };
