import { generateSecret, generateURI, verify } from 'otplib';

const PERIOD_SECONDS = 30;

/** Authenticator-app codes (RFC 6238, 30 s steps, one step of clock drift allowed either way). */
export const totp = {
  newSecret: (): string => generateSecret(),

  uri: (secret: string, accountName: string, issuer: string): string => generateURI({ issuer, label: accountName, secret }),

  /**
   * Returns the time step of a valid code, or null. `afterStep` rejects a code from a step already used,
   * so the same code is never accepted twice.
   */
  async check(secret: string, code: string, afterStep: number | null | undefined): Promise<number | null> {
    if (!/^\d{6}$/.test(code)) return null;
    const result = await verify({
      secret,
      token: code,
      epochTolerance: PERIOD_SECONDS,
      ...(afterStep != null ? { afterTimeStep: afterStep } : {}),
    }).catch(() => null);
    if (!result?.valid) return null;
    return 'timeStep' in result && typeof result.timeStep === 'number' ? result.timeStep : Math.floor(Date.now() / 1000 / PERIOD_SECONDS);
  },
};
