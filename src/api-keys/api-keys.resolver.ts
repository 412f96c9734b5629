import { Arg, Ctx, Field, ID, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { callerUser } from '../auth/caller';
import type { Context } from '../graphql/context';

@ObjectType('ApiKey', { description: 'Your API key; send the token as `Authorization: Bearer <token>`.' })
export class ApiKeyType {
  @Field(() => ID) id!: string;
  @Field() token!: string;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

/** GraphQL adapter over ApiKeysService. */
@Resolver()
export class ApiKeysResolver {
  @Query(() => ApiKeyType)
  apiKey(@Arg('userId', () => ID) userId: string, @Ctx() ctx: Context): Promise<ApiKeyType> {
    return ctx.services.apiKeys.view(ctx.em, userId);
  }

  @Mutation(() => ApiKeyType, { description: 'Replace your API key; the old token stops working at once.' })
  resetApiKey(@Arg('userId', () => ID) _userId: string, @Ctx() ctx: Context): Promise<ApiKeyType> {
    return ctx.services.apiKeys.resetByOwner(ctx.em, callerUser(ctx.caller)!, ctx.origin);
  }
}
