/**
 * REST (the Idempotency-Key header) and MCP (the `idempotencyKey` argument) hand the caller's key to the mutation's
 * `input`, where the GraphQL layer (idempotency.middleware.ts) handles it: one mechanism for every interface.
 */
export function withIdempotencyKey(variables: Record<string, unknown>, key: unknown): Record<string, unknown> {
  if (typeof key !== 'string') return variables;
  return { ...variables, input: { ...(variables.input as Record<string, unknown>), idempotencyKey: key } };
}
