import { Arg, Ctx, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { callerUser } from '../auth/caller';
import type { Context } from '../graphql/context';
import { ReturnsUserErrors } from '../graphql/user-errors';
import { Idempotent } from '../idempotency/idempotency.middleware';
import {
  ActivateInput,
  AuthPayload,
  ChangePasswordInput,
  DonePayload,
  LoginInput,
  RecoveryCodesPayload,
  RegisterInput,
  SecondFactorCodeInput,
  SendOtpInput,
  SignInWithGoogleInput,
  StartTotpSetupPayload,
  UpdateUserInput,
  UserPayload,
} from './accounts.types';
import { User } from './user.entity';

const done = { done: true, userErrors: [] };
/** Mutations that act on the caller's own account (the rules checked that `input.userId`, if given, is the caller). */
const me = (ctx: Context) => callerUser(ctx.caller)!;

/** GraphQL adapter over AccountsService and TwoFactorService; who may call what is decided in graphql/permissions.ts. */
@Resolver(() => User)
export class AccountsResolver {
  @Query(() => User, { description: 'The caller: the user of the user token or API key. Start here.' })
  viewer(@Ctx() ctx: Context): User {
    return me(ctx);
  }

  @Query(() => User, { description: 'A user by id; only your own (someone else\'s is FORBIDDEN, an unknown id NOT_FOUND).' })
  user(@Arg('id', () => ID) _id: string, @Ctx() ctx: Context): User {
    // The ownership rule already proved id === the caller, whose row is loaded.
    return me(ctx);
  }

  @Mutation(() => AuthPayload, { description: 'Sign up (public API key). An activation code is emailed.' })
  @UseMiddleware(ReturnsUserErrors, Idempotent)
  async register(@Arg('input') input: RegisterInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return { ...(await ctx.services.accounts.register(ctx.em, input, ctx.origin)), userErrors: [] };
  }

  @Mutation(() => AuthPayload, { description: 'Sign in (or up) with a Google ID token (and the second-factor code when 2FA is on: TWO_FACTOR_REQUIRED asks for it).' })
  @UseMiddleware(ReturnsUserErrors)
  async signInWithGoogle(@Arg('input') input: SignInWithGoogleInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return { ...(await ctx.services.accounts.signInWithGoogle(ctx.em, input.idToken, input.code, ctx.origin)), userErrors: [] };
  }

  @Mutation(() => AuthPayload, { description: 'Log in with email and password (and the 2FA code when 2FA is on: TWO_FACTOR_REQUIRED asks for it).' })
  @UseMiddleware(ReturnsUserErrors)
  async login(@Arg('input') input: LoginInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return { ...(await ctx.services.accounts.login(ctx.em, input, ctx.origin)), userErrors: [] };
  }

  @Mutation(() => DonePayload, { description: 'End the session of the calling user token.' })
  @UseMiddleware(ReturnsUserErrors)
  async logout(@Ctx() ctx: Context): Promise<DonePayload> {
    if (ctx.caller.kind === 'user') await ctx.services.accounts.logout(ctx.em, ctx.caller.user.id, ctx.caller.sessionId, ctx.origin);
    return done;
  }

  @Mutation(() => DonePayload, { description: 'Email a new one-time code of the given type (public API key, or your own user token: then an ACTIVATION code stays bound to your sign-up).' })
  @UseMiddleware(ReturnsUserErrors)
  async sendOtp(@Arg('input') input: SendOtpInput, @Ctx() ctx: Context): Promise<DonePayload> {
    await ctx.services.accounts.sendOtp(ctx.em, input.email, input.type, ctx.caller.kind === 'user' ? ctx.caller.sessionId : undefined);
    return done;
  }

  @Mutation(() => UserPayload, { description: 'Activate an account with its ACTIVATION code (public API key).' })
  @UseMiddleware(ReturnsUserErrors)
  async activate(@Arg('input') input: ActivateInput, @Ctx() ctx: Context): Promise<UserPayload> {
    return { user: await ctx.services.accounts.activate(ctx.em, input.email, input.code, ctx.origin), userErrors: [] };
  }

  @Mutation(() => DonePayload, { description: 'Set a new password with a CHANGE_PASSWORD code; other sessions end.' })
  @UseMiddleware(ReturnsUserErrors)
  async changePassword(@Arg('input') input: ChangePasswordInput, @Ctx() ctx: Context): Promise<DonePayload> {
    const keep = ctx.caller.kind === 'user' ? ctx.caller.sessionId : undefined;
    await ctx.services.accounts.changePassword(ctx.em, input.email, input.password, input.code, keep, ctx.origin);
    return done;
  }

  @Mutation(() => UserPayload, { description: 'Turn on 2FA by emailed code, proven with a TWO_FACTOR_AUTH code.' })
  @UseMiddleware(ReturnsUserErrors)
  async enableTwoFactor(@Arg('input') input: SecondFactorCodeInput, @Ctx() ctx: Context): Promise<UserPayload> {
    await ctx.services.twoFactor.enable(ctx.em, me(ctx), input.code, ctx.origin);
    return { user: me(ctx), userErrors: [] };
  }

  @Mutation(() => UserPayload, { description: 'Turn 2FA off, proven with a current second-factor code (or a recovery code).' })
  @UseMiddleware(ReturnsUserErrors)
  async disableTwoFactor(@Arg('input') input: SecondFactorCodeInput, @Ctx() ctx: Context): Promise<UserPayload> {
    await ctx.services.twoFactor.disable(ctx.em, me(ctx), input.code, ctx.origin);
    return { user: me(ctx), userErrors: [] };
  }

  @Mutation(() => StartTotpSetupPayload, { description: 'Start authenticator-app 2FA with a TWO_FACTOR_AUTH code from sendOtp: returns the secret to add to the app.' })
  @UseMiddleware(ReturnsUserErrors)
  async startTotpSetup(@Arg('input') input: SecondFactorCodeInput, @Ctx() ctx: Context): Promise<StartTotpSetupPayload> {
    return { totp: await ctx.services.twoFactor.startTotpSetup(ctx.em, me(ctx), input.code), userErrors: [] };
  }

  @Mutation(() => RecoveryCodesPayload, { description: 'Finish authenticator-app 2FA with the first code the app shows; answers ten recovery codes, shown once.' })
  @UseMiddleware(ReturnsUserErrors)
  async confirmTotpSetup(@Arg('input') input: SecondFactorCodeInput, @Ctx() ctx: Context): Promise<RecoveryCodesPayload> {
    const codes = await ctx.services.twoFactor.confirmTotpSetup(ctx.em, me(ctx), input.code, ctx.origin);
    return { recoveryCodes: { codes }, user: me(ctx), userErrors: [] };
  }

  @Mutation(() => RecoveryCodesPayload, { description: 'Ten new single-use recovery codes (the old ones stop working), proven with a second-factor code. Shown once.' })
  @UseMiddleware(ReturnsUserErrors)
  async regenerateRecoveryCodes(@Arg('input') input: SecondFactorCodeInput, @Ctx() ctx: Context): Promise<RecoveryCodesPayload> {
    const codes = await ctx.services.twoFactor.regenerateRecoveryCodes(ctx.em, me(ctx), input.code);
    return { recoveryCodes: { codes }, user: me(ctx), userErrors: [] };
  }

  @Mutation(() => UserPayload, { description: 'Change your names or display preference.' })
  @UseMiddleware(ReturnsUserErrors)
  async updateUser(@Arg('input') input: UpdateUserInput, @Ctx() ctx: Context): Promise<UserPayload> {
    const { userId: _own, ...changes } = input;
    return { user: await ctx.services.accounts.updateProfile(ctx.em, me(ctx), changes), userErrors: [] };
  }
}
