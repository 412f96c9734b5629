import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { AccountsService } from '../accounts/accounts.service';
import { CodeAttempts } from '../accounts/code-attempts';
import { CodeSendLimits } from '../accounts/code-send-limits';
import { TwoFactorService } from '../accounts/two-factor.service';
import { AdminService } from '../admin/admin.service';
import { createAnalysisQueue } from '../agent/analysis-queue';
import { sharedPoolExecutor } from '../database/shared-pool';
import { createAnalysisProvider } from '../agent/create-provider';
import { FileSandbox } from '../agent/file-sandbox';
import { TasksService } from '../agent/tasks.service';
import { UploadStorage } from '../agent/upload-storage';
import { UploadsService } from '../agent/uploads.service';
import { GoogleIdTokenVerifier } from '../accounts/google-id-token';
import { OtpService } from '../accounts/otp.service';
import { SessionsService } from '../accounts/sessions.service';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { CallerResolver } from '../auth/caller';
import { PasswordHasher } from '../auth/passwords';
import { RateLimits } from '../auth/rate-limits';
import { SecretBox } from '../auth/secret-box';
import { TokenService } from '../auth/tokens';
import type { Config } from '../core/config';
import { CreditsService } from '../credits/credits.service';
import { PurchasesService } from '../credits/purchases.service';
import { StripeService } from '../credits/stripe.service';
import { Mailer } from '../mail/mailer';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { SecurityLog } from '../security-log/security-log.service';
import { SecurityNotices } from '../security-log/security-notices';
import { SystemService } from '../system/system.service';
import { EventBus } from '../events/event-bus';
import { Lifecycle } from '../observability/lifecycle';
import { Metrics } from '../observability/metrics';
import { connectRedis } from './redis';

/** The composition root: every domain service, built once per process from the configuration. */
export function createServices(config: Config, orm: MikroORM, log: Logger) {
  const metrics = new Metrics();
  const lifecycle = new Lifecycle();
  const box = new SecretBox(config.encryptionKey);
  const tokens = new TokenService(config.jwtSecret);
  const mailer = new Mailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: config.mailOutboxDir }, log);
  const securityLog = new SecurityLog();
  const notices = new SecurityNotices({ mailer, serviceName: config.serviceName, log });
  const sessions = new SessionsService({ securityLog, touchIntervalSeconds: config.sessionTouchIntervalSeconds });
  const apiKeys = new ApiKeysService(tokens, { securityLog, notices });
  const redis = config.redisUrl ? connectRedis(config.redisUrl, log) : undefined;
  const otps = new OtpService(box, { ttlMinutes: config.otpTtlMinutes, maxAttempts: config.otpMaxAttempts });
  // The lockout notice is mailed by AccountsService, built just below.
  const attempts = new CodeAttempts({ maxFailures: config.codeMaxFailures, lockoutMinutes: config.codeLockoutMinutes, onLockout: (...args) => accounts.notifyLockout(...args) });
  const twoFactor = new TwoFactorService({ otps, attempts, box, serviceName: config.serviceName, securityLog, notices });
  const accounts: AccountsService = new AccountsService({
    passwords: new PasswordHasher(config.argon2),
    tokens,
    otps,
    attempts,
    sendLimits: new CodeSendLimits({ intervalSeconds: config.otpResendIntervalSeconds, perHour: config.otpSendsPerHour, redis, keyPrefix: config.redisKeyPrefix }),
    twoFactor,
    mailer,
    apiKeys,
    google: new GoogleIdTokenVerifier({ clientId: config.googleClientId, jwksUrl: config.googleJwksUrl, issuers: config.googleIssuers }),
    sessions,
    securityLog,
    notices,
    sessionDays: config.sessionDays,
    otpTtlMinutes: config.otpTtlMinutes,
    serviceName: config.serviceName,
    log,
  });
  // Change events from the database (task progress, balances, credential changes); start() it before use.
  const events = new EventBus({ databaseUrl: orm.config.get('clientUrl')!, log });
  const credits = new CreditsService(config.creditRates, { securityLog, ledger: metrics });
  const purchases = new PurchasesService({
    stripe: new StripeService(config.stripe, log),
    credits,
    rates: config.creditRates,
    currency: config.stripe.currency,
    appUrl: config.appUrl,
    log,
  });
  // One pool for the whole service: the queue borrows the ORM's connections.
  const queue = createAnalysisQueue(config, sharedPoolExecutor(orm), log, metrics);
  metrics.watchQueue(() => queue.depth());
  metrics.watchPool(() => poolUsage(orm));
  const sandbox = new FileSandbox({ memoryMb: config.agentSandboxMemoryMb, timeoutMs: config.agentSandboxTimeoutMs });
  const storage = new UploadStorage(config.agentStorageDir);
  const uploads = new UploadsService({ storage, maxFileBytes: config.agentMaxFileBytes, retentionHours: config.agentUploadRetentionHours });
  const tasks = new TasksService({
    credits,
    storage,
    uploads,
    queue,
    provider: createAnalysisProvider(config),
    sandbox,
    uploadRetentionHours: config.agentUploadRetentionHours,
    cost: config.agentTaskCost,
    minimumBalance: config.agentMinimumBalance,
    maxFileBytes: config.agentMaxFileBytes,
    log,
  });
  return {
    config,
    orm,
    log,
    metrics,
    lifecycle,
    tokens,
    events,
    accounts,
    sessions,
    securityLog,
    twoFactor,
    apiKeys,
    credits,
    purchases,
    queue,
    tasks,
    uploads,
    admin: new AdminService({ sessions, securityLog, storage }),
    idempotency: new IdempotencyService({ box, ttlHours: config.idempotencyKeyTtlHours }),
    system: new SystemService(config.serviceName),
    callers: new CallerResolver({ tokens, accounts, apiKeys, publicApiKey: config.publicApiKey, adminApiKey: config.adminApiKey }),
    rateLimits: new RateLimits({ points: config.rateLimitPoints, windowSeconds: config.rateLimitWindowSeconds, anonymousPoints: config.rateLimitAnonymousPoints, authPerAccountPerMinute: config.authRateLimitPerAccountPerMinute, authPerIpPerMinute: config.authRateLimitPerIpPerMinute, redis, keyPrefix: config.redisKeyPrefix, metrics }),
    async close() {
      // The sandbox first: jobs it cuts short then end (to be retried) while the queue waits for them.
      await sandbox.close();
      await queue.stop();
      await events.close();
      mailer.close();
      redis?.disconnect();
    },
  };
}

export type Services = ReturnType<typeof createServices>;

/** The ORM's connection pool (knex's tarn pool), which the queue shares. */
function poolUsage(orm: MikroORM) {
  const pool = (orm.em as EntityManager).getConnection().getKnex().client.pool as { numUsed(): number; numFree(): number; numPendingAcquires(): number; max: number } | undefined;
  return pool ? { used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires(), max: pool.max } : { used: 0, free: 0, pending: 0, max: 0 };
}
