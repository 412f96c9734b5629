import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, registerEnumType, Resolver, Root, UseMiddleware } from 'type-graphql';
import type { Context } from '../graphql/context';
import { ReturnsUserErrors, UserError } from '../graphql/user-errors';
import { DonePayload, OWN_ACCOUNT } from './accounts.types';
import type { SessionView } from './sessions.service';
import { User } from './user.entity';

export const SessionRevokeScopeEnum = { OTHERS: 'others', ALL: 'all' } as const;
registerEnumType(SessionRevokeScopeEnum, { name: 'SessionRevokeScope', description: 'OTHERS ends every session but the calling one; ALL ends every session, the calling one too.' });

@ObjectType('Session', { description: 'A signed-in session (a user token) of your account.' })
export class SessionType implements SessionView {
  @Field(() => ID) id!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'Last request with its token (updated at most every few minutes).' }) lastUsedAt!: Date | null;
  @Field() expiresAt!: Date;
  @Field(() => String, { nullable: true, description: 'The client IP it signed in from.' }) ip!: string | null;
  @Field(() => String, { nullable: true, description: 'The user agent it signed in with.' }) userAgent!: string | null;
  @Field({ description: 'Whether this is the session of the token making the request.' }) current!: boolean;
}

@InputType()
export class RevokeSessionInput {
  @Field(() => ID, OWN_ACCOUNT) userId?: string | null;
  @Field(() => ID) sessionId!: string;
}

@InputType()
export class RevokeSessionsInput {
  @Field(() => ID, OWN_ACCOUNT) userId?: string | null;
  @Field(() => SessionRevokeScopeEnum) scope!: 'others' | 'all';
}

@ObjectType()
export class RevokeSessionsPayload {
  @Field(() => Int, { nullable: true, description: 'How many sessions ended.' }) revokedCount?: number;
  @Field(() => [UserError]) userErrors!: UserError[];
}

const currentSession = (ctx: Context): string | null => (ctx.caller.kind === 'user' ? ctx.caller.sessionId : null);

/** GraphQL adapter over SessionsService: user tokens only, one's own account only (graphql/permissions.ts). */
@Resolver(() => User)
export class SessionsResolver {
  @FieldResolver(() => [SessionType], { description: 'Your live sessions, newest first (a user token is needed).' })
  sessions(@Root() user: User, @Ctx() ctx: Context): Promise<SessionView[]> {
    return ctx.services.sessions.list(ctx.em, user.id, currentSession(ctx));
  }

  @Mutation(() => DonePayload, { description: 'End one of your sessions; its token is refused from the next request on.' })
  @UseMiddleware(ReturnsUserErrors)
  async revokeSession(@Arg('input') input: RevokeSessionInput, @Ctx() ctx: Context): Promise<DonePayload> {
    await ctx.services.sessions.revokeOne(ctx.em, ctx.caller.kind === 'user' ? ctx.caller.user.id : '', input.sessionId, ctx.origin);
    return { done: true, userErrors: [] };
  }

  @Mutation(() => RevokeSessionsPayload, { description: 'End all your other sessions (OTHERS) or all of them (ALL).' })
  @UseMiddleware(ReturnsUserErrors)
  async revokeSessions(@Arg('input') input: RevokeSessionsInput, @Ctx() ctx: Context): Promise<RevokeSessionsPayload> {
    const userId = ctx.caller.kind === 'user' ? ctx.caller.user.id : '';
    return { revokedCount: await ctx.services.sessions.revokeMany(ctx.em, userId, input.scope, currentSession(ctx) ?? '', ctx.origin), userErrors: [] };
  }
}
