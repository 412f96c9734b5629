import { Field, ObjectType } from 'type-graphql';
import { encodeKeysetCursor } from '../core/paging';

/** Relay-style page information, shared by every cursor-paginated connection. */
@ObjectType({ description: 'Where a page ends and whether another follows.' })
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' }) endCursor!: string | null;
}

/** A newest-first page of rows as a Relay connection, each edge with its keyset cursor. */
export function toConnection<Node extends { createdAt: Date; id: string }>(nodes: Node[], hasNextPage: boolean): { edges: { cursor: string; node: Node }[]; pageInfo: PageInfo } {
  const edges = nodes.map((node) => ({ cursor: encodeKeysetCursor(node), node }));
  return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}
