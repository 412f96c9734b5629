import { parse, validate, type DocumentNode, type FieldNode, type GraphQLError, type GraphQLSchema, type OperationDefinitionNode, type OperationTypeNode } from 'graphql';
import { DomainError } from '../core/errors';
import { asDomainError } from '../database/connection-errors';
import { CompiledExecution } from './compiled-execution';
import type { Context } from './context';
import { analyzeOperation } from './cost';
import { inSpan } from '../observability/spans';

/**
 * A GraphQL document the adapters (REST, MCP) run on a caller's behalf: parsed and validated once at
 * startup (and compiled), so a typo fails the boot instead of a request, and executed against the same
 * permission-wrapped schema as /graphql. One path for every adapter: same rules, same errors.
 */
export interface PreparedOperation {
  /** A query reads only; MCP tells clients so (they may run read-only tools without asking). */
  readonly readOnly: boolean;
  /** Its cost with these variables (src/graphql/cost.ts): what the adapter spends from the caller's budget. */
  cost(variables: Record<string, unknown>): number;
  /**
   * The value of the operation's root field (or, with several root fields, e.g. an ownership check beside a
   * shared list, the whole `data`); any failure is thrown as a DomainError.
   */
  run(context: Context, variables: Record<string, unknown>): Promise<unknown>;
}

/** `label` names the operation in startup errors, e.g. `REST GET /users/:user_id`. */
export function prepareOperation(schema: GraphQLSchema, source: string, label: string): PreparedOperation {
  const document = parse(source);
  const problems = validate(schema, document);
  if (problems.length) throw new Error(`${label}: ${problems.map((p) => p.message).join('; ')}`);
  const { operation, rootField } = rootFieldsOf(document, label);
  // Fixed documents are compiled at startup (graphql-jit), through the same permission-wrapped resolvers.
  const runCompiled = new CompiledExecution(schema).compile(document);

  return {
    readOnly: operation === 'query',
    cost: (variables) => analyzeOperation(schema, document, undefined, variables).cost,
    async run(contextValue, variableValues) {
      // Derived, not copied: a copy would read (and so fork) the context's lazy EntityManager.
      const context: Context = Object.assign(Object.create(contextValue) as Context, { throwUserErrors: true });
      const result = await inSpan('graphql.execute', { 'graphql.operation.name': label }, () => runCompiled(context, withoutUndefined(variableValues) as Record<string, unknown>));
      if (result.errors?.length) throw adapterError(result.errors[0], contextValue);
      const data = result.data as Record<string, unknown>;
      return rootField ? data[rootField] : data;
    },
  };
}

/**
 * The adapters build variables in code, where a field left out is often `undefined`. GraphQL (and JSON) know
 * only absent or null; graphql-js drops such fields, graphql-jit reads them as null. Dropped here, so an
 * omitted REST field stays "not given" rather than "set to null".
 */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) kept[key] = withoutUndefined(field);
  return kept;
}

function rootFieldsOf(document: DocumentNode, label: string): { operation: OperationTypeNode; rootField: string | null } {
  const definition = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  const fields = definition?.selectionSet.selections ?? [];
  if (!definition || !fields.length || fields.some((field) => field.kind !== 'Field')) throw new Error(`${label}: the operation needs root fields, without fragments`);
  const [field] = fields as FieldNode[];
  return { operation: definition.operation, rootField: fields.length === 1 ? (field.alias?.value ?? field.name.value) : null };
}

/** Errors without an original error are GraphQL's own input coercion errors: the client's fault. */
function adapterError(error: GraphQLError, context: Context): DomainError {
  if (!error.originalError) return new DomainError('BAD_REQUEST', error.message.replace(/^Variable "\$\w+" got invalid value /, 'Invalid value '));
  const known = asDomainError(error.originalError);
  if (known) return known;
  context.services.log.error({ err: error.originalError }, 'unexpected error in an adapter operation');
  return new DomainError('INTERNAL', 'Internal server error.');
}
