import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { PasswordHasher } from '../auth/passwords';
import type { TokenService } from '../auth/tokens';
import { badRequest, DomainError, notFound, unauthenticated } from '../core/errors';
import type { Mailer } from '../mail/mailer';
import type { ApiKeysService } from '../api-keys/api-keys.service';
import type { CodeFlow } from './code-attempt.entity';
import type { CodeAttempts } from './code-attempts';
import type { CodeSendLimits } from './code-send-limits';
import type { GoogleIdTokenVerifier } from './google-id-token';
import type { OtpType } from './otp.entity';
import type { OtpService } from './otp.service';
import { Registration } from './registration.entity';
import type { RequestOrigin } from '../security-log/request-origin';
import type { SecurityLog } from '../security-log/security-log.service';
import type { SecurityNotices } from '../security-log/security-notices';
import { Session } from './session.entity';
import type { SessionsService } from './sessions.service';
import type { TwoFactorService } from './two-factor.service';
import { rawQuery } from '../database/shared-pool';
import { User } from './user.entity';
import { plainRowReader } from '../database/plain-rows';

export interface SignedIn {
  user: User;
  token: string;
  /** Registration only: false when the activation mail could not be sent (the account exists; ask for a code again). */
  activationCodeSent?: boolean;
}
export interface RegisterInput { firstName: string; lastName: string; email: string; password: string }
export interface LoginInput { email: string; password: string; code?: string | null }
export interface ProfileChanges { firstName?: string | null; lastName?: string | null; isDarkMode?: boolean | null }

const OTP_PURPOSE: Record<OtpType, string> = {
  ACTIVATION: 'activate your Clara account',
  TWO_FACTOR_AUTH: 'confirm a two-factor authentication step',
  CHANGE_PASSWORD: 'change your Clara password',
};

const FLOW_NAME: Record<CodeFlow, string> = {
  ACTIVATION: 'activating your account',
  CHANGE_PASSWORD: 'resetting your password',
  SECOND_FACTOR: 'your two-factor authentication',
};

/** Accounts: sign-up, sign-in (password, Google, second factor), sessions, OTP flows and the profile. */
export class AccountsService {
  constructor(
    private readonly deps: {
      passwords: PasswordHasher;
      tokens: TokenService;
      otps: OtpService;
      attempts: CodeAttempts;
      sendLimits: CodeSendLimits;
      twoFactor: TwoFactorService;
      mailer: Mailer;
      apiKeys: ApiKeysService;
      google: GoogleIdTokenVerifier;
      sessions: SessionsService;
      securityLog: SecurityLog;
      notices: SecurityNotices;
      sessionDays: number;
      otpTtlMinutes: number;
      serviceName: string;
      log: Logger;
    },
  ) {}

  /**
   * Sign-up. An address that was registered but never activated may be registered again: nobody proved
   * owning it, so an earlier sign-up has no claim. Each sign-up is kept (a Registration with its session)
   * and gets an ACTIVATION code bound to it; whichever sign-up's code activates becomes the account (`activate`).
   */
  async register(em: EntityManager, input: RegisterInput, origin?: RequestOrigin): Promise<SignedIn> {
    const email = normalizeEmail(input.email);
    const existing = await em.findOne(User, { email });
    if (existing?.isActive) throw alreadyRegistered();
    if (existing) await this.deps.sendLimits.consume(existing.id, 'ACTIVATION');
    const passwordHash = await this.deps.passwords.hash(input.password);
    const names = { firstName: input.firstName.trim(), lastName: input.lastName.trim() };
    // A later sign-up leaves the account's password and key as they are until the mailbox owner activates with
    // a code; it sees its own names, never an earlier sign-up's (activation sets the winning sign-up's names).
    const user = existing ? Object.assign(existing, names) : em.create(User, { email, passwordHash, ...names });
    if (!existing) this.deps.apiKeys.createFor(em, user);
    const session = this.newSession(em, user, origin);
    const registration = em.create(Registration, { user, session, passwordHash, ...names, createdAccount: !existing });
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw alreadyRegistered();
      throw error;
    }
    if (!existing) await this.deps.sendLimits.consume(user.id, 'ACTIVATION');
    // The sign-up is committed either way: when the mail cannot go out (SMTP down), the answer still carries the
    // account and its token, which asks for the code again (sendOtp) bound to this sign-up; registering again works too.
    const activationCodeSent = await this.mailOtp(em, user, 'ACTIVATION', registration).then(
      () => true,
      (error: unknown) => {
        if (error instanceof DomainError && error.code === 'UNAVAILABLE') return false;
        throw error;
      },
    );
    return { user, token: this.tokenFor(session), activationCodeSent };
  }

  /**
   * Signs in with a verified Google ID token: links the Google id to an existing account or creates an active
   * one. An account linked to one Google account refuses another with the same email, and an account with
   * two-factor authentication needs its code here as at login.
   */
  async signInWithGoogle(em: EntityManager, idToken: string, code?: string | null, origin?: RequestOrigin): Promise<SignedIn> {
    const identity = await this.deps.google.verify(idToken);
    let user = (await em.findOne(User, { googleId: identity.googleId })) ?? (await em.findOne(User, { email: identity.email }));
    if (user?.deactivatedAt) throw deactivated();
    if (user?.googleId && user.googleId !== identity.googleId) {
      throw unauthenticated('This account is linked to a different Google account.');
    }
    if (user?.isActive && user.twoFactorMethod) {
      if (!code) throw needsSecondFactor();
      await this.deps.twoFactor.check(em, user, code).catch((error) => this.failedSignIn(em, user!, 'wrong_code', error, origin));
    }
    const linksGoogle = !!user && !user.googleId;
    if (user && !user.isActive) {
      // Whoever registered this address never proved they own it; Google just proved the caller does.
      // Nothing the earlier registrant set may survive: password, sessions, API key, second factor.
      await this.dropUnprovenCredentials(em, user, origin);
    }
    if (user) {
      user.googleId ??= identity.googleId;
      user.isActive = true;
    } else {
      user = em.create(User, { email: identity.email, firstName: identity.firstName, lastName: identity.lastName, googleId: identity.googleId, isActive: true });
      this.deps.apiKeys.createFor(em, user);
    }
    const session = this.newSession(em, user, origin);
    this.deps.securityLog.record(em, user, 'SIGN_IN', origin, { method: 'google' });
    if (linksGoogle) this.deps.securityLog.record(em, user, 'GOOGLE_LINKED', origin);
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw new DomainError('ALREADY_EXISTS', 'This account is being created by another request; try again.');
      throw error;
    }
    if (linksGoogle) await this.deps.notices.send(user, 'GOOGLE_LINKED', origin);
    return { user, token: this.tokenFor(session) };
  }

  async login(em: EntityManager, input: LoginInput, origin?: RequestOrigin): Promise<SignedIn> {
    const user = await em.findOne(User, { email: normalizeEmail(input.email) });
    const passwordOk = await this.deps.passwords.verify(user?.passwordHash, input.password);
    if (user && !passwordOk) await this.deps.securityLog.write(em, user.id, 'SIGN_IN_FAILED', origin, { reason: 'wrong_password' });
    if (!user || !passwordOk) throw unauthenticated('The email or password is incorrect.');
    if (user.deactivatedAt) throw deactivated();
    if (user.twoFactorMethod) {
      if (!input.code) throw needsSecondFactor();
      await this.deps.twoFactor.check(em, user, input.code).catch((error) => this.failedSignIn(em, user, 'wrong_code', error, origin));
    }
    const session = this.newSession(em, user, origin);
    this.deps.securityLog.record(em, user, 'SIGN_IN', origin, { method: 'password' });
    await em.flush();
    return { user, token: this.tokenFor(session) };
  }

  /** The session a user token names, if it is still live; one query, used on every authenticated request. */
  async authenticateSession(em: EntityManager, userId: string, sessionId: string): Promise<User | null> {
    // The hottest query of the service (every request with a user token): one indexed join on a raw pool
    // connection, because the ORM's and knex's layers cost more than the query itself. Read on every
    // request, never cached: a logout on any instance is refused on the next request everywhere.
    const { rows: [row] } = await rawQuery(
      em,
      `select u.*, ${this.deps.sessions.touchDueSql} as session_touch_due from sessions s join users u on u.id = s.user_id
        where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now() and u.deactivated_at is null`,
      [sessionId, userId],
    );
    if (row?.session_touch_due) await this.deps.sessions.touch(em, sessionId);
    // Unmanaged: most requests only read the caller; the request's EntityManager adopts it when one is used (context.ts).
    return row ? plainRowReader(em, User).read(row) : null;
  }

  async logout(em: EntityManager, userId: string, sessionId: string, origin?: RequestOrigin): Promise<void> {
    await this.deps.sessions.revoke(em, { userId, sessionId }, { scope: 'current', reason: 'logout' }, origin);
  }

  /**
   * Mails a code on request, within the account's send limits. An ACTIVATION code asked for with a sign-up's
   * own user token stays bound to that sign-up; asked for with the public key, it is bound to none.
   */
  async sendOtp(em: EntityManager, email: string, type: OtpType, sessionId?: string): Promise<void> {
    const user = await this.findByEmail(em, email);
    if (type === 'ACTIVATION' && user.isActive) throw badRequest('This account is already active.');
    await this.deps.sendLimits.consume(user.id, type);
    const registration = type === 'ACTIVATION' && sessionId ? await em.findOne(Registration, { user: user.id, session: sessionId }) : null;
    await this.mailOtp(em, user, type, registration);
  }

  private async mailOtp(em: EntityManager, user: User, type: OtpType, registration: Registration | null): Promise<void> {
    const code = await this.deps.otps.issue(em, user, type, registration?.id ?? null);
    const minutes = this.deps.otpTtlMinutes;
    const activation = type !== 'ACTIVATION' ? '' : registration
      ? `\n\nThis code activates the sign-up made on ${registration.createdAt.toUTCString()} for ${registration.firstName}: it keeps that sign-up's password and ends every other sign-up of this address.`
      : '\n\nActivating with this code ends every sign-up of this address made so far; then set your password with the forgotten-password flow.';
    await this.deps.mailer
      .send({
        to: user.email,
        subject: `Your ${this.deps.serviceName} verification code`,
        text: `Hello ${registration?.firstName ?? user.firstName},\n\nUse the code ${code} to ${OTP_PURPOSE[type]}. It expires in ${minutes} minutes and works once.${activation}\n\nIf you did not ask for it, ignore this mail.`,
      })
      .catch(async (error: unknown) => {
        // The user can ask for a new code, and the one that never left does not count against the send limits.
        // The address is not logged.
        this.deps.log.error({ err: error, otpType: type }, 'sending an OTP mail failed');
        await this.deps.sendLimits.refund(user.id, type);
        throw new DomainError('UNAVAILABLE', 'The code could not be sent; try again shortly.');
      });
  }

  /**
   * Activation proves the mailbox; the code says which sign-up the mailbox owner activates, and the account
   * keeps only what that sign-up set. The sign-up that created the account keeps its password, sessions and
   * API key, and later sign-ups' sessions end. A later sign-up replaces the password and names, and every
   * other session and the API key end. A code sent on request with the public key belongs to no sign-up:
   * every earlier session, the password and the API key end (the owner sets a password by the reset flow).
   */
  async activate(em: EntityManager, email: string, code: string, origin?: RequestOrigin): Promise<User> {
    const user = await this.findByEmail(em, email);
    if (user.isActive) throw badRequest('This account is already active.');
    const registrationId = await this.deps.attempts.attempt(em, user, 'ACTIVATION', () => this.deps.otps.consume(em, user, 'ACTIVATION', code));
    const signUps = await em.find(Registration, { user: user.id });
    const winner = signUps.find((signUp) => signUp.id === registrationId);
    await em.transactional(async (tx) => {
      const why = { scope: 'others' as const, reason: 'activation' as const };
      // The names the activating sign-up gave (without one, the first sign-up's): no other sign-up's edits stay.
      const named = winner ?? signUps.find((signUp) => signUp.createdAccount);
      if (named) Object.assign(user, { firstName: named.firstName, lastName: named.lastName });
      if (!winner) {
        await this.dropUnprovenCredentials(tx as EntityManager, user, origin);
      } else if (winner.createdAccount) {
        const others = signUps.filter((signUp) => signUp !== winner).map((signUp) => signUp.session.id);
        if (others.length) await this.deps.sessions.revoke(tx as EntityManager, { userId: user.id, sessionIds: others }, why, origin);
      } else {
        user.passwordHash = winner.passwordHash;
        await this.deps.sessions.revoke(tx as EntityManager, { userId: user.id, exceptSessionId: winner.session.id }, why, origin);
        await this.deps.apiKeys.reset(tx as EntityManager, user.id, { reason: 'activation', origin });
      }
      await tx.nativeDelete(Registration, { user: user.id });
      user.isActive = true;
      tx.persist(user);
    });
    return user;
  }

  /**
   * Sets a new password with a CHANGE_PASSWORD code. Every other session ends; `keepSessionId` is the
   * caller's own session when a signed-in user made the change. Without one (the forgotten-password path,
   * possibly a recovered account) the API key is replaced as well, so no earlier holder keeps access.
   */
  async changePassword(em: EntityManager, email: string, password: string, code: string, keepSessionId?: string, origin?: RequestOrigin): Promise<void> {
    const user = await this.findByEmail(em, email);
    await this.deps.attempts.attempt(em, user, 'CHANGE_PASSWORD', () => this.deps.otps.consume(em, user, 'CHANGE_PASSWORD', code));
    user.passwordHash = await this.deps.passwords.hash(password);
    await em.transactional(async (tx) => {
      tx.persist(user);
      this.deps.securityLog.record(tx as EntityManager, user, 'PASSWORD_CHANGED', origin, { reason: keepSessionId ? 'user_request' : 'password_reset' });
      await this.deps.sessions.revoke(tx as EntityManager, { userId: user.id, exceptSessionId: keepSessionId }, { scope: keepSessionId ? 'others' : 'all', reason: 'password_changed' }, origin);
      if (!keepSessionId) await this.deps.apiKeys.reset(tx as EntityManager, user.id, { reason: 'password_reset', origin });
    });
    await this.deps.notices.send(user, 'PASSWORD_CHANGED', origin);
  }

  async updateProfile(em: EntityManager, user: User, changes: ProfileChanges): Promise<User> {
    // GraphQL may send explicit nulls: only last_name may be cleared.
    if (changes.firstName === null || changes.isDarkMode === null) throw badRequest('firstName and isDarkMode cannot be null.');
    if (changes.firstName !== undefined) user.firstName = changes.firstName.trim();
    if (changes.lastName !== undefined) user.lastName = changes.lastName === null ? null : changes.lastName.trim();
    if (changes.isDarkMode !== undefined) user.isDarkMode = changes.isDarkMode;
    await em.flush();
    return user;
  }

  async findById(em: EntityManager, id: string): Promise<User> {
    const user = await em.findOne(User, { id });
    if (!user) throw notFound('User not found.');
    return user;
  }

  async findByEmail(em: EntityManager, email: string): Promise<User> {
    const user = await em.findOne(User, { email: normalizeEmail(email) });
    if (!user) throw notFound('User not found.');
    return user;
  }

  private async dropUnprovenCredentials(em: EntityManager, user: User, origin?: RequestOrigin): Promise<void> {
    Object.assign(user, { passwordHash: null, twoFactorMethod: null, totpSecret: null, totpPendingSecret: null, totpLastStep: null });
    await this.deps.sessions.revoke(em, { userId: user.id }, { scope: 'all', reason: 'google_takeover' }, origin);
    await this.deps.apiKeys.reset(em, user.id, { reason: 'google_takeover', origin });
    await em.nativeDelete(Registration, { user: user.id });
  }

  /** A wrong second factor at sign-in: logged for the account's owner, then the refusal goes on. */
  private async failedSignIn(em: EntityManager, user: User, reason: 'wrong_code', error: unknown, origin?: RequestOrigin): Promise<never> {
    if (error instanceof DomainError && error.code === 'UNAUTHENTICATED') await this.deps.securityLog.write(em, user.id, 'SIGN_IN_FAILED', origin, { reason });
    throw error;
  }

  /** Tells the owner that wrong codes locked a flow of their account (CodeAttempts' onLockout). */
  async notifyLockout(user: User, flow: CodeFlow, lockedUntil: Date): Promise<void> {
    await this.deps.mailer
      .send({
        to: user.email,
        subject: `${this.deps.serviceName}: too many wrong codes`,
        text: `Hello ${user.firstName},\n\nSeveral wrong codes were entered for ${FLOW_NAME[flow]}, so it is locked until ${lockedUntil.toUTCString()}.\n\nIf this was not you, someone may be trying to get into your account: keep your password and mailbox safe.`,
      })
      .catch((error: unknown) => this.deps.log.error({ err: error, flow }, 'sending a lockout notice failed'));
  }

  /** One clock reading, in whole seconds, gives the session's start and expiry and the token's iat and exp. */
  private newSession(em: EntityManager, user: User, origin?: RequestOrigin): Session {
    const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    return em.create(Session, { user, createdAt, expiresAt: new Date(createdAt.getTime() + this.deps.sessionDays * 86_400_000), ip: origin?.ip, userAgent: origin?.userAgent });
  }

  private tokenFor(session: Session): string {
    return this.deps.tokens.signUserToken(session.user.id, session.id, session.expiresAt, session.createdAt);
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const needsSecondFactor = () => new DomainError('TWO_FACTOR_REQUIRED', 'Two-factor authentication is enabled: send the code as well.', { is_2fa_enabled: true });
const deactivated = () => unauthenticated('This account has been deactivated by an operator.');
const alreadyRegistered = () => new DomainError('ALREADY_EXISTS', 'A user with this email already exists.');
