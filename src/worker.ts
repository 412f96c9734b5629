import 'reflect-metadata';
import { startAnalysisWorker } from './agent/analysis-worker';
import { createServices } from './app/services';
import { loadConfig } from './core/config';
import { createLogger } from './core/logger';
import { openDatabase } from './database/orm';

/**
 * `npm run worker`: an analysis worker on its own, for scaling out next to the API instances (set
 * AGENT_WORKER_IN_PROCESS=false on those to keep their CPU for requests). Needs DATABASE_URL: the
 * embedded database lives inside the API process.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL must be set for a separate worker');
  const log = createLogger(config.logLevel);
  const orm = await openDatabase(config.databaseUrl, { max: config.databasePoolMax, acquireTimeoutMs: config.databaseAcquireTimeoutMs });
  const services = createServices(config, orm, log);
  const stopSweep = await startAnalysisWorker(services);
  const stop = async () => {
    stopSweep();
    await services.close();
    await orm.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error) => {
  console.error('The worker failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
