import { randomInt } from 'node:crypto';
import { raw, type EntityManager } from '@mikro-orm/postgresql';
import { unauthenticated } from '../core/errors';
import { safeEqual, type SecretBox } from '../auth/secret-box';
import { Otp, type OtpType } from './otp.entity';
import type { User } from './user.entity';

const INVALID_CODE = 'The code is invalid or has expired.';

/** Six-digit one-time codes: hashed at rest, expiring, single-use, with a bounded number of attempts. */
export class OtpService {
  constructor(
    private readonly box: SecretBox,
    private readonly options: { ttlMinutes: number; maxAttempts: number },
  ) {}

  /**
   * Issues a new code of this type for the user, replacing any earlier one; returns the plain code to send.
   * An ACTIVATION code may carry the sign-up it was sent for.
   */
  async issue(em: EntityManager, user: User, type: OtpType, registrationId: string | null = null): Promise<string> {
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    await em.transactional(async (tx) => {
      await tx.nativeDelete(Otp, { user: user.id, type });
      tx.create(Otp, {
        user: user.id,
        type,
        codeHash: this.hash(user.id, type, code),
        expiresAt: new Date(Date.now() + this.options.ttlMinutes * 60_000),
        registration: registrationId,
      });
    });
    return code;
  }

  /**
   * Consumes the code if it is right; every wrong try counts, and the code dies at the limit or on use.
   * Returns the id of the sign-up an ACTIVATION code was sent for, if any.
   */
  async consume(em: EntityManager, user: User, type: OtpType, code: string): Promise<string | null> {
    const otp = await em.findOne(Otp, { user: user.id, type }, { disableIdentityMap: true });
    if (!otp) throw unauthenticated(INVALID_CODE);
    if (otp.expiresAt.getTime() <= Date.now() || otp.attempts >= this.options.maxAttempts) {
      await em.nativeDelete(Otp, { id: otp.id });
      throw unauthenticated(INVALID_CODE);
    }
    if (!/^\d{6}$/.test(code) || !safeEqual(otp.codeHash, this.hash(user.id, type, code))) {
      await em.nativeUpdate(Otp, { id: otp.id }, { attempts: raw('attempts + 1') });
      throw unauthenticated(INVALID_CODE);
    }
    // Deleting is the "use": of two concurrent correct submissions only one deletes the row.
    const deleted = await em.nativeDelete(Otp, { id: otp.id });
    if (deleted !== 1) throw unauthenticated(INVALID_CODE);
    return otp.registration?.id ?? null;
  }

  private hash(userId: string, type: OtpType, code: string): string {
    return this.box.digest(`otp:${userId}:${type}:${code}`);
  }
}
