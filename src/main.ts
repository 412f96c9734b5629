import 'reflect-metadata';
import { join } from 'node:path';
import { loadConfig } from './core/config';
import { createLogger } from './core/logger';
import { startLocalStripeIfUnconfigured } from './credits/local-stripe/in-process';
import { EMBEDDED_POOL_SIZE, startEmbeddedPostgres } from './database/embedded-postgres';
import { migrate, openDatabase } from './database/orm';
import { buildApp, REST_PREFIX } from './http/app';
import { STRIPE_WEBHOOK_PATH } from './credits/credits.webhook';


/** Starts the service: database (embedded when DATABASE_URL is unset), migrations, HTTP. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(join(config.dataDir, 'pglite'), Number(process.env.EMBEDDED_DB_PORT ?? 0));
  if (embedded) log.info({ dataDir: join(config.dataDir, 'pglite') }, 'DATABASE_URL is not set: using the embedded PostgreSQL (PGlite)');
  const orm = await openDatabase(config.databaseUrl ?? embedded!.url, { max: embedded ? EMBEDDED_POOL_SIZE : config.databasePoolMax, acquireTimeoutMs: embedded ? undefined : config.databaseAcquireTimeoutMs });
  await migrate(orm, { exclusive: !embedded });
  const localStripe = await startLocalStripeIfUnconfigured(config, log);
  const { http } = await buildApp(config, orm, log);
  const address = await http.listen({ host: config.host, port: config.port });
  if (localStripe) localStripe.webhookUrl = `${address}${REST_PREFIX}${STRIPE_WEBHOOK_PATH}`;
  log.info(`Clara is serving GraphQL at /graphql, GraphiQL at /graphiql and REST at /api/v1 on http://${config.host}:${config.port}`);
  if (config.trustProxy === true) log.warn('TRUST_PROXY=true believes every X-Forwarded-For hop, so clients can pick their IP (and escape per-IP limits); set the number of proxies or their addresses (refused in production)');
  if (config.env !== 'production' && !process.env.PUBLIC_API_KEY) log.warn(`PUBLIC_API_KEY is not set: the development key "${config.publicApiKey}" is in use`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await http.close();
    await localStripe?.stop();
    await orm.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error('Clara failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
