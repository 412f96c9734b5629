import { parentPort, workerData } from 'node:worker_threads';
import { DomainError } from '../core/errors';
import { HostileFileError } from './analysis';
import { analyzeUploads } from './analyze-uploads';
import { extractFile } from './extract';
import type { SandboxJob, SandboxReply } from './file-sandbox';
import { LocalAnalyzer } from './local-analyzer';

/** Runs one job of the file sandbox (a worker thread with its own heap limit) and posts its outcome. */
async function runJob(job: SandboxJob): Promise<unknown> {
  if (job.kind === 'local-report') return analyzeUploads(new LocalAnalyzer(), job.prompt, job.uploads);
  return Promise.all(job.uploads.map(extractFile));
}

function replyOf(error: unknown): SandboxReply {
  if (error instanceof DomainError) return { ok: false, refusal: { message: error.message, hostile: error instanceof HostileFileError } };
  return { ok: false, internal: error instanceof Error ? error.message : String(error) };
}

runJob(workerData as SandboxJob).then(
  (value) => parentPort!.postMessage({ ok: true, value } satisfies SandboxReply),
  (error: unknown) => parentPort!.postMessage(replyOf(error)),
);
