import { Field, ObjectType } from 'type-graphql';

/** Relay-style page information, shared by every cursor-paginated connection. */
@ObjectType({ description: 'Where a page ends and whether another follows.' })
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' }) endCursor!: string | null;
}
