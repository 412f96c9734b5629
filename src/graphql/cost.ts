import {
  getNamedType,
  isLeafType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/*
 * What an operation costs, in points, before it runs (the rate limit charges these, like GitHub's GraphQL
 * points): a scalar or enum field costs nothing, a field that returns an object 1, a root field 1 more or,
 * when it reads or writes the database, DATABASE_ROOT_COST, and so does a connection below the root. A page (`first: N` or `limit: N`) costs N
 * times its children, so the cost follows the size of the answer. Every operation costs at least 1.
 */
const OBJECT_COST = 1;
const ROOT_COST = 1;
const DATABASE_ROOT_COST = 10;
/** Root fields answered from memory (the caller is loaded with the request); any other root field counts as a database one. */
const IN_MEMORY_ROOT_FIELDS = new Set(['viewer', 'version', 'stripeRate', 'supportedAttachments', 'rateLimit', '__typename', '__schema', '__type']);
const PAGE_ARGUMENTS = ['first', 'last', 'limit'];
/** The page size when a paged field is called without one (src/core/paging.ts). */
const DEFAULT_PAGE_SIZE = 20;

export interface OperationAnalysis {
  cost: number;
  /** Names (not aliases) of the root fields, fragments included. */
  rootFields: ReadonlySet<string>;
}

interface CachedAnalysis {
  rootFields: ReadonlySet<string>;
  /** The variables page sizes come from; the cost is cached per combination of their values. */
  pageVariables: string[];
  costs: Map<string, number>;
}

/**
 * One analysis per parsed document: Apollo keeps validated documents in its own bounded cache (keyed by the
 * query text's hash) and hands the same DocumentNode back for the same text, and the REST and MCP
 * documents are parsed once at startup, so a WeakMap on the document is a per-query-text cache that
 * never outgrows Apollo's. Only documents whose page sizes are variables are walked again, once per
 * distinct set of sizes (up to MAX_COSTS_PER_OPERATION).
 */
const analyses = new WeakMap<DocumentNode, Map<string, CachedAnalysis>>();
const MAX_COSTS_PER_OPERATION = 64;

/** The cost and root fields of a validated document's operation (`operationName` as in the request). */
export function analyzeOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> = {}): OperationAnalysis {
  let perOperation = analyses.get(document);
  if (!perOperation) analyses.set(document, (perOperation = new Map()));
  const cached = perOperation.get(operationName ?? '');
  const valuesKey = (names: string[]) => (names.length ? JSON.stringify(names.map((name) => variables[name] ?? null)) : '');
  if (cached) {
    const key = valuesKey(cached.pageVariables);
    let cost = cached.costs.get(key);
    if (cost === undefined) {
      cost = walk(schema, document, operationName, variables).cost;
      if (cached.costs.size >= MAX_COSTS_PER_OPERATION) cached.costs.clear();
      cached.costs.set(key, cost);
    }
    return { cost, rootFields: cached.rootFields };
  }
  const result = walk(schema, document, operationName, variables);
  perOperation.set(operationName ?? '', { rootFields: result.rootFields, pageVariables: result.pageVariables, costs: new Map([[valuesKey(result.pageVariables), result.cost]]) });
  return { cost: result.cost, rootFields: result.rootFields };
}

function walk(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown>) {
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const pageVariables = new Set<string>();
  const rootFields = new Set<string>();
  // A fragment costs the same wherever it is spread: each is counted once, so a document that spreads
  // fragments into fragments (exponentially many fields) is priced by what it expands to without expanding it.
  const fragmentCosts = new Map<string, number>();

  const pageSize = (node: FieldNode, field: GraphQLField<unknown, unknown>): number => {
    for (const name of PAGE_ARGUMENTS) {
      const definition = field.args.find((arg) => arg.name === name);
      if (!definition) continue;
      const argument = node.arguments?.find((arg) => arg.name.value === name);
      let value: unknown = definition.defaultValue ?? DEFAULT_PAGE_SIZE;
      if (argument?.value.kind === Kind.INT) value = Number(argument.value.value);
      else if (argument?.value.kind === Kind.VARIABLE) {
        pageVariables.add(argument.value.name.value);
        value = variables[argument.value.name.value] ?? DEFAULT_PAGE_SIZE;
      }
      // Anything else fails input coercion before a resolver runs.
      return typeof value === 'number' && Number.isFinite(value) ? Math.max(1, Math.floor(value)) : 1;
    }
    return idCount(node) ?? 1;
  };

  /** nodes(ids: [...]) reads one object per id: each costs an object, and its children, like a page item. */
  const idCount = (node: FieldNode): number | null => {
    const ids = node.arguments?.find((arg) => arg.name.value === 'ids');
    if (ids?.value.kind === Kind.LIST) return ids.value.values.length;
    if (ids?.value.kind !== Kind.VARIABLE) return null;
    pageVariables.add(ids.value.name.value);
    const list = variables[ids.value.name.value];
    return Array.isArray(list) ? list.length : 0;
  };

  const selectionCost = (parent: GraphQLCompositeType, selectionSet: SelectionSetNode, isRoot: boolean): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (isRoot) rootFields.add(name);
        if (name === '__typename') continue;
        const field = fieldOf(schema, parent, name);
        if (!field) continue;
        const type = getNamedType(field.type);
        let cost = isLeafType(type) ? 0 : OBJECT_COST;
        if (isRoot) cost += IN_MEMORY_ROOT_FIELDS.has(name) ? ROOT_COST : DATABASE_ROOT_COST;
        // A list read from the database below the root (viewer.transactions, user.tasks) costs what a root read does.
        else if (type.name.endsWith('Connection')) cost += DATABASE_ROOT_COST;
        cost += (idCount(selection) ?? 0) * OBJECT_COST;
        if (selection.selectionSet && !isLeafType(type)) cost += pageSize(selection, field) * selectionCost(type as GraphQLCompositeType, selection.selectionSet, false);
        total += cost;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parent;
        if (type) total += selectionCost(type, selection.selectionSet, isRoot);
      } else {
        const name = selection.name.value;
        let cost = fragmentCosts.get(name);
        if (cost === undefined) {
          const fragment = fragments.get(name);
          const type = fragment && (schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined);
          fragmentCosts.set(name, 0); // validation refuses cycles; this only guards the walk
          cost = fragment && type ? selectionCost(type, fragment.selectionSet, isRoot) : 0;
          fragmentCosts.set(name, cost);
        }
        total += cost;
      }
    }
    return total;
  };

  const rootType = operation && schema.getRootType(operation.operation);
  const cost = operation && rootType ? selectionCost(rootType, operation.selectionSet, true) : 0;
  return { cost: Math.max(1, cost), rootFields, pageVariables: [...pageVariables] };
}

function fieldOf(schema: GraphQLSchema, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return 'getFields' in parent ? parent.getFields()[name] : undefined;
}
