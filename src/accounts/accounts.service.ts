import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { PasswordHasher } from '../auth/passwords';
import type { SecretBox } from '../auth/secret-box';
import type { TokenService } from '../auth/tokens';
import { badRequest, DomainError, notFound, unauthenticated } from '../core/errors';
import type { Mailer } from '../mail/mailer';
import type { ApiKeysService } from '../api-keys/api-keys.service';
import type { GoogleIdTokenVerifier } from './google-id-token';
import type { OtpType } from './otp.entity';
import type { OtpService } from './otp.service';
import { Session } from './session.entity';
import { rawQuery } from '../database/shared-pool';
import { totp } from './totp';
import { User } from './user.entity';

export interface SignedIn { user: User; token: string }
export interface RegisterInput { firstName: string; lastName: string; email: string; password: string }
export interface LoginInput { email: string; password: string; code?: string | null }
export interface ProfileChanges { firstName?: string | null; lastName?: string | null; isDarkMode?: boolean | null }

const OTP_PURPOSE: Record<OtpType, string> = {
  ACTIVATION: 'activate your Clara account',
  TWO_FACTOR_AUTH: 'confirm a two-factor authentication step',
  CHANGE_PASSWORD: 'change your Clara password',
};

/** Accounts: sign-up, sign-in (password, Google, second factor), sessions, OTP flows and the profile. */
export class AccountsService {
  constructor(
    private readonly deps: {
      passwords: PasswordHasher;
      tokens: TokenService;
      otps: OtpService;
      box: SecretBox;
      mailer: Mailer;
      apiKeys: ApiKeysService;
      google: GoogleIdTokenVerifier;
      sessionDays: number;
      otpTtlMinutes: number;
      serviceName: string;
      log: Logger;
    },
  ) {}

  async register(em: EntityManager, input: RegisterInput): Promise<SignedIn> {
    const email = normalizeEmail(input.email);
    if (await em.count(User, { email })) throw alreadyRegistered();
    const passwordHash = await this.deps.passwords.hash(input.password);
    const user = em.create(User, { email, passwordHash, firstName: input.firstName.trim(), lastName: input.lastName.trim() });
    this.deps.apiKeys.createFor(em, user);
    const session = this.newSession(em, user);
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw alreadyRegistered();
      throw error;
    }
    await this.sendOtp(em, user.email, 'ACTIVATION', user);
    return { user, token: this.tokenFor(session) };
  }

  /** Signs in with a verified Google ID token: links the Google id to an existing account or creates an active one. */
  async signInWithGoogle(em: EntityManager, idToken: string): Promise<SignedIn> {
    const identity = await this.deps.google.verify(idToken);
    let user = (await em.findOne(User, { googleId: identity.googleId })) ?? (await em.findOne(User, { email: identity.email }));
    if (user && !user.isActive) {
      // Whoever registered this address never proved they own it; Google just proved the caller does.
      // Nothing the earlier registrant set may survive: password, sessions, API key, second factor.
      await this.dropUnprovenCredentials(em, user);
    }
    if (user) {
      user.googleId ??= identity.googleId;
      user.isActive = true;
    } else {
      user = em.create(User, { email: identity.email, firstName: identity.firstName, lastName: identity.lastName, googleId: identity.googleId, isActive: true });
      this.deps.apiKeys.createFor(em, user);
    }
    const session = this.newSession(em, user);
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw new DomainError('ALREADY_EXISTS', 'This account is being created by another request; try again.');
      throw error;
    }
    return { user, token: this.tokenFor(session) };
  }

  async login(em: EntityManager, input: LoginInput): Promise<SignedIn> {
    const user = await em.findOne(User, { email: normalizeEmail(input.email) });
    const passwordOk = await this.deps.passwords.verify(user?.passwordHash, input.password);
    if (!user || !passwordOk) throw unauthenticated('The email or password is incorrect.');
    if (user.twoFactorMethod) {
      if (!input.code) throw unauthenticated('Two-factor authentication is enabled: send the code as well.', { is_2fa_enabled: true });
      await this.checkSecondFactor(em, user, input.code);
    }
    const session = this.newSession(em, user);
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
      `select u.* from sessions s join users u on u.id = s.user_id
        where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now()`,
      [sessionId, userId],
    );
    return row ? em.map(User, row) : null;
  }

  async logout(em: EntityManager, sessionId: string): Promise<void> {
    await em.nativeUpdate(Session, { id: sessionId, revokedAt: null }, { revokedAt: new Date() });
  }

  async sendOtp(em: EntityManager, email: string, type: OtpType, known?: User): Promise<void> {
    const user = known ?? (await this.findByEmail(em, email));
    if (type === 'ACTIVATION' && user.isActive) throw badRequest('This account is already active.');
    const code = await this.deps.otps.issue(em, user, type);
    const minutes = this.deps.otpTtlMinutes;
    await this.deps.mailer
      .send({
        to: user.email,
        subject: `Your ${this.deps.serviceName} verification code`,
        text: `Hello ${user.firstName},\n\nUse the code ${code} to ${OTP_PURPOSE[type]}. It expires in ${minutes} minutes and works once.\n\nIf you did not ask for it, ignore this mail.`,
      })
      .catch((error: unknown) => {
        // The code is stored; the user can ask for a new one. The address is not logged.
        this.deps.log.error({ err: error, otpType: type }, 'sending an OTP mail failed');
        throw new DomainError('UNAVAILABLE', 'The code could not be sent; try again shortly.');
      });
  }

  async activate(em: EntityManager, email: string, code: string): Promise<User> {
    const user = await this.findByEmail(em, email);
    if (user.isActive) throw badRequest('This account is already active.');
    await this.deps.otps.consume(em, user, 'ACTIVATION', code);
    user.isActive = true;
    await em.flush();
    return user;
  }

  /**
   * Sets a new password with a CHANGE_PASSWORD code. Every other session ends; `keepSessionId` is the
   * caller's own session when a signed-in user made the change. Without one (the forgotten-password path,
   * possibly a recovered account) the API key is replaced as well, so no earlier holder keeps access.
   */
  async changePassword(em: EntityManager, email: string, password: string, code: string, keepSessionId?: string): Promise<void> {
    const user = await this.findByEmail(em, email);
    await this.deps.otps.consume(em, user, 'CHANGE_PASSWORD', code);
    user.passwordHash = await this.deps.passwords.hash(password);
    await em.transactional(async (tx) => {
      tx.persist(user);
      await tx.nativeUpdate(Session, { user: user.id, revokedAt: null, ...(keepSessionId ? { id: { $ne: keepSessionId } } : {}) }, { revokedAt: new Date() });
      if (!keepSessionId) await this.deps.apiKeys.reset(tx as EntityManager, user.id);
    });
  }

  async enableTwoFactor(em: EntityManager, user: User, code: string): Promise<void> {
    if (user.twoFactorMethod) throw badRequest('Two-factor authentication is already enabled.');
    await this.deps.otps.consume(em, user, 'TWO_FACTOR_AUTH', code);
    user.twoFactorMethod = 'email';
    await em.flush();
  }

  async disableTwoFactor(em: EntityManager, user: User, code: string): Promise<void> {
    if (!user.twoFactorMethod) throw badRequest('Two-factor authentication is not enabled.');
    await this.checkSecondFactor(em, user, code);
    Object.assign(user, { twoFactorMethod: null, totpSecret: null, totpPendingSecret: null, totpLastStep: null });
    await em.flush();
  }

  /**
   * First step of authenticator-app 2FA: a new secret and its otpauth:// URI, active once confirmed. Like
   * email 2FA it needs a TWO_FACTOR_AUTH code, so a stolen session alone cannot lock the owner out.
   */
  async startTotpSetup(em: EntityManager, user: User, code: string): Promise<{ secret: string; otpauthUri: string }> {
    if (user.twoFactorMethod) throw badRequest('Two-factor authentication is already enabled; disable it first.');
    await this.deps.otps.consume(em, user, 'TWO_FACTOR_AUTH', code);
    const secret = totp.newSecret();
    user.totpPendingSecret = this.deps.box.encrypt(secret);
    await em.flush();
    return { secret, otpauthUri: totp.uri(secret, user.email, this.deps.serviceName) };
  }

  async confirmTotpSetup(em: EntityManager, user: User, code: string): Promise<void> {
    if (user.twoFactorMethod) throw badRequest('Two-factor authentication is already enabled.');
    if (!user.totpPendingSecret) throw badRequest('Start the authenticator setup first.');
    const step = await totp.check(this.deps.box.decrypt(user.totpPendingSecret), code, null);
    if (step === null) throw unauthenticated('The authenticator code is invalid.');
    Object.assign(user, { twoFactorMethod: 'totp', totpSecret: user.totpPendingSecret, totpPendingSecret: null, totpLastStep: step });
    await em.flush();
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

  private async dropUnprovenCredentials(em: EntityManager, user: User): Promise<void> {
    Object.assign(user, { passwordHash: null, twoFactorMethod: null, totpSecret: null, totpPendingSecret: null, totpLastStep: null });
    await em.nativeUpdate(Session, { user: user.id, revokedAt: null }, { revokedAt: new Date() });
    await this.deps.apiKeys.reset(em, user.id);
  }

  private async checkSecondFactor(em: EntityManager, user: User, code: string): Promise<void> {
    if (user.twoFactorMethod !== 'totp') return this.deps.otps.consume(em, user, 'TWO_FACTOR_AUTH', code);
    const step = await totp.check(this.deps.box.decrypt(user.totpSecret!), code, user.totpLastStep);
    // The conditional update makes a code usable once even when two requests race with it.
    const claimed = step !== null && (await em.nativeUpdate(User, { id: user.id, $or: [{ totpLastStep: null }, { totpLastStep: { $lt: step } }] }, { totpLastStep: step }));
    if (!claimed) throw unauthenticated('The authenticator code is invalid or was already used.', { is_2fa_enabled: true });
    user.totpLastStep = step;
  }

  private newSession(em: EntityManager, user: User): Session {
    return em.create(Session, { user, expiresAt: new Date(Date.now() + this.deps.sessionDays * 86_400_000) });
  }

  private tokenFor(session: Session): string {
    return this.deps.tokens.signUserToken(session.user.id, session.id, session.expiresAt);
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const alreadyRegistered = () => new DomainError('ALREADY_EXISTS', 'A user with this email already exists.');
