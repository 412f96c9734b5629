import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { badRequest } from '../core/errors';
import type { Context } from '../graphql/context';
import { toConnection } from '../graphql/pagination';
import { SecurityEventConnection } from './security-log.types';

/** GraphQL adapter over SecurityLog; the owner (user token) or the admin key may read, see graphql/permissions.ts. */
@Resolver()
export class SecurityLogResolver {
  @Query(() => SecurityEventConnection, { description: 'The security log of a user, newest first: sign-ins, failed sign-ins, password, 2FA, API key, session and Google changes. Your own (user token), or any user with the admin key.' })
  async securityLog(
    @Arg('userId', () => ID) userId: string,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1 to 100 (default 20).' }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('offset', () => Int, { nullable: true, description: 'Skip this many (for the REST path; prefer after).' }) offset: number | null,
    @Ctx() ctx: Context,
  ): Promise<SecurityEventConnection> {
    if (after != null && offset != null) throw badRequest('Use either after or offset, not both.');
    // The ownership rule already proved a user's id; the admin may name anyone, and an unknown id is a 404.
    if (ctx.caller.kind === 'admin') await ctx.services.accounts.findById(ctx.em, userId);
    const log = ctx.services.securityLog;
    const page = offset != null ? await log.listByOffset(ctx.em, userId, { limit: first, offset }) : await log.listAfter(ctx.em, userId, { first, after });
    return toConnection(page.events, page.hasNextPage);
  }
}
