import { Arg, Ctx, Field, ID, Int, Mutation, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import type { SessionView } from './sessions.service';

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

/** GraphQL adapter over SessionsService: user tokens only, one's own account only (graphql/permissions.ts). */
@Resolver()
export class SessionsResolver {
  @Query(() => [SessionType], { description: 'Your live sessions, newest first.' })
  sessions(@Arg('userId', () => ID) userId: string, @Ctx() ctx: Context): Promise<SessionView[]> {
    return ctx.services.sessions.list(ctx.em, userId, currentSession(ctx));
  }

  @Mutation(() => Boolean, { description: 'End one of your sessions; its token is refused from the next request on.' })
  async revokeSession(@Arg('userId', () => ID) userId: string, @Arg('sessionId', () => ID) sessionId: string, @Ctx() ctx: Context): Promise<boolean> {
    await ctx.services.sessions.revokeOne(ctx.em, userId, sessionId, ctx.origin);
    return true;
  }

  @Mutation(() => Int, { description: 'End all your other sessions (OTHERS) or all of them (ALL); answers how many ended.' })
  revokeSessions(@Arg('userId', () => ID) userId: string, @Arg('scope', () => SessionRevokeScopeEnum) scope: 'others' | 'all', @Ctx() ctx: Context): Promise<number> {
    return ctx.services.sessions.revokeMany(ctx.em, userId, scope, currentSession(ctx) ?? '', ctx.origin);
  }
}

const currentSession = (ctx: Context): string | null => (ctx.caller.kind === 'user' ? ctx.caller.sessionId : null);
