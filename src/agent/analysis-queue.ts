import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../core/config';
import { underStartupLock } from '../database/orm';
import type { JobOutcome, Metrics } from '../observability/metrics';
import { currentRequestId, runObserved } from '../observability/request-context';
import { inJobSpan, traceCarrier } from '../observability/spans';

const QUEUE = 'analysis';
/** Jobs that used up their retries (thrown errors or expiry after a killed worker) land here to be failed and refunded. */
const FAILED_QUEUE = 'analysis-failed';

/** `requestId` and `trace` (W3C traceparent) are the queueing request's: the job's logs and span follow on from it. */
export interface AnalysisJob { taskId: string; requestId?: string; trace?: Record<string, string> }

/** Runs pg-boss's SQL ($1-style parameters) on a connection borrowed from the ORM's pool. */
export interface SqlExecutor { executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }> }

export interface QueueOptions {
  db: SqlExecutor;
  retryLimit: number;
  retryDelaySeconds: number;
  expireInSeconds: number;
  maintenanceIntervalSeconds: number;
  /** How long stop() lets running jobs finish before they are left to the queue (retried after expiry). */
  stopTimeoutSeconds: number;
  log: Logger;
  metrics: Metrics;
  /**
   * Runs the queue's set-up (its schema and queues) in turn with other processes starting on the same database
   * (the migrations' startup lock): instances starting together deadlocked, or made the schema twice.
   */
  startLock?: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * The analysis job queue on PostgreSQL (pg-boss), shared by every API instance and worker. A job's id is
 * derived from its task's id, so sending the same task twice (e.g. by the sweeper) queues it once.
 */
export class AnalysisQueue {
  private readonly boss: PgBoss;
  private started?: Promise<void>;
  private running = false;
  /** Our job handlers still running, and the queue's SQL still in flight: stop() lets both finish. */
  private readonly handlers = new Set<Promise<unknown>>();
  private readonly statements = new Set<Promise<unknown>>();

  constructor(private readonly options: QueueOptions) {
    const db: SqlExecutor = { executeSql: (text, values) => this.track(this.statements, options.db.executeSql(text, values)) };
    this.boss = new PgBoss({ db, schema: 'pgboss', maintenanceIntervalSeconds: options.maintenanceIntervalSeconds });
    this.boss.on('error', (error) => options.log.error({ err: error }, 'job queue error'));
  }

  /** Once, whether called at start-up or first by enqueue or work. */
  start(): Promise<void> {
    const setUp = async () => {
      await this.boss.start();
      await this.boss.createQueue(FAILED_QUEUE);
      await this.boss.createQueue(QUEUE, {
        name: QUEUE,
        retryLimit: this.options.retryLimit,
        retryDelay: this.options.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: this.options.expireInSeconds,
        deadLetter: FAILED_QUEUE,
      });
      this.running = true;
    };
    this.started ??= this.options.startLock ? this.options.startLock(setUp) : setUp();
    return this.started;
  }

  /** Started and not stopping: what readiness asks. */
  get isRunning(): boolean {
    return this.running;
  }

  async enqueue(taskId: string): Promise<void> {
    await this.start();
    const job: AnalysisJob = { taskId, requestId: currentRequestId(), trace: traceCarrier() };
    await this.boss.send(QUEUE, job, { id: jobIdOf(taskId) });
  }

  /** Jobs per queue and state (created, retry, active, ...), for the metrics. */
  async depth(): Promise<{ queue: string; state: string; count: number }[]> {
    if (!this.running) return [];
    const { rows } = await this.options.db.executeSql('select name as queue, state, count(*)::int as count from pgboss.job where name = any($1) group by name, state', [[QUEUE, FAILED_QUEUE]]);
    return rows;
  }

  /** Queues many tasks in one statement (the stranded-task sweep); ones already queued are left as they are. */
  async enqueueMany(taskIds: string[]): Promise<void> {
    if (!taskIds.length) return;
    await this.start();
    await this.boss.insert(taskIds.map((taskId) => ({ name: QUEUE, id: jobIdOf(taskId), data: { taskId } satisfies AnalysisJob })));
  }

  /**
   * Runs `run` for each job (a thrown error means: retry later), at most `concurrency` at once, and `giveUp` once a
   * job is out of retries. Jobs are fetched `batchSize` at a time (one statement for the batch, and one to complete
   * the batch's successes); a job that throws is failed on its own, so each is retried or dead-lettered by itself.
   */
  async work(concurrency: number, batchSize: number, run: (job: AnalysisJob, attempt: number) => Promise<void>, giveUp: (job: AnalysisJob) => Promise<void>): Promise<void> {
    await this.start();
    // A batch's worker fetches again once its whole batch is done: smaller batches keep slow jobs from idling slots.
    for (const size of split(concurrency, Math.max(1, Math.min(batchSize, concurrency)))) {
      // pg-boss waits a polling interval after every fetch; a worker that just finished its jobs fetches the next at
      // once instead (one fetch per interval would cap a backlog's drain at a few jobs per second). Idle, it polls.
      const workerId: string = await this.boss.work<AnalysisJob>(QUEUE, { includeMetadata: true, pollingIntervalSeconds: 0.5, batchSize: size }, async (jobs) => {
        try {
          const outcomes = await Promise.allSettled(
            jobs.map((job) => this.track(this.handlers, this.observed(QUEUE, job.data, 'completed', () => run(job.data, job.retryCount + 1))).catch((error: unknown) => this.boss.fail(QUEUE, job.id, error as object))),
          );
          // pg-boss then completes the batch's jobs still active (the ones failed above no longer are). Had recording
          // a failure failed, that job would pass as completed: the whole batch is failed instead, and its tasks
          // already finished skip their retry (TasksService.run starts only unfinished tasks).
          const unrecorded = outcomes.find((outcome) => outcome.status === 'rejected');
          if (unrecorded) throw unrecorded.reason;
        } finally {
          this.boss.notifyWorker(workerId);
        }
      });
    }
    await this.boss.work<AnalysisJob>(FAILED_QUEUE, { pollingIntervalSeconds: 1 }, async ([job]) => this.track(this.handlers, this.observed(FAILED_QUEUE, job.data, 'gave_up', () => giveUp(job.data))));
  }

  /** A job runs under its request's id (in every log line) and trace, and its time is measured by outcome. */
  private observed(queue: string, job: AnalysisJob, success: JobOutcome, fn: () => Promise<void>): Promise<void> {
    const startedAt = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - startedAt) / 1e9;
    return runObserved({ requestId: job.requestId ?? `job:${job.taskId}` }, () =>
      inJobSpan(`${queue} job`, job.trace, { 'messaging.system': 'pg-boss', 'messaging.destination.name': queue, 'clara.task_id': job.taskId }, fn).then(
        () => this.options.metrics.observeJob(queue, success, seconds()),
        (error: unknown) => {
          this.options.metrics.observeJob(queue, 'retried', seconds());
          throw error;
        },
      ),
    );
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    this.running = false;
    await this.boss.stop({ graceful: true, wait: true, timeout: this.options.stopTimeoutSeconds * 1000 });
    // pg-boss records a job's outcome without awaiting it, and stop() may return while a handler still runs
    // (past its timeout): wait for our handlers (bounded by the job expiry), let pg-boss issue the outcome
    // statements they lead to (its continuations run before the next macrotask), then wait for those too, so
    // nothing reaches the database after the caller closes it.
    const expiry = new Promise((resolve) => setTimeout(resolve, this.options.expireInSeconds * 1000).unref());
    await Promise.race([Promise.allSettled([...this.handlers]), expiry]);
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.allSettled([...this.statements]);
  }

  private track<T>(pending: Set<Promise<unknown>>, promise: Promise<T>): Promise<T> {
    pending.add(promise);
    promise.then(() => pending.delete(promise), () => pending.delete(promise));
    return promise;
  }
}

/** The queue as the configuration sets it up: the services' and the bench's (which only queues jobs) alike. */
export function createAnalysisQueue(config: Config, db: SqlExecutor, log: Logger, metrics: Metrics): AnalysisQueue {
  return new AnalysisQueue({
    db,
    retryLimit: config.agentRetryLimit,
    retryDelaySeconds: config.agentRetryDelaySeconds,
    expireInSeconds: config.agentJobExpireSeconds,
    maintenanceIntervalSeconds: config.agentQueueMaintenanceSeconds,
    stopTimeoutSeconds: config.shutdownGraceSeconds,
    log,
    metrics,
    // On a shared PostgreSQL several instances and workers may start at once (the embedded one has one process).
    startLock: config.databaseUrl ? (work) => underStartupLock(config.databaseUrl!, work) : undefined,
  });
}

/** `total` in parts of at most `size`, as even as possible: 10 by 4 → 4, 3, 3. */
function split(total: number, size: number): number[] {
  const parts = Math.ceil(total / size);
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** task_<32 hex> → a UUID (pg-boss job ids are UUIDs). */
function jobIdOf(taskId: string): string {
  const hex = taskId.slice(-32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
