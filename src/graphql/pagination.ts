import { ArgsType, Field, Int, InterfaceType, ObjectType, ID, type ClassType } from 'type-graphql';
import { encodeCursor, type Page, type PageRequest, type Position } from '../core/keyset';

/** GraphQL type names by the kind prefix of a global id (`<kind>_<32 hex>`): how `Node` finds an object's type. */
export const NODE_TYPES: Record<string, string> = { user: 'User', task: 'Task', transaction: 'Transaction', api_key: 'ApiKey', security_event: 'SecurityEvent' };

/** The kind prefix of a global id, or null when it has none of the known ones. */
export function nodeKindOf(id: string): string | null {
  const match = /^([a-z_]+)_[0-9a-f]{32}$/.exec(id);
  return match && match[1] in NODE_TYPES ? match[1] : null;
}

/** The GraphQL type of an object that implements Node, from its id. */
export const nodeTypeName = (value: { id: string }): string | undefined => NODE_TYPES[nodeKindOf(value.id) ?? ''];

@InterfaceType('Node', {
  description: 'An object with a global id: fetch any of them again with `node(id:)` or `nodes(ids:)`.',
  resolveType: nodeTypeName,
})
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

/** Relay page information, shared by every connection. */
@ObjectType({ description: 'Where a page starts and ends, and whether more lie on either side.' })
export class PageInfo {
  @Field({ description: 'More items after endCursor (older ones, in newest-first lists).' }) hasNextPage!: boolean;
  @Field({ description: 'More items before startCursor. When paging forward with `after`, true (the cursor\'s own item lies before).' }) hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass as `before` to get the page before this one.' }) startCursor!: string | null;
  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' }) endCursor!: string | null;
}

/** first/after pages forward (older), last/before backward (newer); 1 to 100 items, 20 by default. */
@ArgsType()
export class ConnectionArgs implements PageRequest {
  @Field(() => Int, { nullable: true, description: 'Page forward: this many items (1 to 100, default 20).' }) first?: number | null;
  @Field(() => String, { nullable: true, description: 'Page forward from this cursor.' }) after?: string | null;
  @Field(() => Int, { nullable: true, description: 'Page backward: this many items (1 to 100).' }) last?: number | null;
  @Field(() => String, { nullable: true, description: 'Page backward from this cursor.' }) before?: string | null;
  @Field(() => Int, { nullable: true, description: 'Skip this many items from the start (the REST paths\' paging; slower on deep pages: prefer after).' })
  offset?: number | null;
}

export interface Edge<T> { cursor: string; node: T }
export interface ConnectionValue<T> { edges: Edge<T>[]; pageInfo: PageInfo; countTotal: () => Promise<number> }

/**
 * The Relay connection type of `Item` (e.g. TransactionConnection with TransactionEdge): edges with cursors,
 * pageInfo, and totalCount, counted only when a client asks for it. Call once per item type.
 */
export function Connection<T extends object>(Item: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field({ description: 'Pass as after or before to page from this item.' }) cursor!: string;
    @Field(() => Item) node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType implements ConnectionValue<T> {
    @Field(() => [EdgeType]) edges!: Edge<T>[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    countTotal!: () => Promise<number>;

    @Field(() => Int, { description: 'How many items the list holds in all (with its filters).' })
    totalCount(): Promise<number> {
      return this.countTotal();
    }
  }
  return ConnectionType;
}

/** A domain page as a connection value; `countTotal` runs only if totalCount is selected. */
export function toConnection<T extends Position>(page: Page<T>, countTotal: () => Promise<number>): ConnectionValue<T> {
  const edges = page.items.map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: page.hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    countTotal,
  };
}
