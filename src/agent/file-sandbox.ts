import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { badRequest } from '../core/errors';
import { HostileFileError, SandboxTimeoutError, type AnalysisInput, type AnalysisProvider, type AnalysisResult, type UploadedFile } from './analysis';
import { LocalAnalyzer } from './local-analyzer';

/** 'extract': read every file and the prompt's dates; 'local-report': read them and write the local analyzer's whole report. */
export type SandboxJob = { kind: 'extract' | 'local-report'; prompt: string; uploads: UploadedFile[] };

export type SandboxReply =
  | { ok: true; value: unknown }
  | { ok: false; refusal: { message: string; hostile: boolean } }
  | { ok: false; internal: string };

export interface SandboxLimits {
  /** Heap of the worker thread (V8 old generation); past it the thread is stopped. */
  memoryMb: number;
  /** Wall-clock time of one job; past it the thread is terminated. */
  timeoutMs: number;
}

interface SandboxThread {
  worker: Worker;
  /** Settles once the thread has loaded the parsers (or failed to). */
  ready: Promise<void>;
}

/** Longest prompt whose dates are read on the caller's thread (a few milliseconds); longer ones go to the sandbox. */
const INLINE_PROMPT_CHARS = 1_000;

const WORKER_SCRIPT = join(__dirname, 'file-sandbox.worker.js');

/**
 * Untrusted files are parsed here, never on the API's event loop: each job runs in a fresh worker thread with
 * its own heap limit and a time limit (a thread never serves two jobs, so nothing one file does to a parser's
 * state reaches another user's job). A file that makes the thread exceed either limit is refused as hostile; a
 * thread that dies for another reason is an internal error (retried by the queue). The next thread is started
 * as soon as one is taken, so loading the parsers (about a second) happens before a job needs them; the time
 * limit starts when the job is handed over.
 */
export class FileSandbox {
  private spare?: SandboxThread;
  private readonly running = new Set<Worker>();
  private closed = false;

  constructor(private readonly limits: SandboxLimits) {}

  private spawn(): SandboxThread {
    const { memoryMb } = this.limits;
    const worker = new Worker(WORKER_SCRIPT, {
      // No environment: the service's secrets are not the parsers' business.
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.min(32, Math.max(4, memoryMb / 8)), stackSizeMb: 4 },
    });
    // A spare thread waiting for a job does not keep the process alive, and its failure never goes unhandled.
    worker.unref();
    worker.on('error', () => undefined);
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`file sandbox exited (code ${code}) while loading`)));
    });
    ready.catch(() => undefined);
    return { worker, ready };
  }

  private take(): SandboxThread {
    const thread = this.spare ?? this.spawn();
    this.spare = undefined;
    thread.worker.ref();
    if (!this.closed) this.spare = this.spawn();
    return thread;
  }

  async run<T>(job: SandboxJob): Promise<T> {
    if (this.closed) throw new Error('file sandbox closed');
    const { worker, ready } = this.take();
    this.running.add(worker);
    worker.once('exit', () => this.running.delete(worker));
    try {
      await ready;
    } catch (error) {
      void worker.terminate();
      throw new Error('file sandbox could not start', { cause: error });
    }
    const { memoryMb, timeoutMs } = this.limits;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        outcome();
      };
      const timer = setTimeout(
        () => settle(() => reject(new SandboxTimeoutError(`Reading the uploaded files took longer than the limit of ${timeoutMs / 1000} s; the upload is refused as hostile.`))),
        timeoutMs,
      );
      worker.on('message', (reply: SandboxReply) =>
        settle(() => {
          if (reply.ok) resolve(reply.value as T);
          else if ('refusal' in reply) reject(reply.refusal.hostile ? new HostileFileError(reply.refusal.message) : badRequest(reply.refusal.message));
          else reject(new Error(`file sandbox: ${reply.internal}`));
        }),
      );
      worker.on('error', (error: Error & { code?: string }) =>
        settle(() =>
          reject(
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new HostileFileError(`Reading the uploaded files needed more than the limit of ${memoryMb} MB of memory; the upload is refused as hostile.`)
              : new Error(`file sandbox failed: ${error.message}`, { cause: error }),
          ),
        ),
      );
      worker.on('exit', (code) => settle(() => reject(new Error(`file sandbox exited (code ${code}) without an answer`))));
      worker.postMessage(job);
    });
  }

  /** Stops every thread: a job cut short fails as an internal error, so the queue retries it later. */
  async close(): Promise<void> {
    this.closed = true;
    const threads = [...this.running, ...(this.spare ? [this.spare.worker] : [])];
    this.spare = undefined;
    await Promise.all(threads.map((worker) => worker.terminate()));
  }

  /**
   * One analysis: the offline local analyzer runs entirely in the sandbox (its claim extraction reads the
   * files' text and the prompt); any other provider gets the files read in the sandbox and judges them here.
   */
  async analyze(provider: AnalysisProvider, prompt: string, uploads: UploadedFile[]): Promise<AnalysisResult> {
    if (provider instanceof LocalAnalyzer) return this.run<AnalysisResult>({ kind: 'local-report', prompt, uploads });
    // A short prompt without files is cheap to read here; anything else is read in the sandbox.
    if (!uploads.length && prompt.length <= INLINE_PROMPT_CHARS) return provider.analyze({ prompt, files: [] });
    return provider.analyze({ prompt, ...(await this.run<Omit<AnalysisInput, 'prompt'>>({ kind: 'extract', prompt, uploads })) });
  }
}
