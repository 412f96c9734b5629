import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { User } from '../accounts/user.entity';
import type { Context } from '../graphql/context';
import { ConnectionArgs, toConnection } from '../graphql/pagination';
import { SecurityEventConnection } from './security-log.types';

const DESCRIPTION = 'Sign-ins, failed sign-ins, password, 2FA, API key, session and Google changes, newest first.';

function logPage(ctx: Context, userId: string, args: ConnectionArgs) {
  const log = ctx.services.securityLog;
  return log.page(ctx.readOnlyEm, userId, args).then((page) => toConnection(page, () => log.count(ctx.readOnlyEm, userId)));
}

/** GraphQL adapter over SecurityLog: the owner reads it from the graph, the admin key by user id (graphql/permissions.ts). */
@Resolver(() => User)
export class SecurityLogResolver {
  @FieldResolver(() => SecurityEventConnection, { description: `Your security log: ${DESCRIPTION}` })
  securityLog(@Root() user: User, @Args() args: ConnectionArgs, @Ctx() ctx: Context) {
    return logPage(ctx, user.id, args);
  }

  @Query(() => SecurityEventConnection, { description: `Admin key (or the owner's user token, for the REST path): a user's security log. ${DESCRIPTION}` })
  async userSecurityLog(@Arg('userId', () => ID) userId: string, @Args() args: ConnectionArgs, @Ctx() ctx: Context) {
    // The ownership rule already proved a user's own id; the admin may name anyone, and an unknown id is a 404.
    if (ctx.caller.kind === 'admin') await ctx.services.accounts.findById(ctx.em, userId);
    return logPage(ctx, userId, args);
  }
}
