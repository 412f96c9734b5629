/**
 * What production refuses to start with: development defaults and guessable secrets that are harmless on a
 * laptop and dangerous on the internet. Every problem is named by its setting, all at once, so one restart
 * fixes them all.
 */
type Env = Record<string, string | undefined>;

/** Values from samples, tutorials and this project's own dev and test setup: public knowledge, never secrets. */
const KNOWN_DEV_SECRETS = new Set([
  'secret', 'changeme', 'change-me', 'change_me', 'password', 'development', 'dev', 'test', 'jwt-secret', 'jwt_secret',
  'your-256-bit-secret', 'your_jwt_secret', 'supersecret', 'clara_public_dev_key',
  'test-jwt-secret-that-is-long-enough-1234567890', 'test_admin_api_key',
]);

export const MIN_SECRET_LENGTH = 32;
/** The public key ships inside client apps (it is not a secret), so it only needs to be the deployment's own. */
export const MIN_PUBLIC_KEY_LENGTH = 16;
/**
 * Shannon estimate over the characters actually used: `openssl rand -base64 32` scores ~200, 32 random hex digits
 * ~120, a repeated word under 90.
 */
const MIN_SECRET_BITS = 100;

export class ProductionConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Refusing to start in production:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ProductionConfigError';
  }
}

/** Throws a ProductionConfigError listing every unsafe setting. */
export function assertProductionReady(env: Env): void {
  const problems: string[] = [];
  const jwtSecret = env.JWT_SECRET;
  problems.push(...secretProblems('JWT_SECRET', jwtSecret));

  const publicKey = env.PUBLIC_API_KEY;
  if (!publicKey) problems.push('PUBLIC_API_KEY must be set (the development key is public).');
  else if (isKnownDevValue(publicKey)) problems.push('PUBLIC_API_KEY is a development default; choose your own.');
  else if (publicKey.length < MIN_PUBLIC_KEY_LENGTH) problems.push(`PUBLIC_API_KEY is too short (at least ${MIN_PUBLIC_KEY_LENGTH} characters).`);

  // Optional (admin off when unset), but a bare key that opens every account must not be guessable.
  if (env.ADMIN_API_KEY) problems.push(...secretProblems('ADMIN_API_KEY', env.ADMIN_API_KEY));
  // The same for the token that opens /metrics on the main port.
  if (env.METRICS_TOKEN) problems.push(...secretProblems('METRICS_TOKEN', env.METRICS_TOKEN));

  const encryptionKey = env.ENCRYPTION_KEY;
  if (!encryptionKey) problems.push('ENCRYPTION_KEY must be set (its own secret, not JWT_SECRET).');
  else if (encryptionKey === jwtSecret) problems.push('ENCRYPTION_KEY must differ from JWT_SECRET (one leaked secret must not open both).');
  else problems.push(...secretProblems('ENCRYPTION_KEY', encryptionKey));

  if (!env.DATABASE_URL) problems.push('DATABASE_URL must be set (the embedded database is for development).');
  if (!env.SMTP_URL) problems.push('SMTP_URL must be set (without it mails only reach the local outbox folder).');
  if (!env.STRIPE_SECRET_KEY) problems.push('STRIPE_SECRET_KEY must be set in production (the local Stripe server is for development).');
  if (env.TRUST_PROXY === 'true') problems.push('TRUST_PROXY=true trusts every X-Forwarded-For hop (clients pick their own IP); set the number of proxies or their addresses.');
  if (env.MCP_API_KEY_TOKEN || env.MCP_USER_ID) problems.push('MCP_API_KEY_TOKEN / MCP_USER_ID are for a local single-user machine; MCP clients send their own credentials in production.');
  if (problems.length) throw new ProductionConfigError(problems);
}

function secretProblems(name: string, value: string | undefined): string[] {
  if (!value) return [`${name} must be set.`];
  if (isKnownDevValue(value)) return [`${name} is a known development or sample value.`];
  if (value.length < MIN_SECRET_LENGTH) return [`${name} is too short (at least ${MIN_SECRET_LENGTH} random characters, e.g. \`openssl rand -base64 32\`).`];
  if (entropyBits(value) < MIN_SECRET_BITS) return [`${name} is too predictable (repeated characters or a pattern); use random bytes, e.g. \`openssl rand -base64 32\`.`];
  return [];
}

function isKnownDevValue(value: string): boolean {
  return KNOWN_DEV_SECRETS.has(value.trim().toLowerCase());
}

/** Length times the Shannon entropy of the character distribution: low for repeats and short alphabets. */
function entropyBits(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  const length = [...value].length;
  let perChar = 0;
  for (const count of counts.values()) perChar -= (count / length) * Math.log2(count / length);
  return perChar * length;
}
