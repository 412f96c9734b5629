import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { assertProductionReady } from './production-checks';

/** Every setting the service reads, in one place; README's configuration table mirrors this file. */
export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  serviceName: string;
  logLevel: string;
  /** Unset: the embedded PostgreSQL (PGlite) in `dataDir`. */
  databaseUrl?: string;
  /** Connections the service opens to DATABASE_URL (the ORM and the job queue share them). */
  databasePoolMax: number;
  /** How long a query waits for a pooled connection (database down, pool exhausted) before the request gets a 503. */
  databaseAcquireTimeoutMs: number;
  dataDir: string;
  jwtSecret: string;
  publicApiKey: string;
  adminApiKey?: string;
  /** Key for encrypting TOTP secrets at rest (derived from jwtSecret when unset). */
  encryptionKey: string;
  sessionDays: number;
  /** A session's "last used" time is written at most this often (not on every request). */
  sessionTouchIntervalSeconds: number;
  otpTtlMinutes: number;
  otpMaxAttempts: number;
  /** Wrong codes per account and flow (activation, password reset, second factor), across re-issued codes, before a lockout. */
  codeMaxFailures: number;
  codeLockoutMinutes: number;
  /** Mailed codes per account: the least time between two codes of one type, and the most codes an hour. */
  otpResendIntervalSeconds: number;
  otpSendsPerHour: number;
  smtpUrl?: string;
  mailFrom: string;
  mailOutboxDir: string;
  googleClientId?: string;
  googleJwksUrl: string;
  googleIssuers: string[];
  /** Cost points per caller per window (GraphQL, REST and MCP alike); 0 turns the limit off. */
  rateLimitPoints: number;
  rateLimitWindowSeconds: number;
  /** The budget of callers without credentials of their own (no key, the public key, an invalid header), per IP. */
  rateLimitAnonymousPoints: number;
  graphqlLimits: GraphQLLimitsConfig;
  trustedDocuments: TrustedDocumentsConfig;
  authRateLimitPerAccountPerMinute: number;
  authRateLimitPerIpPerMinute: number;
  redisUrl?: string;
  redisKeyPrefix: string;
  bodyLimitBytes: number;
  /**
   * Which X-Forwarded-For hops to believe (Fastify's trustProxy): false, a hop count, or proxy addresses/CIDRs.
   * `true` (every hop) lets any client choose its IP; refused in production.
   */
  trustProxy: boolean | number | string[];
  /** The whole request (headers and body) must arrive within this (0: no limit); then 408. */
  requestTimeoutMs: number;
  /** The headers must arrive within this. */
  headersTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (0: never). */
  connectionTimeoutMs: number;
  /** Open SSE task streams per user and per instance; one more is a 429. */
  sseMaxStreamsPerUser: number;
  sseMaxStreams: number;
  /** Open legacy MCP SSE sessions per API key, and in all (each holds a connection and a server in this process). */
  mcpSseMaxSessionsPerCaller: number;
  mcpSseMaxSessions: number;
  /** Open GraphQL subscriptions (over WebSocket) per user and per instance; one more is RATE_LIMITED. */
  subscriptionsMaxPerUser: number;
  subscriptionsMax: number;
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
  /** Credits one analysis costs (charged at acceptance, refunded if it finally fails). */
  agentTaskCost: number;
  /** The balance needed to start an analysis (the documented 20). */
  agentMinimumBalance: number;
  agentMaxFileBytes: number;
  agentStorageDir: string;
  /** Run the analysis worker inside the API process (default); `npm run worker` runs more elsewhere. */
  agentWorkerInProcess: boolean;
  agentWorkerConcurrency: number;
  /** Jobs fetched in one statement (at most the concurrency); a batch's slots wait for its slowest job before the next fetch, so 1 unless jobs are short and even. */
  agentWorkerBatchSize: number;
  /** Attempts after the first, with exponential backoff from agentRetryDelaySeconds. */
  agentRetryLimit: number;
  agentRetryDelaySeconds: number;
  /** A job not finished by then (e.g. its worker was killed) is retried. */
  agentJobExpireSeconds: number;
  /** A task still queued this long after it was accepted is queued again (its job may have been lost); checked as often. */
  agentStrandedAfterSeconds: number;
  /** How often the queue looks for expired jobs (and other upkeep). */
  agentQueueMaintenanceSeconds: number;
  /** Uploaded files are parsed in a worker thread with this heap and this time; past either the upload is refused as hostile. */
  agentSandboxMemoryMb: number;
  agentSandboxTimeoutMs: number;
  /** Uploads are deleted this long after their task finished (0: at the next sweep). */
  agentUploadRetentionHours: number;
  /** A mutation's answer is replayed for an idempotency key this long (the key is free again after). */
  idempotencyKeyTtlHours: number;
  /** Base URL that Checkout's success/cancel URLs and the portal's return URL are built on (the web app). */
  appUrl: string;
  creditRates: RateTier[];
  stripe: StripeConfig;
  /** /metrics on a listener of its own on this port (HOST); unset: on the main port, with metricsToken only. */
  metricsPort?: number;
  /** Bearer token for /metrics; unset and no metricsPort: /metrics is not served (404). */
  metricsToken?: string;
  /** On SIGTERM: how long in-flight requests and running jobs get before connections are closed and jobs handed back. */
  shutdownGraceSeconds: number;
}

/** Checked on every /graphql document before it runs; 0 turns a limit off. */
export interface GraphQLLimitsConfig {
  maxTokens: number;
  maxAliases: number;
  maxDepth: number;
  maxDirectives: number;
  maxRootFields: number;
  /** The largest cost one operation may have (see src/graphql/cost.ts). */
  maxCost: number;
  /** The same for callers without credentials of their own, who may also only call the fields open to them. */
  anonymousMaxCost: number;
  /** Off in production unless asked for: introspection, "did you mean" hints, the GraphiQL page. */
  introspection: boolean;
  suggestions: boolean;
  graphiql: boolean;
}

/**
 * Operations sent by id from the SDK's trusted-documents manifest (src/graphql/trusted-documents.ts): `off` (no
 * persisted queries), `allow` (ids and any text), `only` (the manifest's operations only; REST and MCP unaffected).
 */
export interface TrustedDocumentsConfig {
  mode: 'off' | 'allow' | 'only';
  /** Apollo persisted-query manifests: the SDK's sdk/persisted-query-manifest.json by default, and any a native app generates. */
  manifestPaths: string[];
}

/** Credits are sold in tiers: an amount between the limits (USD, inclusive) buys `rate` credits per USD. */
export interface RateTier { lowerLimit: number; upperLimit: number; rate: number }

export interface StripeConfig {
  /**
   * No STRIPE_SECRET_KEY: the project's local Stripe server (src/credits/local-stripe) is started in-process
   * and the service talks to it. Never true when a key is configured.
   */
  local: boolean;
  secretKey: string;
  webhookSecret: string;
  apiHost?: string;
  apiPort?: number;
  apiProtocol?: 'http' | 'https';
  currency: string;
  /** How old (seconds) a webhook signature may be before it is refused. */
  webhookToleranceSeconds: number;
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
  if (mode === 'production') assertProductionReady(env);
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
    databasePoolMax: Math.max(1, int(env, 'DATABASE_POOL_MAX', 10)),
    databaseAcquireTimeoutMs: Math.max(100, int(env, 'DATABASE_ACQUIRE_TIMEOUT_MS', 5000)),
    dataDir,
    jwtSecret,
    publicApiKey: required('PUBLIC_API_KEY', () => 'clara_public_dev_key'),
    adminApiKey: env.ADMIN_API_KEY || undefined,
    encryptionKey: env.ENCRYPTION_KEY || jwtSecret,
    sessionDays: int(env, 'SESSION_DAYS', 7),
    sessionTouchIntervalSeconds: int(env, 'SESSION_TOUCH_INTERVAL_SECONDS', 300),
    otpTtlMinutes: int(env, 'OTP_TTL_MINUTES', 10),
    otpMaxAttempts: int(env, 'OTP_MAX_ATTEMPTS', 5),
    codeMaxFailures: Math.max(1, int(env, 'CODE_MAX_FAILURES', 5)),
    codeLockoutMinutes: int(env, 'CODE_LOCKOUT_MINUTES', 15),
    otpResendIntervalSeconds: int(env, 'OTP_RESEND_INTERVAL_SECONDS', 60),
    otpSendsPerHour: int(env, 'OTP_SENDS_PER_HOUR', 5),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? 'Clara <no-reply@clara.local>',
    mailOutboxDir: env.MAIL_OUTBOX_DIR ?? join(dataDir, 'outbox'),
    googleClientId: env.GOOGLE_CLIENT_ID || undefined,
    googleJwksUrl: env.GOOGLE_JWKS_URL ?? 'https://www.googleapis.com/oauth2/v3/certs',
    googleIssuers: (env.GOOGLE_ISSUERS ?? 'https://accounts.google.com,accounts.google.com').split(','),
    ...rateLimitConfig(env),
    graphqlLimits: graphqlLimitsConfig(env, mode),
    trustedDocuments: trustedDocumentsConfig(env),
    authRateLimitPerAccountPerMinute: int(env, 'AUTH_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE', 10),
    authRateLimitPerIpPerMinute: int(env, 'AUTH_RATE_LIMIT_PER_IP_PER_MINUTE', 60),
    redisUrl: env.REDIS_URL || undefined,
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? 'clara',
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024),
    trustProxy: trustProxy(env.TRUST_PROXY),
    ...serverTimeouts(env),
    sseMaxStreamsPerUser: int(env, 'SSE_MAX_STREAMS_PER_USER', 5),
    sseMaxStreams: int(env, 'SSE_MAX_STREAMS', 1000),
    mcpSseMaxSessionsPerCaller: int(env, 'MCP_SSE_MAX_SESSIONS_PER_CALLER', 5),
    mcpSseMaxSessions: int(env, 'MCP_SSE_MAX_SESSIONS', 200),
    subscriptionsMaxPerUser: int(env, 'SUBSCRIPTIONS_MAX_PER_USER', 20),
    subscriptionsMax: int(env, 'SUBSCRIPTIONS_MAX', 10_000),
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
    agentTaskCost: int(env, 'AGENT_TASK_COST', 20),
    agentMinimumBalance: int(env, 'AGENT_MINIMUM_BALANCE', 20),
    agentMaxFileBytes: int(env, 'AGENT_MAX_FILE_BYTES', 10 * 1024 * 1024),
    agentStorageDir: env.AGENT_STORAGE_DIR ?? join(dataDir, 'uploads'),
    agentWorkerInProcess: (env.AGENT_WORKER_IN_PROCESS ?? 'true') !== 'false',
    agentWorkerConcurrency: Math.max(1, int(env, 'AGENT_WORKER_CONCURRENCY', 2)),
    agentWorkerBatchSize: Math.max(1, int(env, 'AGENT_WORKER_BATCH_SIZE', 1)),
    agentRetryLimit: int(env, 'AGENT_RETRY_LIMIT', 3),
    agentRetryDelaySeconds: int(env, 'AGENT_RETRY_DELAY_SECONDS', 5),
    agentJobExpireSeconds: Math.max(1, int(env, 'AGENT_JOB_EXPIRE_SECONDS', 300)),
    agentQueueMaintenanceSeconds: Math.max(1, int(env, 'AGENT_QUEUE_MAINTENANCE_SECONDS', 30)),
    agentStrandedAfterSeconds: Math.max(1, int(env, 'AGENT_STRANDED_AFTER_SECONDS', 30)),
    agentSandboxMemoryMb: Math.max(16, int(env, 'AGENT_SANDBOX_MEMORY_MB', 256)),
    agentSandboxTimeoutMs: Math.max(1, int(env, 'AGENT_SANDBOX_TIMEOUT_MS', 30_000)),
    agentUploadRetentionHours: int(env, 'AGENT_UPLOAD_RETENTION_HOURS', 24),
    idempotencyKeyTtlHours: Math.max(1, int(env, 'IDEMPOTENCY_KEY_TTL_HOURS', 24)),
    appUrl: env.APP_URL ?? `http://${env.HOST ?? '127.0.0.1'}:${env.PORT ?? 3000}`,
    creditRates: creditRates(env.CREDIT_RATES),
    stripe: stripeConfig(env, mode, dataDir),
    metricsPort: env.METRICS_PORT ? int(env, 'METRICS_PORT', 0) : undefined,
    metricsToken: env.METRICS_TOKEN || undefined,
    shutdownGraceSeconds: int(env, 'SHUTDOWN_GRACE_SECONDS', 25),
  };
}

/**
 * Budgets in cost points per window. RATE_LIMIT_PER_SECOND, the older per-request setting, still works when
 * RATE_LIMIT_POINTS is unset: that many points per one-second window.
 */
function rateLimitConfig(env: Env): Pick<Config, 'rateLimitPoints' | 'rateLimitWindowSeconds' | 'rateLimitAnonymousPoints'> {
  const legacy = env.RATE_LIMIT_POINTS === undefined && env.RATE_LIMIT_PER_SECOND !== undefined;
  const points = legacy ? int(env, 'RATE_LIMIT_PER_SECOND', 0) : int(env, 'RATE_LIMIT_POINTS', 6000);
  return {
    rateLimitPoints: points,
    rateLimitWindowSeconds: legacy ? 1 : Math.max(1, int(env, 'RATE_LIMIT_WINDOW_SECONDS', 60)),
    rateLimitAnonymousPoints: int(env, 'RATE_LIMIT_ANONYMOUS_POINTS', legacy ? points : Math.min(points, 600)),
  };
}

function graphqlLimitsConfig(env: Env, mode: Config['env']): GraphQLLimitsConfig {
  const flag = (name: string) => (env[name] === undefined || env[name] === '' ? mode !== 'production' : env[name] === 'true');
  return {
    maxTokens: int(env, 'GRAPHQL_MAX_TOKENS', 1000),
    maxAliases: int(env, 'GRAPHQL_MAX_ALIASES', 15),
    maxDepth: int(env, 'GRAPHQL_MAX_DEPTH', 8),
    maxDirectives: int(env, 'GRAPHQL_MAX_DIRECTIVES', 20),
    maxRootFields: int(env, 'GRAPHQL_MAX_ROOT_FIELDS', 10),
    maxCost: int(env, 'GRAPHQL_MAX_COST', 1000),
    anonymousMaxCost: int(env, 'GRAPHQL_ANONYMOUS_MAX_COST', 100),
    introspection: flag('GRAPHQL_INTROSPECTION'),
    suggestions: flag('GRAPHQL_SUGGESTIONS'),
    graphiql: flag('GRAPHIQL'),
  };
}

/** Default `allow`: apps send the manifest's operations by id, and the documented API (curl, GraphiQL, API-key integrations) keeps taking any document. */
function trustedDocumentsConfig(env: Env): TrustedDocumentsConfig {
  const mode = env.GRAPHQL_TRUSTED_DOCUMENTS || 'allow';
  if (mode !== 'off' && mode !== 'allow' && mode !== 'only') throw new Error('GRAPHQL_TRUSTED_DOCUMENTS must be off, allow or only');
  // dist/src/core → the repository root, where the SDK package lies.
  const paths = (env.GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST ?? '').split(',').map((path) => path.trim()).filter(Boolean);
  return { mode, manifestPaths: paths.length ? paths : [join(__dirname, '..', '..', '..', 'sdk', 'persisted-query-manifest.json')] };
}

/**
 * TRUST_PROXY: `false` (default), a hop count (`1`: one proxy in front; the client is the address it reports),
 * or a comma-separated list of proxy addresses/CIDRs (e.g. `10.0.0.0/8,127.0.0.1`). `true` trusts every hop.
 */
function trustProxy(raw: string | undefined): Config['trustProxy'] {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const proxies = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const proxy of proxies) {
    const [address, bits, extra] = proxy.split('/');
    const named = ['loopback', 'linklocal', 'uniquelocal'].includes(address) && bits === undefined;
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (isIP(address) === 6 ? 128 : 32));
    if (!named && (!isIP(address) || !validBits || extra !== undefined)) {
      throw new Error(`TRUST_PROXY must be false, a number of proxy hops, or proxy addresses/CIDRs; '${proxy}' is none of these`);
    }
  }
  return proxies;
}

/** Node answers 408 to a request still arriving after requestTimeout; headersTimeout may not exceed it. */
function serverTimeouts(env: Env): Pick<Config, 'requestTimeoutMs' | 'headersTimeoutMs' | 'connectionTimeoutMs'> {
  const requestTimeoutMs = int(env, 'REQUEST_TIMEOUT_MS', 120_000);
  const headersTimeoutMs = int(env, 'HEADERS_TIMEOUT_MS', 20_000);
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) throw new Error('HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS');
  return { requestTimeoutMs, headersTimeoutMs, connectionTimeoutMs: int(env, 'CONNECTION_TIMEOUT_MS', 60_000) };
}

/** CREDIT_RATES: JSON `[{"lower_limit": 5, "upper_limit": 10000, "rate": 100}, ...]` (USD, credits per USD). */
function creditRates(raw: string | undefined): RateTier[] {
  if (!raw) return [{ lowerLimit: 5, upperLimit: 10000, rate: 100 }];
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error('CREDIT_RATES must be a non-empty JSON array');
  return parsed.map((tier: Record<string, unknown>) => {
    const { lower_limit: lowerLimit, upper_limit: upperLimit, rate } = tier;
    const valid = typeof lowerLimit === 'number' && typeof upperLimit === 'number' && lowerLimit > 0 && upperLimit >= lowerLimit
      && Number.isInteger(lowerLimit * 100) && Number.isInteger(upperLimit * 100) && Number.isInteger(rate) && (rate as number) > 0;
    if (!valid) throw new Error('CREDIT_RATES: each tier needs 0 < lower_limit <= upper_limit (USD, whole cents) and a positive integer rate');
    return { lowerLimit, upperLimit, rate: rate as number };
  });
}

function stripeConfig(env: Env, mode: Config['env'], dataDir: string): StripeConfig {
  const secretKey = env.STRIPE_SECRET_KEY || undefined;
  if (!secretKey && mode === 'production') throw new Error('STRIPE_SECRET_KEY must be set in production');
  if (secretKey && !env.STRIPE_WEBHOOK_SECRET) throw new Error('STRIPE_WEBHOOK_SECRET must be set with STRIPE_SECRET_KEY');
  const protocol = env.STRIPE_API_PROTOCOL;
  if (protocol && protocol !== 'http' && protocol !== 'https') throw new Error('STRIPE_API_PROTOCOL must be http or https');
  return {
    local: !secretKey,
    secretKey: secretKey ?? 'sk_test_local_stripe',
    webhookSecret: env.STRIPE_WEBHOOK_SECRET || (secretKey ? '' : `whsec_${devSecret(dataDir, 'STRIPE_WEBHOOK_SECRET')}`),
    apiHost: env.STRIPE_API_HOST || undefined,
    apiPort: env.STRIPE_API_PORT ? int(env, 'STRIPE_API_PORT', 443) : undefined,
    apiProtocol: protocol as StripeConfig['apiProtocol'],
    currency: (env.STRIPE_CURRENCY ?? 'usd').toLowerCase(),
    webhookToleranceSeconds: int(env, 'STRIPE_WEBHOOK_TOLERANCE_SECONDS', 300),
  };
}
