import { createServer, type Server } from 'node:http';
import { after, before } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const GOOGLE_CLIENT_ID = 'clara-test.apps.googleusercontent.com';

/** A stand-in for Google's issuer: serves a JWKS over HTTP and signs ID tokens with the matching key. */
export class GoogleIssuer {
  private server!: Server;
  private privateKey!: CryptoKey;
  private jwk!: JWK;
  jwksUrl = '';
  requests = 0;

  async start(): Promise<this> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    this.privateKey = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    this.server = createServer((_req, res) => {
      this.requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [this.jwk] }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.jwksUrl = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/oauth2/v3/certs`;
    return this;
  }

  /** An ID token as Google issues it with `claims`; `key` signs with another key; times are jose's (`'-2h'`: two hours ago). */
  async idToken(claims: Record<string, unknown>, options: { audience?: string; issuer?: string; issuedAt?: string; expiresIn?: string; key?: CryptoKey; omit?: ('iat' | 'exp')[] } = {}): Promise<string> {
    const jwt = new SignJWT({ email_verified: true, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .setIssuer(options.issuer ?? 'https://accounts.google.com')
      .setAudience(options.audience ?? GOOGLE_CLIENT_ID);
    if (!options.omit?.includes('iat')) jwt.setIssuedAt(options.issuedAt);
    if (!options.omit?.includes('exp')) jwt.setExpirationTime(options.expiresIn ?? '1h');
    return jwt.sign(options.key ?? this.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A suite's Google issuer and the app it is set up for: before the suite's tests, starts the issuer, then the app
 * from `startApp` with the settings that make it trust that issuer; after them, stops the app, then the issuer.
 */
export function useGoogleIssuer(startApp: (env: { GOOGLE_CLIENT_ID: string; GOOGLE_JWKS_URL: string }) => Promise<{ stop(): Promise<void> }>): GoogleIssuer {
  const google = new GoogleIssuer();
  let app: { stop(): Promise<void> } | undefined;
  before(async () => {
    await google.start();
    app = await startApp({ GOOGLE_CLIENT_ID, GOOGLE_JWKS_URL: google.jwksUrl });
  });
  after(async () => {
    await app?.stop();
    await google.close();
  });
  return google;
}
