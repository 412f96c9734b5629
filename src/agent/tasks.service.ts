import { ref, type EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { User } from '../accounts/user.entity';
import { badRequest, DomainError, notFound } from '../core/errors';
import { isId } from '../core/ids';
import { rawQuery } from '../database/shared-pool';
import { keysetCount, keysetPage, type KeysetList, type Page, type PageRequest } from '../core/keyset';
import type { CreditsService } from '../credits/credits.service';
import { AnalysisProviderError, HostileFileError, SandboxTimeoutError, type AnalysisProvider, type UploadedFile } from './analysis';
import type { AnalysisQueue } from './analysis-queue';
import type { FileSandbox } from './file-sandbox';
import { detectAttachment, type DetectedAttachment } from './supported-attachments';
import { Task, type TaskInput, type TaskStatus } from './task.entity';
import type { UploadStorage } from './upload-storage';
import type { UploadsService } from './uploads.service';

export const MAX_FILES = 5;
const MAX_PROMPT_CHARS = 20_000;
export const FINAL: TaskStatus[] = ['completed', 'failed'];
const HOUR_MS = 3_600_000;
/** A task folder with no task row is a request that never committed (or is committing right now): kept this long at least. */
const ORPHAN_GRACE_MS = HOUR_MS;

/** `files` inline; `uploadIds` name files uploaded before (POST /api/v1/uploads), consumed by this task. */
export interface AnalysisRequest { prompt: string; files: UploadedFile[]; uploadIds?: string[] }

/**
 * Analysis tasks: accepted (files checked, credits charged, job queued) in the request; run by a worker;
 * a task that finally fails is refunded exactly once.
 */
export class TasksService {
  constructor(
    private readonly deps: {
      credits: CreditsService;
      storage: UploadStorage;
      uploads: UploadsService;
      queue: AnalysisQueue;
      provider: AnalysisProvider;
      sandbox: FileSandbox;
      uploadRetentionHours: number;
      cost: number;
      minimumBalance: number;
      maxFileBytes: number;
      log: Logger;
    },
  ) {}

  async start(em: EntityManager, user: User, request: AnalysisRequest): Promise<Task> {
    const prompt = request.prompt.trim();
    const { files } = request;
    const uploadIds = request.uploadIds ?? [];
    if (!files.length && !uploadIds.length && !prompt) throw badRequest('The request is empty: send at least one file or a prompt.');
    if (files.length + uploadIds.length > MAX_FILES) throw badRequest(`At most ${MAX_FILES} files can be analysed at once.`);
    if (prompt.length > MAX_PROMPT_CHARS) throw badRequest(`The prompt is longer than ${MAX_PROMPT_CHARS} characters.`);
    const uploads = await this.deps.uploads.usable(em, user.id, uploadIds);
    const names = [...files.map((f) => f.fileName), ...uploads.map((u) => u.fileName)];
    if (new Set(names).size !== names.length) throw badRequest('Two files have the same name.');
    const detected: DetectedAttachment[] = [];
    for (const file of files) {
      if (!file.fileName.trim()) throw badRequest('Every file needs a name.');
      if (file.bytes.length > this.deps.maxFileBytes) throw badRequest(`${file.fileName} is larger than the limit of ${this.deps.maxFileBytes} bytes.`);
      detected.push(await detectAttachment(file.fileName, file.bytes));
    }
    if (user.credits < this.deps.minimumBalance) {
      throw new DomainError('INSUFFICIENT_CREDITS', `An analysis needs at least ${this.deps.minimumBalance} credits; you have ${user.credits}.`);
    }

    // Built outside the unit of work: it is persisted only by the transaction below, or not at all.
    const task = Object.assign(new Task(), { user: ref(user), prompt, cost: this.deps.cost, inputs: [] as TaskInput[] });
    try {
      // allSettled: when one write fails, the others have finished before the folder is removed below.
      const written = await Promise.allSettled(files.map((file, index) => this.deps.storage.put(task.id, index, file.fileName, file.bytes)));
      const copied = await Promise.allSettled(uploads.map((upload, index) => this.deps.storage.copyToTask(upload.storageKey, task.id, files.length + index, upload.fileName)));
      task.inputs = written.map((result, index): TaskInput => {
        if (result.status === 'rejected') throw result.reason;
        return { fileName: files[index].fileName, sizeBytes: files[index].bytes.length, category: detected[index].category, mimeType: detected[index].mimeType, storageKey: result.value };
      });
      task.inputs.push(
        ...copied.map((result, index): TaskInput => {
          if (result.status === 'rejected') throw result.reason;
          const { fileName, sizeBytes, category, mimeType } = uploads[index];
          return { fileName, sizeBytes, category, mimeType, storageKey: result.value };
        }),
      );
      // The task and its charge are one database transaction: no task without payment, no payment without task.
      const charge = await em.transactional(async (tx) => {
        tx.persist(task);
        await tx.flush();
        await this.deps.uploads.consume(tx as EntityManager, user.id, uploadIds, task.id);
        const charge = await this.deps.credits.applyInTransaction(tx as EntityManager, {
          userId: user.id,
          delta: -task.cost,
          kind: 'analysis',
          reference: task.id,
          describe: (before, after) => `Analysis ${task.id}: ${task.cost} credits (balance ${before} → ${after}).`,
        });
        task.chargeTransactionId = charge.id;
        await tx.flush();
        return charge;
      });
      this.deps.credits.committed(charge);
    } catch (error) {
      await this.deps.storage.removeTask(task.id).catch(() => undefined);
      throw error;
    }
    await this.deps.uploads.removeFiles(uploads);
    // After commit; if this fails the sweeper queues the task later (same job id, so never twice).
    await this.deps.queue.enqueue(task.id).catch((error: unknown) => this.deps.log.error({ err: error, taskId: task.id }, 'queueing an analysis failed; the sweeper will retry'));
    return task;
  }

  /** A page of the user's tasks, newest first (see keysetPage: cursors both ways, or an offset for REST). */
  page(em: EntityManager, userId: string, request: PageRequest & { status?: TaskStatus | null }): Promise<Page<Task>> {
    return keysetPage(em, tasksOf(userId, request.status), request);
  }

  count(em: EntityManager, userId: string, status?: TaskStatus | null): Promise<number> {
    return keysetCount(em, tasksOf(userId, status));
  }

  /** One of the user's tasks, or null (someone else's id is not found either). */
  async find(em: EntityManager, userId: string, taskId: string): Promise<Task | null> {
    return isId('task', taskId) ? em.findOne(Task, { id: taskId, user: userId }) : null;
  }

  /** The worker's part. A thrown error means "try again later"; a final answer is written here. */
  async run(em: EntityManager, taskId: string, attempt: number, isLastAttempt: boolean): Promise<void> {
    // Conditional: a task failed (and refunded) meanwhile by the give-up path is never started again. Start and
    // read in one statement, past the ORM's layers: per job, those cost more than the statements themselves.
    const { rows: [task] } = await rawQuery<Pick<Task, 'prompt' | 'inputs'>>(em, `update tasks set status = 'running', attempts = $2, updated_at = $3 where id = $1 and status <> all($4) returning prompt, inputs`, [taskId, attempt, new Date(), FINAL]);
    if (!task) return;
    try {
      const files = await Promise.all(task.inputs.map(async (input) => ({ fileName: input.fileName, bytes: await this.deps.storage.read(input.storageKey) })));
      const result = await this.deps.sandbox.analyze(this.deps.provider, task.prompt, files);
      // Conditional: a task failed meanwhile (e.g. by the give-up path) is never turned back into "completed".
      await rawQuery(em, `update tasks set status = 'completed', result = $2, error = null, updated_at = $3 where id = $1 and status = 'running'`, [taskId, JSON.stringify(result), new Date()]);
    } catch (error) {
      const timedOut = error instanceof SandboxTimeoutError;
      const retryable = timedOut || (!(error instanceof DomainError) && !(error instanceof AnalysisProviderError && !error.retryable));
      this.deps.log.warn({ taskId, attempt, retryable, err: error }, 'analysis attempt failed');
      if (error instanceof HostileFileError && (!timedOut || isLastAttempt)) return this.refuseHostile(em, taskId, error.message);
      if (!retryable || isLastAttempt) return this.fail(em, taskId, readable(error));
      await em.nativeUpdate(Task, { id: taskId, status: 'running' }, { status: 'queued', error: `Attempt ${attempt} failed; it will be retried.`, updatedAt: new Date() });
      throw error;
    }
  }

  /** Marks the task failed and refunds its charge; the conditional status change makes this happen once. */
  async fail(em: EntityManager, taskId: string, reason: string): Promise<void> {
    const refund = await em.transactional(async (tx) => {
      const task = await tx.findOne(Task, { id: taskId });
      if (!task) return null;
      const changed = await tx.nativeUpdate(Task, { id: taskId, status: { $nin: FINAL } }, { status: 'failed', error: reason, updatedAt: new Date() });
      if (!changed) return null;
      const refund = await this.deps.credits.applyInTransaction(tx as EntityManager, {
        userId: task.user.id,
        delta: task.cost,
        kind: 'refund',
        reference: task.id,
        describe: (before, after) => `Refund for failed analysis ${task.id}: ${task.cost} credits (balance ${before} → ${after}).`,
      });
      await tx.nativeUpdate(Task, { id: taskId }, { refundTransactionId: refund.id });
      return refund;
    });
    if (refund) this.deps.credits.committed(refund);
  }

  /**
   * A hostile upload: the task fails at once, without a refund (the spend is the attacker's), and its files
   * are deleted now rather than kept for the retention period.
   */
  private async refuseHostile(em: EntityManager, taskId: string, reason: string): Promise<void> {
    // Files first: once the task reads "failed", nothing of the hostile upload is left (a crash in between
    // leaves a running task whose retry finds no files and fails; the retention sweep covers the rest).
    await this.deps.storage.removeTask(taskId);
    await em.nativeUpdate(Task, { id: taskId, status: { $nin: FINAL } }, { status: 'failed', error: reason, updatedAt: new Date() });
  }

  /**
   * Deletes the uploads of tasks that finished more than the retention period before `now`, and folders
   * left by requests that never committed. Idempotent, so any number of workers may run it.
   */
  async removeExpiredUploads(em: EntityManager, now: Date = new Date()): Promise<number> {
    const finishedBefore = new Date(now.getTime() - this.deps.uploadRetentionHours * HOUR_MS);
    const orphanedBefore = new Date(Math.min(finishedBefore.getTime(), now.getTime() - ORPHAN_GRACE_MS));
    const folders = await this.deps.storage.taskFolders();
    let removed = 0;
    for (let i = 0; i < folders.length; i += 500) {
      const batch = folders.slice(i, i + 500);
      const rows = await em.find(Task, { id: { $in: batch.map((folder) => folder.taskId) } }, { fields: ['id', 'status', 'updatedAt'] });
      const tasks = new Map(rows.map((row) => [row.id, row]));
      for (const folder of batch) {
        const task = tasks.get(folder.taskId);
        const expired = task ? FINAL.includes(task.status) && task.updatedAt <= finishedBefore : folder.modifiedAt <= orphanedBefore;
        if (!expired) continue;
        await this.deps.storage.removeTask(folder.taskId);
        removed++;
      }
    }
    return removed + (await this.deps.uploads.removeExpired(em, now));
  }

  /** Queues tasks whose job may have been lost (the process stopped between commit and queueing). */
  async requeueStranded(em: EntityManager, olderThanSeconds = 30): Promise<number> {
    const stranded = await em.find(Task, { status: 'queued', createdAt: { $lt: new Date(Date.now() - olderThanSeconds * 1000) } }, { fields: ['id'], limit: 500 });
    await this.deps.queue.enqueueMany(stranded.map((task) => task.id));
    return stranded.length;
  }
}

/** A user's tasks, optionally in one status. */
const tasksOf = (userId: string, status?: TaskStatus | null): KeysetList<Task> => ({ entity: Task, kind: 'task', where: { user_id: userId, status } });

/** What the user reads on a failed task: our own refusals verbatim; nothing from the model server or internals. */
function readable(error: unknown): string {
  if (error instanceof DomainError) return error.message;
  if (error instanceof AnalysisProviderError) return 'The analysis model did not give a usable answer; the credits were refunded.';
  return 'The analysis could not be completed because of an internal error; the credits were refunded.';
}
