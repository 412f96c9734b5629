import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Resolver, Root, UseMiddleware } from 'type-graphql';
import { OWN_ACCOUNT } from '../accounts/accounts.types';
import { User } from '../accounts/user.entity';
import { callerUser } from '../auth/caller';
import type { Context } from '../graphql/context';
import { Node } from '../graphql/pagination';
import { ReturnsUserErrors, UserError } from '../graphql/user-errors';

@ObjectType('ApiKey', { description: 'Your API key; send the token as `Authorization: Bearer <token>`.', implements: Node })
export class ApiKeyType {
  @Field(() => ID) id!: string;
  @Field() token!: string;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@InputType()
export class ResetApiKeyInput {
  @Field(() => ID, OWN_ACCOUNT) userId?: string | null;
}

@ObjectType()
export class ResetApiKeyPayload {
  @Field(() => ApiKeyType, { nullable: true, description: 'The new key; the old token no longer works.' }) apiKey?: ApiKeyType;
  @Field(() => [UserError]) userErrors!: UserError[];
}

/** GraphQL adapter over ApiKeysService. */
@Resolver(() => User)
export class ApiKeysResolver {
  @FieldResolver(() => ApiKeyType, { description: 'Your API key (a user token is needed to see it).' })
  apiKey(@Root() user: User, @Ctx() ctx: Context): Promise<ApiKeyType> {
    return ctx.services.apiKeys.view(ctx.em, user.id);
  }

  @Mutation(() => ResetApiKeyPayload, { description: 'Replace your API key; the old token stops working at once.' })
  @UseMiddleware(ReturnsUserErrors)
  async resetApiKey(@Arg('input', () => ResetApiKeyInput, { defaultValue: {} }) _input: ResetApiKeyInput, @Ctx() ctx: Context): Promise<ResetApiKeyPayload> {
    return { apiKey: await ctx.services.apiKeys.resetByOwner(ctx.em, callerUser(ctx.caller)!, ctx.origin), userErrors: [] };
  }
}
