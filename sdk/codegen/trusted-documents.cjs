// GraphQL Code Generator plugin (codegen.yml) for the SDK's operations: each one's text as sent, its id and, from
// the same text, the trusted-documents manifest the server loads. The text is the executable document in the
// normalized form of GraphQL over HTTP's persisted documents (graphql-tools' printer: one line, sorted selections),
// so a reformatted .graphql file keeps its id; the id is the SHA-256 (hex) of exactly that text.
//   config.output: 'typescript' → typed operation constants and one method per operation (after typescript-operations)
//   config.output: 'manifest'   → Apollo's persisted-query manifest (Apollo Kotlin and Apollo iOS read the same file)
const { createHash } = require('node:crypto');
const { Kind, visit } = require('graphql');
const { printExecutableGraphQLDocument } = require('@graphql-tools/documents');

function trustedOperations(documents) {
  const definitions = documents.flatMap((source) => source.document?.definitions ?? []);
  const fragments = new Map(definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const names = new Set();
  return definitions
    .filter((d) => d.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => {
      const name = operation.name?.value;
      if (!name) throw new Error('Every SDK operation needs a name.');
      if (names.has(name)) throw new Error(`Two SDK operations are named ${name}.`);
      names.add(name);
      const body = printExecutableGraphQLDocument({ kind: Kind.DOCUMENT, definitions: [operation, ...fragmentsUsedBy(operation, fragments)] });
      return { id: createHash('sha256').update(body).digest('hex'), name, type: operation.operation, body, operation };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function fragmentsUsedBy(node, fragments, found = new Map()) {
  visit(node, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      if (found.has(name)) return;
      const fragment = fragments.get(name);
      if (!fragment) throw new Error(`Unknown fragment ${name}.`);
      found.set(name, fragment);
      fragmentsUsedBy(fragment, fragments, found);
    },
  });
  return [...found.values()];
}

const pascal = (name) => name[0].toUpperCase() + name.slice(1);
const camel = (name) => name[0].toLowerCase() + name.slice(1);

function typescript(schema, operations, config) {
  const lines = [`import type { ClaraOperation, RunOperation, SubscribeOperation, SubscriptionHandlers } from '${config.operationModule}';`, ''];
  const errorCodes = schema.getType('ErrorCode').getValues().map((value) => value.name);
  lines.push('/** The error-code catalogue of the server (its ErrorCode enum, from src/core/errors.ts). */');
  lines.push(`export const ERROR_CODES = ${JSON.stringify(errorCodes)} as const;`, '');
  for (const op of operations) {
    const typeName = `${pascal(op.name)}${pascal(op.type)}`;
    const roots = op.operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD);
    // One root field: the client answers its value (a mutation's payload); several: the whole data.
    const root = roots.length === 1 && op.operation.selectionSet.selections.length === 1 ? roots[0] : null;
    const rootKey = root ? (root.alias ?? root.name).value : null;
    op.rootKey = rootKey;
    const result = rootKey ? `${typeName}[${JSON.stringify(rootKey)}]` : typeName;
    const constant = { id: op.id, name: op.name, type: op.type, rootField: rootKey, body: op.body };
    lines.push(`export const ${op.name}Document: ClaraOperation<${result}, ${typeName}Variables> = ${JSON.stringify(constant)};`);
  }
  lines.push('', '/**', ' * One method per operation of sdk/operations/*.graphql: queries and mutations run through `run` (the client), subscriptions', ' * through `subscribe` (they answer the function that ends them).', ' */');
  lines.push('export function operationMethods(run: RunOperation, subscribe: SubscribeOperation) {', '  return {');
  for (const op of operations) {
    const typeName = `${pascal(op.name)}${pascal(op.type)}`;
    const result = op.rootKey ? `${typeName}[${JSON.stringify(op.rootKey)}]` : typeName;
    const optional = (op.operation.variableDefinitions ?? []).every((v) => v.type.kind !== Kind.NON_NULL_TYPE || v.defaultValue);
    if (op.type === 'subscription') {
      lines.push(`    ${camel(op.name)}: (variables: ${typeName}Variables, handlers: SubscriptionHandlers<${result}>) => subscribe(${op.name}Document, variables, handlers),`);
      continue;
    }
    const parameter = optional ? `variables: ${typeName}Variables = {}` : `variables: ${typeName}Variables`;
    lines.push(`    ${camel(op.name)}: (${parameter}) => run(${op.name}Document, variables),`);
  }
  lines.push('  };', '}', '');
  lines.push('export type OperationMethods = ReturnType<typeof operationMethods>;', '');
  return lines.join('\n');
}

function manifest(operations) {
  const operationsOut = operations.map(({ id, name, type, body }) => ({ id, name, type, body }));
  return `${JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: operationsOut }, null, 2)}\n`;
}

module.exports = {
  plugin(schema, documents, config) {
    const operations = trustedOperations(documents);
    if (config.output === 'manifest') return manifest(operations);
    if (config.output === 'typescript') return typescript(schema, operations, { operationModule: config.operationModule ?? '../operation' });
    throw new Error("trusted-documents: set config.output to 'typescript' or 'manifest'.");
  },
  validate(_schema, _documents, config) {
    if (!['typescript', 'manifest'].includes(config.output)) throw new Error("trusted-documents: set config.output to 'typescript' or 'manifest'.");
  },
};
