import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema, type SourceLocation } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { inSpan } from '../observability/spans';

/**
 * Executes GraphQL documents with graphql-jit: a document is compiled into a plain function once and run
 * many times. The schema's resolvers are the permission-wrapped ones (graphql-shield through
 * graphql-middleware), so every rule still runs on the compiled path exactly as it does on graphql-js.
 */
export class CompiledExecution {
  /** Keyed by the parsed document: Apollo's document cache hands back the same object for the same query text. */
  private readonly plans = new WeakMap<DocumentNode, Map<string, CompiledQuery | 'pending'>>();

  constructor(private readonly schema: GraphQLSchema) {}

  /**
   * A document seen for the first time runs on graphql-js; the second time it is compiled. One-off
   * queries (an attacker's stream of unique documents) then never pay for a compilation.
   */
  run(document: DocumentNode, operationName: string | null | undefined, contextValue: unknown, variableValues: Record<string, unknown> | undefined): ExecutionResult | Promise<ExecutionResult> {
    const plan = this.planFor(document, operationName ?? '');
    if (!plan) return execute({ schema: this.schema, document, contextValue, variableValues, operationName });
    return this.runPlan(plan, document, operationName, contextValue, variableValues);
  }

  /** Compiles now (startup), for the fixed documents of REST and MCP. */
  compile(document: DocumentNode): (contextValue: unknown, variableValues: Record<string, unknown>) => ExecutionResult | Promise<ExecutionResult> {
    const plan = compileQuery(this.schema, document);
    if (!isCompiledQuery(plan)) throw new Error(plan.errors?.map((e) => e.message).join('; ') ?? 'the document does not compile');
    return (contextValue, variableValues) => this.runPlan(plan, document, undefined, contextValue, variableValues);
  }

  private runPlan(plan: CompiledQuery, document: DocumentNode, operationName: string | null | undefined, contextValue: unknown, variableValues: Record<string, unknown> | undefined): ExecutionResult | Promise<ExecutionResult> {
    const result = plan.query(undefined, contextValue, variableValues ?? {});
    if (isPromise(result)) return result.then(withGraphQLErrors);
    // No data at all: the variables did not coerce and nothing ran. graphql-js words (and Apollo classifies,
    // as a 400) those errors the documented way, so the refusal is left to it.
    if (result.errors?.length && result.data === undefined) return execute({ schema: this.schema, document, contextValue, variableValues, operationName });
    return withGraphQLErrors(result);
  }

  private planFor(document: DocumentNode, operationName: string): CompiledQuery | null {
    let byName = this.plans.get(document);
    if (!byName) this.plans.set(document, (byName = new Map()));
    const known = byName.get(operationName);
    if (known === undefined) {
      byName.set(operationName, 'pending');
      return null;
    }
    if (known !== 'pending') return known;
    const compiled = compileQuery(this.schema, document, operationName || undefined);
    // A document graphql-jit cannot compile keeps running on graphql-js.
    if (!isCompiledQuery(compiled)) return null;
    byName.set(operationName, compiled);
    return compiled;
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

/**
 * graphql-jit's errors pass for graphql's GraphQLError (same prototype) but leave `extensions` undefined,
 * which Apollo's error handling reads: rebuilt with the same message, path, locations and original error.
 */
export function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  const errors = result.errors.map((error) => {
    if (error.extensions) return error;
    const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions });
    (rebuilt as { locations?: readonly SourceLocation[] }).locations = error.locations;
    return rebuilt;
  });
  return { ...result, errors };
}

/**
 * Apollo Server's hook for a custom executor is the gateway interface: a fixed schema, loaded once,
 * with our executor. Parsing, validation, the document cache and error formatting stay Apollo's.
 */
export function compiledGateway(schema: GraphQLSchema): GatewayInterface {
  const execution = new CompiledExecution(schema);
  // Traced as one span: the compiled resolvers are out of reach of the graphql instrumentation.
  const executor: GatewayExecutor = async (request) =>
    inSpan('graphql.execute', { 'graphql.operation.name': request.operationName ?? '' }, () => execution.run(request.document, request.operationName, request.context, request.request.variables));
  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async stop() {},
  };
}
