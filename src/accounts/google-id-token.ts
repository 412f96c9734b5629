import { createRemoteJWKSet, jwtVerify } from 'jose';
import { badRequest, unauthenticated } from '../core/errors';

export interface GoogleIdentity { googleId: string; email: string; firstName: string; lastName: string | null }

/**
 * Verifies a Google ID token: RS256 signature against the issuer's JWKS (fetched and cached by jose),
 * audience = our client id, issuer = Google, not expired, and a verified email. `exp`, `iat`, `sub` and
 * `email` must be present: a token without an expiry would otherwise be accepted forever.
 */
export class GoogleIdTokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly options: { clientId?: string; jwksUrl: string; issuers: string[] }) {
    this.jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  }

  async verify(idToken: string): Promise<GoogleIdentity> {
    if (!this.options.clientId) throw badRequest('Google sign-in is not configured on this server.');
    let payload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks, {
        audience: this.options.clientId,
        issuer: this.options.issuers,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'iat', 'sub', 'email'],
      }));
    } catch {
      throw unauthenticated('The Google ID token is invalid or has expired.');
    }
    const email = typeof payload.email === 'string' ? payload.email.toLowerCase() : '';
    if (!payload.sub || !email || payload.email_verified !== true) {
      throw unauthenticated('The Google account has no verified email.');
    }
    const given = typeof payload.given_name === 'string' ? payload.given_name : undefined;
    const name = typeof payload.name === 'string' ? payload.name : email.split('@')[0];
    return {
      googleId: payload.sub,
      email,
      firstName: given ?? name,
      lastName: typeof payload.family_name === 'string' ? payload.family_name : null,
    };
  }
}
