import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { callerUser } from '../auth/caller';
import type { Context } from '../graphql/context';
import { AuthPayload, ChangePasswordInput, LoginInput, OtpTypeEnum, RecoveryCodes, RegisterInput, TotpSetup, UpdateUserInput } from './accounts.types';
import type { OtpType } from './otp.entity';
import { User } from './user.entity';

/** GraphQL adapter over AccountsService; who may call what is decided in graphql/permissions.ts. */
@Resolver(() => User)
export class AccountsResolver {
  @Query(() => User, { description: 'The calling user (user token or API key).' })
  me(@Ctx() ctx: Context): User {
    return callerUser(ctx.caller)!;
  }

  @Query(() => User, { description: 'A user by id; only your own.' })
  user(@Arg('id', () => ID) _id: string, @Ctx() ctx: Context): User {
    // The ownership rule already proved id === the caller, whose row is loaded.
    return callerUser(ctx.caller)!;
  }

  @Mutation(() => AuthPayload, { description: 'Sign up (public API key). An activation code is emailed.' })
  register(@Arg('input') input: RegisterInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return ctx.services.accounts.register(ctx.em, input, ctx.origin);
  }

  @Mutation(() => AuthPayload, { description: 'Sign in (or up) with a Google ID token (and the second-factor code when 2FA is on).' })
  signInWithGoogle(
    @Arg('idToken') idToken: string,
    @Arg('code', () => String, { nullable: true, description: 'The second-factor code (or a recovery code), when 2FA is on.' }) code: string | null,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return ctx.services.accounts.signInWithGoogle(ctx.em, idToken, code, ctx.origin);
  }

  @Mutation(() => AuthPayload, { description: 'Log in with email and password (and the 2FA code when 2FA is on).' })
  login(@Arg('input') input: LoginInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return ctx.services.accounts.login(ctx.em, input, ctx.origin);
  }

  @Mutation(() => Boolean, { description: 'End the session of the calling user token.' })
  async logout(@Ctx() ctx: Context): Promise<boolean> {
    if (ctx.caller.kind === 'user') await ctx.services.accounts.logout(ctx.em, ctx.caller.user.id, ctx.caller.sessionId, ctx.origin);
    return true;
  }

  @Mutation(() => Boolean, { description: 'Email a new one-time code of the given type (public API key, or your own user token: then an ACTIVATION code stays bound to your sign-up).' })
  async sendOtp(@Arg('email') email: string, @Arg('type', () => OtpTypeEnum) type: OtpType, @Ctx() ctx: Context): Promise<boolean> {
    await ctx.services.accounts.sendOtp(ctx.em, email, type, ctx.caller.kind === 'user' ? ctx.caller.sessionId : undefined);
    return true;
  }

  @Mutation(() => User, { description: 'Activate an account with its ACTIVATION code (public API key).' })
  activate(@Arg('email') email: string, @Arg('code') code: string, @Ctx() ctx: Context): Promise<User> {
    return ctx.services.accounts.activate(ctx.em, email, code, ctx.origin);
  }

  @Mutation(() => Boolean, { description: 'Set a new password with a CHANGE_PASSWORD code; other sessions end.' })
  async changePassword(@Arg('email') email: string, @Arg('input') input: ChangePasswordInput, @Ctx() ctx: Context): Promise<boolean> {
    const keep = ctx.caller.kind === 'user' ? ctx.caller.sessionId : undefined;
    await ctx.services.accounts.changePassword(ctx.em, email, input.password, input.code, keep, ctx.origin);
    return true;
  }

  @Mutation(() => Boolean, { description: 'Turn on 2FA by emailed code, proven with a TWO_FACTOR_AUTH code.' })
  async enableTwoFactor(@Arg('userId', () => ID) _userId: string, @Arg('code') code: string, @Ctx() ctx: Context): Promise<boolean> {
    await ctx.services.twoFactor.enable(ctx.em, callerUser(ctx.caller)!, code, ctx.origin);
    return true;
  }

  @Mutation(() => Boolean, { description: 'Turn 2FA off, proven with a current second-factor code.' })
  async disableTwoFactor(@Arg('userId', () => ID) _userId: string, @Arg('code') code: string, @Ctx() ctx: Context): Promise<boolean> {
    await ctx.services.twoFactor.disable(ctx.em, callerUser(ctx.caller)!, code, ctx.origin);
    return true;
  }

  @Mutation(() => TotpSetup, { description: 'Start authenticator-app 2FA with a TWO_FACTOR_AUTH code from sendOtp: returns the secret to add to the app.' })
  startTotpSetup(@Arg('userId', () => ID) _userId: string, @Arg('code') code: string, @Ctx() ctx: Context): Promise<TotpSetup> {
    return ctx.services.twoFactor.startTotpSetup(ctx.em, callerUser(ctx.caller)!, code);
  }

  @Mutation(() => RecoveryCodes, { description: 'Finish authenticator-app 2FA with the first code the app shows; answers ten recovery codes, shown once.' })
  async confirmTotpSetup(@Arg('userId', () => ID) _userId: string, @Arg('code') code: string, @Ctx() ctx: Context): Promise<RecoveryCodes> {
    return { codes: await ctx.services.twoFactor.confirmTotpSetup(ctx.em, callerUser(ctx.caller)!, code, ctx.origin) };
  }

  @Mutation(() => RecoveryCodes, { description: 'Ten new single-use recovery codes (the old ones stop working), proven with a second-factor code. Shown once.' })
  async regenerateRecoveryCodes(@Arg('userId', () => ID) _userId: string, @Arg('code') code: string, @Ctx() ctx: Context): Promise<RecoveryCodes> {
    return { codes: await ctx.services.twoFactor.regenerateRecoveryCodes(ctx.em, callerUser(ctx.caller)!, code) };
  }

  @Mutation(() => User, { description: 'Change your names or display preference.' })
  updateUser(@Arg('userId', () => ID) _userId: string, @Arg('input') input: UpdateUserInput, @Ctx() ctx: Context): Promise<User> {
    return ctx.services.accounts.updateProfile(ctx.em, callerUser(ctx.caller)!, input);
  }
}
