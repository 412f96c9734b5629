import { Arg, Args, Ctx, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { User } from '../accounts/user.entity';
import type { Context } from '../graphql/context';
import { toConnection } from '../graphql/pagination';
import { ReturnsUserErrors } from '../graphql/user-errors';
import { CorrectTransactionInput, CorrectTransactionPayload, UserActionInput, UserActionPayload, UserConnection, UserSearchArgs } from './admin.types';

const ADMIN = 'Admin key only';

/** GraphQL adapter over AdminService (and CreditsService.correct); the admin-key rules are in graphql/permissions.ts. */
@Resolver()
export class AdminResolver {
  @Query(() => UserConnection, { description: `${ADMIN}: users by email or name fragment and status, newest first.` })
  async adminUsers(@Args() args: UserSearchArgs, @Ctx() ctx: Context) {
    const { email, name, status, ...page } = args;
    const filter = { email, name, status };
    const found = await ctx.services.admin.search(ctx.readOnlyEm, filter, page);
    return toConnection(found, () => ctx.services.admin.count(ctx.readOnlyEm, filter));
  }

  @Query(() => User, { description: `${ADMIN}: one user, with the balance and (through its connections) transactions, tasks and security log.` })
  adminUser(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<User> {
    return ctx.services.admin.user(ctx.em, id);
  }

  @Mutation(() => UserActionPayload, { description: `${ADMIN}: end every session at once and refuse login and the API key until reactivated.` })
  @UseMiddleware(ReturnsUserErrors)
  async deactivateUser(@Arg('input') input: UserActionInput, @Ctx() ctx: Context): Promise<UserActionPayload> {
    return { user: await ctx.services.admin.deactivate(ctx.em, input.userId, input.reason), userErrors: [] };
  }

  @Mutation(() => UserActionPayload, { description: `${ADMIN}: allow a deactivated account to sign in again.` })
  @UseMiddleware(ReturnsUserErrors)
  async reactivateUser(@Arg('input') input: UserActionInput, @Ctx() ctx: Context): Promise<UserActionPayload> {
    return { user: await ctx.services.admin.reactivate(ctx.em, input.userId, input.reason), userErrors: [] };
  }

  @Mutation(() => UserActionPayload, { description: `${ADMIN}: erase the personal data; the ledger is kept, anonymised, and the email can register again.` })
  @UseMiddleware(ReturnsUserErrors)
  async eraseUser(@Arg('input') input: UserActionInput, @Ctx() ctx: Context): Promise<UserActionPayload> {
    return { user: await ctx.services.admin.erase(ctx.em, input.userId, input.reason), userErrors: [] };
  }

  @Mutation(() => CorrectTransactionPayload, { description: `${ADMIN}: correct a ledger row by a compensating row (rows are never edited or deleted).` })
  @UseMiddleware(ReturnsUserErrors)
  async correctTransaction(@Arg('input') input: CorrectTransactionInput, @Ctx() ctx: Context): Promise<CorrectTransactionPayload> {
    return { transaction: await ctx.services.credits.correct(ctx.em, input.transactionId, input.reason, input.credits), userErrors: [] };
  }
}
