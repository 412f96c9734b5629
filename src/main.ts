// First: tracing patches the modules it instruments (http, fastify, pg, graphql) before anything loads them.
import { stopTracing } from './observability/tracing';
import 'reflect-metadata';
import { join } from 'node:path';
import { loadConfig } from './core/config';
import { createLogger } from './core/logger';
import { startLocalStripeIfUnconfigured } from './credits/local-stripe/in-process';
import { EMBEDDED_POOL_SIZE, startEmbeddedPostgres } from './database/embedded-postgres';
import { migrate, openDatabase } from './database/orm';
import { buildApp, REST_PREFIX } from './http/app';
import { STRIPE_WEBHOOK_PATH } from './credits/credits.webhook';
import { startMetricsListener } from './observability/metrics';
import { onShutdownSignal } from './observability/shutdown';


/** Starts the service: database (embedded when DATABASE_URL is unset), migrations, HTTP. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(join(config.dataDir, 'pglite'), Number(process.env.EMBEDDED_DB_PORT ?? 0));
  if (embedded) log.info({ dataDir: join(config.dataDir, 'pglite') }, 'DATABASE_URL is not set: using the embedded PostgreSQL (PGlite)');
  const orm = await openDatabase(config.databaseUrl ?? embedded!.url, { max: embedded ? EMBEDDED_POOL_SIZE : config.databasePoolMax, acquireTimeoutMs: embedded ? undefined : config.databaseAcquireTimeoutMs });
  await migrate(orm, { exclusive: !embedded });
  const localStripe = await startLocalStripeIfUnconfigured(config, log);
  const { http, services } = await buildApp(config, orm, log);
  const metricsListener = await startMetricsListener(services.metrics, config);
  const address = await http.listen({ host: config.host, port: config.port });
  if (localStripe) localStripe.webhookUrl = `${address}${REST_PREFIX}${STRIPE_WEBHOOK_PATH}`;
  log.info(`Clara is serving GraphQL at /graphql, GraphiQL at /graphiql and REST at /api/v1 on http://${config.host}:${config.port}`);
  if (metricsListener) log.info({ address: metricsListener.address() }, 'metrics are served at /metrics on their own port');
  if (config.trustProxy === true) log.warn('TRUST_PROXY=true believes every X-Forwarded-For hop, so clients can pick their IP (and escape per-IP limits); set the number of proxies or their addresses (refused in production)');
  if (config.env !== 'production' && !process.env.PUBLIC_API_KEY) log.warn(`PUBLIC_API_KEY is not set: the development key "${config.publicApiKey}" is in use`);

  onShutdownSignal(log, async () => {
    // Readiness turns 503 and SSE streams end with a reconnect hint; then no new connections, in-flight
    // requests finish (at most SHUTDOWN_GRACE_SECONDS), and the queue stops (app.ts's onClose).
    services.lifecycle.beginShutdown();
    const grace = setTimeout(() => {
      log.warn({ graceSeconds: config.shutdownGraceSeconds }, 'shutdown grace period over: closing the connections still open');
      http.server.closeAllConnections();
    }, config.shutdownGraceSeconds * 1000);
    grace.unref();
    await http.close();
    clearTimeout(grace);
    metricsListener?.close();
    await localStripe?.stop();
    await orm.close();
    await embedded?.stop();
    await stopTracing();
  });
}

main().catch((error) => {
  console.error('Clara failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
