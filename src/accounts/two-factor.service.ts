import { randomInt } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../auth/secret-box';
import { badRequest, unauthenticated } from '../core/errors';
import type { RequestOrigin } from '../security-log/request-origin';
import type { SecurityLog } from '../security-log/security-log.service';
import type { SecurityNotices } from '../security-log/security-notices';
import type { CodeAttempts } from './code-attempts';
import type { OtpService } from './otp.service';
import { RecoveryCode } from './recovery-code.entity';
import { totp } from './totp';
import { User } from './user.entity';

export const RECOVERY_CODE_COUNT = 10;
/** Crockford-like alphabet without look-alikes (0/O, 1/I/L): 31^10 ≈ 2^49 per code. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_CODE = /^[a-z2-9]{5}-?[a-z2-9]{5}$/;

/**
 * The second factor: turning it on and off (emailed code or authenticator app), checking it wherever it is
 * asked for (login, Google sign-in, disabling, recovery codes), and recovery codes. Every check of a code
 * goes through one attempt limit per account (CodeAttempts, flow SECOND_FACTOR).
 */
export class TwoFactorService {
  constructor(private readonly deps: { otps: OtpService; attempts: CodeAttempts; box: SecretBox; serviceName: string; securityLog: SecurityLog; notices: SecurityNotices }) {}

  async enable(em: EntityManager, user: User, code: string, origin?: RequestOrigin): Promise<void> {
    if (user.twoFactorMethod) throw badRequest('Two-factor authentication is already enabled.');
    await this.checkEmailedCode(em, user, code);
    user.twoFactorMethod = 'email';
    this.deps.securityLog.record(em, user, 'TWO_FACTOR_ENABLED', origin, { method: 'email' });
    await em.flush();
    await this.dropRecoveryCodes(em, user);
  }

  async disable(em: EntityManager, user: User, code: string, origin?: RequestOrigin): Promise<void> {
    if (!user.twoFactorMethod) throw badRequest('Two-factor authentication is not enabled.');
    await this.check(em, user, code);
    this.deps.securityLog.record(em, user, 'TWO_FACTOR_DISABLED', origin, { method: user.twoFactorMethod });
    Object.assign(user, { twoFactorMethod: null, totpSecret: null, totpPendingSecret: null, totpLastStep: null });
    await em.flush();
    await this.dropRecoveryCodes(em, user);
    await this.deps.notices.send(user, 'TWO_FACTOR_DISABLED', origin);
  }

  /**
   * First step of authenticator-app 2FA: a new secret and its otpauth:// URI, active once confirmed. Like
   * email 2FA it needs a TWO_FACTOR_AUTH code, so a stolen session alone cannot lock the owner out.
   */
  async startTotpSetup(em: EntityManager, user: User, code: string): Promise<{ secret: string; otpauthUri: string }> {
    if (user.twoFactorMethod) throw badRequest('Two-factor authentication is already enabled; disable it first.');
    await this.checkEmailedCode(em, user, code);
    const secret = totp.newSecret();
    user.totpPendingSecret = this.deps.box.encrypt(secret);
    await em.flush();
    return { secret, otpauthUri: totp.uri(secret, user.email, this.deps.serviceName) };
  }

  /** Turns authenticator 2FA on with the app's first code; answers the first ten recovery codes. */
  async confirmTotpSetup(em: EntityManager, user: User, code: string, origin?: RequestOrigin): Promise<string[]> {
    if (user.twoFactorMethod) throw badRequest('Two-factor authentication is already enabled.');
    if (!user.totpPendingSecret) throw badRequest('Start the authenticator setup first.');
    const pending = user.totpPendingSecret;
    const step = await this.deps.attempts.attempt(em, user, 'SECOND_FACTOR', async () => {
      const valid = await totp.check(this.deps.box.decrypt(pending), code, null);
      if (valid === null) throw unauthenticated('The authenticator code is invalid.');
      return valid;
    });
    Object.assign(user, { twoFactorMethod: 'totp', totpSecret: pending, totpPendingSecret: null, totpLastStep: step });
    this.deps.securityLog.record(em, user, 'TWO_FACTOR_ENABLED', origin, { method: 'totp' });
    await em.flush();
    return this.issueRecoveryCodes(em, user);
  }

  /** Ten new single-use recovery codes, shown this once; the old ones stop working. Needs a second factor. */
  async regenerateRecoveryCodes(em: EntityManager, user: User, code: string): Promise<string[]> {
    if (!user.twoFactorMethod) throw badRequest('Turn on two-factor authentication first.');
    await this.check(em, user, code);
    return this.issueRecoveryCodes(em, user);
  }

  private async issueRecoveryCodes(em: EntityManager, user: User): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
      const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
      return `${chars.slice(0, 5)}-${chars.slice(5)}`;
    });
    await em.transactional(async (tx) => {
      await tx.nativeDelete(RecoveryCode, { user: user.id });
      for (const plain of codes) tx.create(RecoveryCode, { user: user.id, codeHash: this.recoveryHash(user.id, plain) });
    });
    return codes;
  }

  /**
   * Checks a second-factor code for an account with 2FA on: the authenticator code (TOTP), the emailed
   * TWO_FACTOR_AUTH code, or a recovery code in place of either. Wrong codes count towards the lockout.
   */
  async check(em: EntityManager, user: User, code: string): Promise<void> {
    await this.deps.attempts.attempt(em, user, 'SECOND_FACTOR', async () => {
      if (RECOVERY_CODE.test(code.trim().toLowerCase())) return this.useRecoveryCode(em, user, code);
      if (user.twoFactorMethod !== 'totp') return this.deps.otps.consume(em, user, 'TWO_FACTOR_AUTH', code);
      const step = await totp.check(this.deps.box.decrypt(user.totpSecret!), code, user.totpLastStep);
      // The conditional update makes a code usable once even when two requests race with it.
      const claimed = step !== null && (await em.nativeUpdate(User, { id: user.id, $or: [{ totpLastStep: null }, { totpLastStep: { $lt: step } }] }, { totpLastStep: step }));
      if (!claimed) throw unauthenticated('The authenticator code is invalid or was already used.', { is_2fa_enabled: true });
      user.totpLastStep = step;
    });
  }

  /** An emailed TWO_FACTOR_AUTH code (turning 2FA on), counted like every second-factor check. */
  private checkEmailedCode(em: EntityManager, user: User, code: string): Promise<void> {
    return this.deps.attempts.attempt(em, user, 'SECOND_FACTOR', async () => {
      await this.deps.otps.consume(em, user, 'TWO_FACTOR_AUTH', code);
    });
  }

  private async useRecoveryCode(em: EntityManager, user: User, code: string): Promise<void> {
    const hash = this.recoveryHash(user.id, code);
    // Marking it used is the check: of two concurrent uses of one code only one updates the row.
    const used = await em.nativeUpdate(RecoveryCode, { user: user.id, codeHash: hash, usedAt: null }, { usedAt: new Date() });
    if (used !== 1) throw unauthenticated('The recovery code is invalid or was already used.', { is_2fa_enabled: true });
  }

  private async dropRecoveryCodes(em: EntityManager, user: User): Promise<void> {
    await em.nativeDelete(RecoveryCode, { user: user.id });
  }

  private recoveryHash(userId: string, code: string): string {
    return this.deps.box.digest(`recovery:${userId}:${code.trim().toLowerCase().replace('-', '')}`);
  }
}
