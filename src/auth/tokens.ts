import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const USER_TOKEN_PREFIX = 'clara_user_';
export const API_KEY_TOKEN_PREFIX = 'clara_api_';

export interface UserTokenClaims { sub: string; role: 'user'; sid: string }
export interface ApiKeyTokenClaims { sub: string; role: 'api_key'; jti: string }

/**
 * Signs and reads Clara's two bearer tokens. Only HS256 with the configured secret is accepted, so
 * `alg: none` or a token signed with another key fails verification.
 */
export class TokenService {
  /**
   * Tokens already verified, with their claims: every request carries one, and checking the signature is
   * the costliest step of reading it. Holds only what the token itself proves (never whether its session
   * or key is still live, which is read from the database on each request); bounded, oldest out first.
   */
  private readonly verified = new Map<string, { claims: UserTokenClaims | ApiKeyTokenClaims; expiresAtMs: number }>();

  /** A KeyObject, not a string: jsonwebtoken otherwise tries (and fails) to parse the secret as a public key on every verify. */
  private readonly secret: KeyObject;

  constructor(
    secret: string,
    private readonly maxVerified = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.secret = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** `issuedAt` and `expiresAt` come from the session, so exp − iat is exactly its lifetime. */
  signUserToken(userId: string, sessionId: string, expiresAt: Date, issuedAt: Date): string {
    const exp = Math.floor(expiresAt.getTime() / 1000);
    const iat = Math.floor(issuedAt.getTime() / 1000);
    return USER_TOKEN_PREFIX + jwt.sign({ sub: userId, role: 'user', sid: sessionId, iat, exp }, this.secret, { algorithm: 'HS256' });
  }

  /** Deterministic (no iat): the same key id always yields the same token, so it can be shown again. */
  signApiKeyToken(userId: string, apiKeyId: string): string {
    return API_KEY_TOKEN_PREFIX + jwt.sign({ sub: userId, role: 'api_key', jti: apiKeyId }, this.secret, { algorithm: 'HS256', noTimestamp: true });
  }

  /** Returns the claims of a valid token, or null for anything forged, expired, malformed or of an unknown kind. */
  read(token: string): UserTokenClaims | ApiKeyTokenClaims | null {
    const known = this.verified.get(token);
    // jsonwebtoken's rule: expired once the current second reaches `exp`.
    if (known && Math.floor(this.now() / 1000) * 1000 < known.expiresAtMs) return known.claims;
    if (known) this.verified.delete(token);
    const verified = this.verify(token);
    if (!verified) return null;
    if (this.verified.size >= this.maxVerified) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, verified);
    return verified.claims;
  }

  /** When a valid token expires (ms since the epoch; Infinity for API keys); null when it is not valid. */
  expiresAtMs(token: string): number | null {
    return this.read(token) ? (this.verified.get(token)?.expiresAtMs ?? null) : null;
  }

  private verify(token: string): { claims: UserTokenClaims | ApiKeyTokenClaims; expiresAtMs: number } | null {
    const prefix = token.startsWith(USER_TOKEN_PREFIX) ? 'user' : token.startsWith(API_KEY_TOKEN_PREFIX) ? 'api_key' : null;
    if (!prefix) return null;
    const raw = token.slice(prefix === 'user' ? USER_TOKEN_PREFIX.length : API_KEY_TOKEN_PREFIX.length);
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(raw, this.secret, { algorithms: ['HS256'], clockTimestamp: Math.floor(this.now() / 1000) });
    } catch {
      return null;
    }
    if (typeof claims !== 'object' || typeof claims.sub !== 'string' || claims.role !== prefix) return null;
    const expiresAtMs = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
    if (prefix === 'user') return typeof claims.sid === 'string' ? { claims: { sub: claims.sub, role: 'user', sid: claims.sid }, expiresAtMs } : null;
    return typeof claims.jti === 'string' ? { claims: { sub: claims.sub, role: 'api_key', jti: claims.jti }, expiresAtMs } : null;
  }
}
