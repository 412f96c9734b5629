// First: tracing patches the modules it instruments (pg) before anything loads them.
import { stopTracing } from './observability/tracing';
import 'reflect-metadata';
import { startAnalysisWorker } from './agent/analysis-worker';
import { createServices } from './app/services';
import { loadConfig } from './core/config';
import { createLogger } from './core/logger';
import { openDatabase } from './database/orm';
import { startMetricsListener } from './observability/metrics';
import { onShutdownSignal } from './observability/shutdown';

/**
 * `npm run worker`: an analysis worker on its own, for scaling out next to the API instances (set
 * AGENT_WORKER_IN_PROCESS=false on those to keep their CPU for requests). Needs DATABASE_URL: the
 * embedded database lives inside the API process. METRICS_PORT serves its own /metrics (jobs, queue, pool).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL must be set for a separate worker');
  const log = createLogger(config.logLevel);
  const orm = await openDatabase(config.databaseUrl, { max: config.databasePoolMax, acquireTimeoutMs: config.databaseAcquireTimeoutMs });
  const services = createServices(config, orm, log);
  await services.queue.start();
  const stopSweep = await startAnalysisWorker(services);
  const metricsListener = await startMetricsListener(services.metrics, config);
  onShutdownSignal(log, async () => {
    services.lifecycle.beginShutdown();
    stopSweep();
    // Jobs still running are cut short and handed back to the queue (retried, by another worker if one runs).
    await services.close();
    metricsListener?.close();
    await orm.close();
    await stopTracing();
  });
}

main().catch((error) => {
  console.error('The worker failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
