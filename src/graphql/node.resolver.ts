import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { callerUser } from '../auth/caller';
import { badRequest } from '../core/errors';
import type { Context } from './context';
import { Node, nodeKindOf } from './pagination';

const MAX_NODES = 100;

/**
 * Any object by its global id, through the caller's own data only: someone else's id (or an unknown one) is
 * null, exactly like an id that does not exist, so ids leak nothing. Tasks and transactions are batched.
 */
@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'The object with this global id, or null when it is not yours or does not exist.' })
  node(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Node | null> {
    return loadNode(ctx, id);
  }

  @Query(() => [Node], { nullable: 'items', description: `Several objects by global id (at most ${MAX_NODES}), in the order asked; null where not yours or not found.` })
  nodes(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: Context): Promise<(Node | null)[]> {
    if (ids.length > MAX_NODES) throw badRequest(`Ask for at most ${MAX_NODES} ids at once.`);
    return Promise.all(ids.map((id) => loadNode(ctx, id)));
  }
}

async function loadNode(ctx: Context, id: string): Promise<Node | null> {
  const me = callerUser(ctx.caller);
  if (!me) return null;
  switch (nodeKindOf(id)) {
    case 'user':
      return id === me.id ? me : null;
    case 'task':
      return ctx.loaders.task(id, me.id);
    case 'transaction':
      return ctx.loaders.transaction(id, me.id);
    case 'security_event':
      // Like `User.securityLog`: the owner's user token only.
      return ctx.caller.kind === 'user' ? ctx.loaders.securityEvent(id, me.id) : null;
    case 'api_key': {
      // Like `User.apiKey`: an API key token cannot read the key.
      if (ctx.caller.kind !== 'user') return null;
      const key = await ctx.services.apiKeys.view(ctx.em, me.id);
      return key.id === id ? key : null;
    }
    default:
      return null;
  }
}
