import PgBoss from 'pg-boss';
import type { Logger } from 'pino';

const QUEUE = 'analysis';
/** Jobs that used up their retries (thrown errors or expiry after a killed worker) land here to be failed and refunded. */
const FAILED_QUEUE = 'analysis-failed';

export interface AnalysisJob { taskId: string }

/** Runs pg-boss's SQL ($1-style parameters) on a connection borrowed from the ORM's pool. */
export interface SqlExecutor { executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }> }

export interface QueueOptions {
  db: SqlExecutor;
  retryLimit: number;
  retryDelaySeconds: number;
  expireInSeconds: number;
  maintenanceIntervalSeconds: number;
  log: Logger;
}

/**
 * The analysis job queue on PostgreSQL (pg-boss), shared by every API instance and worker. A job's id is
 * derived from its task's id, so sending the same task twice (e.g. by the sweeper) queues it once.
 */
export class AnalysisQueue {
  private readonly boss: PgBoss;
  private started?: Promise<void>;
  /** Our job handlers still running, and the queue's SQL still in flight: stop() lets both finish. */
  private readonly handlers = new Set<Promise<unknown>>();
  private readonly statements = new Set<Promise<unknown>>();

  constructor(private readonly options: QueueOptions) {
    const db: SqlExecutor = { executeSql: (text, values) => this.track(this.statements, options.db.executeSql(text, values)) };
    this.boss = new PgBoss({ db, schema: 'pgboss', maintenanceIntervalSeconds: options.maintenanceIntervalSeconds });
    this.boss.on('error', (error) => options.log.error({ err: error }, 'job queue error'));
  }

  start(): Promise<void> {
    this.started ??= (async () => {
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
    })();
    return this.started;
  }

  async enqueue(taskId: string): Promise<void> {
    await this.start();
    await this.boss.send(QUEUE, { taskId } satisfies AnalysisJob, { id: jobIdOf(taskId) });
  }

  /** Queues many tasks in one statement (the stranded-task sweep); ones already queued are left as they are. */
  async enqueueMany(taskIds: string[]): Promise<void> {
    if (!taskIds.length) return;
    await this.start();
    await this.boss.insert(taskIds.map((taskId) => ({ name: QUEUE, id: jobIdOf(taskId), data: { taskId } satisfies AnalysisJob })));
  }

  /** Runs `run` for each job (a thrown error means: retry later), and `giveUp` once a job is out of retries. */
  async work(concurrency: number, run: (job: AnalysisJob, attempt: number) => Promise<void>, giveUp: (job: AnalysisJob) => Promise<void>): Promise<void> {
    await this.start();
    for (let i = 0; i < concurrency; i++) {
      // pg-boss waits a polling interval after every fetch; a worker that just finished a job fetches the next at
      // once instead (one job per interval would cap a backlog's drain at a few jobs per second). Idle, it polls.
      const workerId: string = await this.boss.work<AnalysisJob>(QUEUE, { includeMetadata: true, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        try {
          return await this.track(this.handlers, run(job.data, job.retryCount + 1));
        } finally {
          this.boss.notifyWorker(workerId);
        }
      });
    }
    await this.boss.work<AnalysisJob>(FAILED_QUEUE, { pollingIntervalSeconds: 1 }, async ([job]) => this.track(this.handlers, giveUp(job.data)));
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000 });
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

/** task_<32 hex> → a UUID (pg-boss job ids are UUIDs). */
function jobIdOf(taskId: string): string {
  const hex = taskId.slice(-32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
