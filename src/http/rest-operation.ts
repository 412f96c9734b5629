import type { FastifyInstance, FastifyRequest, HTTPMethods } from 'fastify';
import { execute, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Services } from '../app/services';
import { DomainError } from '../core/errors';
import { createContext } from '../graphql/context';
import { sendError, sendSuccess, toRestShape } from './envelope';

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
  message: string;
  /** JSON Schema of the body: the documented field names and types; unknown fields are refused. */
  body?: JsonSchema;
  querystring?: JsonSchema;
  /** For bodies that are not JSON (multipart): reads the request into what `variables` receives as `body`. */
  readBody?: (request: FastifyRequest<any>) => Promise<unknown>;
  variables?: (request: FastifyRequest<any>, body?: any) => Record<string, unknown>;
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

export function registerRestOperations(app: FastifyInstance, schema: GraphQLSchema, services: Services, operations: RestOperation[]): void {
  for (const operation of operations) {
    const document = parse(operation.graphql);
    const problems = validate(schema, document);
    if (problems.length) throw new Error(`REST ${operation.method} ${operation.url}: ${problems.map((p) => p.message).join('; ')}`);
    const rootField = rootFieldOf(document);
    const present = operation.present ?? toRestShape;

    app.route({
      method: operation.method,
      url: operation.url,
      schema: { ...(operation.body ? { body: operation.body } : {}), ...(operation.querystring ? { querystring: operation.querystring } : {}) },
      handler: async (request, reply) => {
        const contextValue = await createContext(services, request.headers.authorization, request.ip);
        const body = operation.readBody ? await operation.readBody(request) : undefined;
        const result = await execute({ schema, document, contextValue, variableValues: operation.variables?.(request, body) ?? {} });
        if (result.errors?.length) return sendError(reply, asDomainError(result.errors[0], services));
        return sendSuccess(reply, operation.status, operation.message, present((result.data as Record<string, unknown>)[rootField]));
      },
    });
  }
}

function rootFieldOf(document: DocumentNode): string {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  const field = operation?.selectionSet.selections[0];
  if (!field || field.kind !== 'Field') throw new Error('A REST operation needs one root field');
  return field.alias?.value ?? field.name.value;
}

/** Errors without an original error are GraphQL's own input coercion errors: the client's fault. */
function asDomainError(error: GraphQLError, services: Services): DomainError {
  if (error.originalError instanceof DomainError) return error.originalError;
  if (!error.originalError) return new DomainError('BAD_REQUEST', error.message.replace(/^Variable "\$\w+" got invalid value /, 'Invalid value '));
  services.log.error({ err: error.originalError }, 'unexpected error in a REST operation');
  return new DomainError('INTERNAL', 'Internal server error.');
}
