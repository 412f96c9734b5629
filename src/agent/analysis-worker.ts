import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../app/services';

/**
 * Works the analysis queue in this process: each job runs with a fresh EntityManager; jobs out of retries
 * (including ones whose worker was killed and whose time ran out) fail their task and refund it once.
 * Returns a function that stops the periodic sweep (the queue itself stops with the services).
 */
export async function startAnalysisWorker(services: Services): Promise<() => void> {
  const { config, orm, tasks, queue, log } = services;
  const fork = () => orm.em.fork() as EntityManager;
  await queue.work(
    config.agentWorkerConcurrency,
    config.agentWorkerBatchSize,
    (job, attempt) => tasks.run(fork(), job.taskId, attempt, attempt > config.agentRetryLimit),
    (job) => tasks.fail(fork(), job.taskId, 'The analysis did not finish after several attempts.'),
  );
  const sweep = () =>
    tasks.requeueStranded(fork(), config.agentStrandedAfterSeconds).then(
      (count) => count && log.warn({ count }, 'queued analysis tasks whose job was missing'),
      (error: unknown) => log.error({ err: error }, 'sweeping stranded tasks failed'),
    );
  void sweep();
  const timer = setInterval(sweep, config.agentStrandedAfterSeconds * 1000);
  timer.unref();
  // Upload retention, checked as often as the queue's own maintenance; deleting twice is harmless.
  const removeExpired = () =>
    tasks.removeExpiredUploads(fork()).then(
      (count) => count && log.info({ count }, 'deleted the uploads of tasks past the retention period'),
      (error: unknown) => log.error({ err: error }, 'deleting expired uploads failed'),
    );
  // Idempotency keys past their retention, on the same cadence; every instance may run it, deleting twice is harmless.
  const expireKeys = () =>
    services.idempotency.removeExpired(fork()).then(
      (count) => count && log.info({ count }, 'deleted expired idempotency keys'),
      (error: unknown) => log.error({ err: error }, 'deleting expired idempotency keys failed'),
    );
  const maintenance = setInterval(() => {
    void removeExpired();
    void expireKeys();
  }, config.agentQueueMaintenanceSeconds * 1000);
  maintenance.unref();
  log.info({ concurrency: config.agentWorkerConcurrency }, 'analysis worker started');
  return () => {
    clearInterval(timer);
    clearInterval(maintenance);
  };
}
