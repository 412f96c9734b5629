import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { budget } from '../auth/rate-limits';
import { DomainError } from '../core/errors';
import type { OtpType } from './otp.entity';

/**
 * How often codes may be mailed to one account: one code of a type per interval, and a cap per hour over
 * all types, so nobody can flood a mailbox or farm fresh codes. Zero turns a limit off.
 */
export class CodeSendLimits {
  private readonly perType: RateLimiterAbstract | null;
  private readonly perHour: RateLimiterAbstract | null;

  constructor(options: { intervalSeconds: number; perHour: number; redis?: Redis; keyPrefix: string }) {
    this.perType = options.intervalSeconds > 0 ? budget(options, 'otp-send-type', 1, options.intervalSeconds) : null;
    this.perHour = options.perHour > 0 ? budget(options, 'otp-send-hour', options.perHour, 3600) : null;
  }

  /** Charges one mailed code to the account, or refuses with 429. */
  async consume(userId: string, type: OtpType): Promise<void> {
    try {
      if (this.perType) await this.perType.consume(`${userId}:${type}`);
      if (this.perHour) await this.perHour.consume(userId);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new DomainError('RATE_LIMITED', `A code was sent to this account recently; ask for a new one in ${seconds} s.`, { retry_after_seconds: seconds });
    }
  }

  /** Gives back a charge whose mail could not be sent: a code that never left does not hold back the next one. */
  async refund(userId: string, type: OtpType): Promise<void> {
    await Promise.all([this.perType?.reward(`${userId}:${type}`, 1), this.perHour?.reward(userId, 1)]);
  }
}
