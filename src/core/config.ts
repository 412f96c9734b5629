import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every setting the service reads, in one place; README's configuration table mirrors this file. */
export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  serviceName: string;
  logLevel: string;
  /** Unset: the embedded PostgreSQL (PGlite) in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  jwtSecret: string;
  publicApiKey: string;
  adminApiKey?: string;
  /** Key for encrypting TOTP secrets at rest (derived from jwtSecret when unset). */
  encryptionKey: string;
  sessionDays: number;
  otpTtlMinutes: number;
  otpMaxAttempts: number;
  smtpUrl?: string;
  mailFrom: string;
  mailOutboxDir: string;
  googleClientId?: string;
  googleJwksUrl: string;
  googleIssuers: string[];
  rateLimitPerSecond: number;
  authRateLimitPerAccountPerMinute: number;
  authRateLimitPerIpPerMinute: number;
  redisUrl?: string;
  redisKeyPrefix: string;
  bodyLimitBytes: number;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  /** Any server speaking OpenAI's chat-completions protocol; unset: the built-in local analyzer. */
  agentOpenAiBaseUrl?: string;
  agentOpenAiApiKey?: string;
  agentModel: string;
  /** How long one model request may take before it is abandoned (and retried by the queue). */
  agentTimeoutMs: number;
  /**
   * A local single-user MCP deployment: the API key token and user id used for MCP requests that send no
   * Authorization header. Set both or neither.
   */
  mcpApiKeyToken?: string;
  mcpUserId?: string;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

/**
 * Development convenience: secrets that must survive restarts (so tokens stay valid) are generated once
 * and kept in the data folder. Production refuses to start without them.
 */
function devSecret(dataDir: string, name: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'dev-secrets.json');
  const secrets: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  if (!secrets[name]) {
    secrets[name] = randomBytes(32).toString('base64url');
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets[name];
}

export function loadConfig(env: Env = process.env): Config {
  const mode = (env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development') as Config['env'];
  const dataDir = env.DATA_DIR ?? join(process.cwd(), '.data');
  const required = (name: string, devFallback: () => string): string => {
    const value = env[name];
    if (value) return value;
    if (mode === 'production') throw new Error(`${name} must be set in production`);
    return devFallback();
  };
  const jwtSecret = required('JWT_SECRET', () => devSecret(dataDir, 'JWT_SECRET'));
  const mcpApiKeyToken = env.MCP_API_KEY_TOKEN || undefined;
  const mcpUserId = env.MCP_USER_ID || undefined;
  if (!mcpApiKeyToken !== !mcpUserId) throw new Error('MCP_API_KEY_TOKEN and MCP_USER_ID must be set together');
  return {
    env: mode,
    host: env.HOST ?? '127.0.0.1',
    port: int(env, 'PORT', 3000),
    serviceName: env.SERVICE_NAME ?? 'clara',
    logLevel: env.LOG_LEVEL ?? (mode === 'test' ? 'silent' : 'info'),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    jwtSecret,
    publicApiKey: required('PUBLIC_API_KEY', () => 'clara_public_dev_key'),
    adminApiKey: env.ADMIN_API_KEY || undefined,
    encryptionKey: env.ENCRYPTION_KEY || jwtSecret,
    sessionDays: int(env, 'SESSION_DAYS', 7),
    otpTtlMinutes: int(env, 'OTP_TTL_MINUTES', 10),
    otpMaxAttempts: int(env, 'OTP_MAX_ATTEMPTS', 5),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? 'Clara <no-reply@clara.local>',
    mailOutboxDir: env.MAIL_OUTBOX_DIR ?? join(dataDir, 'outbox'),
    googleClientId: env.GOOGLE_CLIENT_ID || undefined,
    googleJwksUrl: env.GOOGLE_JWKS_URL ?? 'https://www.googleapis.com/oauth2/v3/certs',
    googleIssuers: (env.GOOGLE_ISSUERS ?? 'https://accounts.google.com,accounts.google.com').split(','),
    rateLimitPerSecond: int(env, 'RATE_LIMIT_PER_SECOND', 10),
    authRateLimitPerAccountPerMinute: int(env, 'AUTH_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE', 10),
    authRateLimitPerIpPerMinute: int(env, 'AUTH_RATE_LIMIT_PER_IP_PER_MINUTE', 60),
    redisUrl: env.REDIS_URL || undefined,
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? 'clara',
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024),
    argon2: {
      memoryCost: int(env, 'ARGON2_MEMORY_KIB', 19456),
      timeCost: int(env, 'ARGON2_TIME_COST', 2),
      parallelism: int(env, 'ARGON2_PARALLELISM', 1),
    },
    agentOpenAiBaseUrl: env.AGENT_OPENAI_BASE_URL || undefined,
    agentOpenAiApiKey: env.AGENT_OPENAI_API_KEY || undefined,
    agentModel: env.AGENT_MODEL || 'gpt-4o-mini',
    agentTimeoutMs: int(env, 'AGENT_TIMEOUT_MS', 60_000),
    mcpApiKeyToken,
    mcpUserId,
  };
}
