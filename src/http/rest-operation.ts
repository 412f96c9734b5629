import type { FastifyInstance, FastifyRequest, HTTPMethods } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Services } from '../app/services';
import { spendBudget } from '../graphql/budget';
import { createContext } from '../graphql/context';
import { prepareOperation } from '../graphql/prepared-operation';
import { withIdempotencyKey } from '../idempotency/key-variable';
import { sendSuccess, toRestShape } from './envelope';
import { rateLimitHeaders } from './rate-limit-headers';

type JsonSchema = Record<string, unknown>;

/**
 * One documented REST path, served by running a GraphQL operation against the same (permission-wrapped)
 * schema: the REST shim has no logic or rules of its own, only the mapping of HTTP to GraphQL and back.
 */
export interface RestOperation {
  method: HTTPMethods;
  /** Fastify path under /api/v1, e.g. `/users/:user_id`. */
  url: string;
  graphql: string;
  status: number;
  /** The envelope's message; a function when it depends on the result. */
  message: string | ((result: any) => string);
  /** JSON Schema of the body: the documented field names and types; unknown fields are refused. */
  body?: JsonSchema;
  querystring?: JsonSchema;
  /** For bodies that are not JSON (multipart): reads the request into what `variables` receives as `body`. */
  readBody?: (request: FastifyRequest<any>) => Promise<unknown>;
  variables?: (request: FastifyRequest<any>, body?: any) => Record<string, unknown>;
  /** Takes the `Idempotency-Key` header into the mutation's `input.idempotencyKey` (a retry then runs once). */
  acceptsIdempotencyKey?: boolean;
  /** From the operation's single root field to the documented `data`; default: REST field names. */
  present?: (result: any) => unknown;
}

export const object = (properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties)): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
export const str = (extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...extra });
/** A whole number in a query string (limit, offset), and its value: null when absent. */
export const wholeNumber = str({ pattern: '^[0-9]{1,9}$' });
export const optionalNumber = (value: string | undefined): number | null => (value === undefined ? null : Number(value));
/** `present` for a mutation payload or a parent object: the REST shape of one of its fields. */
export const fieldOf = (name: string) => (result: Record<string, unknown>) => toRestShape(result[name]);

export function registerRestOperations(app: FastifyInstance, schema: GraphQLSchema, services: Services, operations: RestOperation[]): void {
  for (const operation of operations) {
    const prepared = prepareOperation(schema, operation.graphql, `REST ${operation.method} ${operation.url}`);
    const present = operation.present ?? toRestShape;

    app.route({
      method: operation.method,
      url: operation.url,
      schema: { ...(operation.body ? { body: operation.body } : {}), ...(operation.querystring ? { querystring: operation.querystring } : {}) },
      // A thrown DomainError (context, variables, the operation) reaches the app's error handler: the envelope.
      handler: async (request, reply) => {
        const context = await createContext(services, request.headers.authorization, request.ip, request.headers['user-agent']);
        const body = operation.readBody ? await operation.readBody(request) : undefined;
        const idempotencyKey = operation.acceptsIdempotencyKey ? request.headers['idempotency-key'] : undefined;
        const variables = withIdempotencyKey(operation.variables?.(request, body) ?? {}, idempotencyKey);
        // The same cost as the document would have on /graphql: REST is no way around the budget.
        const budget = await spendBudget(context, prepared.cost(variables));
        if (budget) reply.headers(Object.fromEntries(rateLimitHeaders(budget)));
        let result: unknown;
        try {
          result = await prepared.run(context, variables);
        } finally {
          // As Stripe does: the answer (success or a kept user error) is the one first given under this key.
          if (context.idempotency.replayed) reply.header('idempotent-replayed', 'true');
        }
        const message = typeof operation.message === 'string' ? operation.message : operation.message(result);
        return sendSuccess(reply, operation.status, message, present(result));
      },
    });
  }
}
