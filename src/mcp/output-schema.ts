import {
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  parse,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { z } from 'zod';

/**
 * The zod schema of what a GraphQL document's root field returns (or, with several root fields, of the whole
 * `data`), as `execute` returns it: derived from the schema and the document's own selection, so an MCP tool's
 * declared output can never drift from what it runs (see PreparedOperation.run).
 */
export function rootFieldSchema(schema: GraphQLSchema, source: string): z.ZodType {
  const typeInfo = new TypeInfo(schema);
  const roots: Record<string, z.ZodType> = {};
  visit(
    parse(source),
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        roots[node.alias?.value ?? node.name.value] = outputSchema(typeInfo.getType()!, node.selectionSet);
        return false;
      },
    }),
  );
  const keys = Object.keys(roots);
  if (!keys.length) throw new Error('The document has no root field.');
  return keys.length === 1 ? roots[keys[0]] : z.object(roots);
}

function outputSchema(type: GraphQLOutputType, selection: SelectionSetNode | undefined): z.ZodType {
  return isNonNullType(type) ? describe(type.ofType, selection) : describe(type, selection).nullable();
}

function describe(type: GraphQLOutputType, selection: SelectionSetNode | undefined): z.ZodType {
  if (isListType(type)) return z.array(outputSchema(type.ofType as GraphQLOutputType, selection));
  const named = getNamedType(type);
  if (isEnumType(named)) return z.enum(named.getValues().map((value) => value.name) as [string, ...string[]]);
  if (isScalarType(named)) return scalarSchema(named.name);
  if (!isObjectType(named) || !selection) throw new Error(`Cannot describe the output type ${named.name}.`);
  const fields = named.getFields();
  const shape: Record<string, z.ZodType> = {};
  for (const node of selection.selections) {
    if (node.kind !== 'Field') throw new Error('Fragments are not supported in tool documents.');
    const key = node.alias?.value ?? node.name.value;
    shape[key] = node.name.value === '__typename' ? z.string() : outputSchema(fields[node.name.value].type, node.selectionSet);
  }
  return z.object(shape);
}

function scalarSchema(name: string): z.ZodType {
  switch (name) {
    case 'Int':
      return z.number().int();
    case 'Float':
      return z.number();
    case 'Boolean':
      return z.boolean();
    case 'ID':
    case 'String':
    case 'DateTimeISO':
      return z.string();
    default:
      return z.unknown();
  }
}

/**
 * The schema at `path` inside a derived schema, looking through lists and nulls (a null at the end too): for
 * tools whose `present` reshapes the root field, e.g. `at(root, 'edges', 'node')` for the nodes of a connection.
 */
export function at(schema: z.ZodType, ...path: string[]): z.ZodType {
  let current = schema;
  for (const key of path) {
    while (current instanceof z.ZodNullable || current instanceof z.ZodArray) current = current instanceof z.ZodNullable ? (current.unwrap() as z.ZodType) : (current.element as z.ZodType);
    if (!(current instanceof z.ZodObject) || !(key in current.shape)) throw new Error(`No field ${key} in the derived schema.`);
    current = current.shape[key] as z.ZodType;
  }
  return current instanceof z.ZodNullable ? (current.unwrap() as z.ZodType) : current;
}
