import { parentPort } from 'node:worker_threads';
import { DomainError } from '../core/errors';
import { HostileFileError, type AnalysisInput } from './analysis';
import { analyzeUploads } from './analyze-uploads';
import { mentionedDates } from './claims';
import { extractFile } from './extract';
import type { SandboxJob, SandboxReply } from './file-sandbox';
import { LocalAnalyzer } from './local-analyzer';

/** One job of the file sandbox, in a worker thread with its own heap limit; the thread serves one job only. */
async function runJob(job: SandboxJob): Promise<unknown> {
  if (job.kind === 'local-report') return analyzeUploads(new LocalAnalyzer(), job.prompt, job.uploads);
  return { files: await Promise.all(job.uploads.map(extractFile)), claimedDates: mentionedDates(job.prompt) } satisfies Omit<AnalysisInput, 'prompt'>;
}

function replyOf(error: unknown): SandboxReply {
  if (error instanceof DomainError) return { ok: false, refusal: { message: error.message, hostile: error instanceof HostileFileError } };
  return { ok: false, internal: error instanceof Error ? error.message : String(error) };
}

// Loaded: the job's time limit starts when the job is sent, so it measures parsing, not loading the parsers.
parentPort!.postMessage('ready');
parentPort!.once('message', (job: SandboxJob) =>
  runJob(job).then(
    (value) => parentPort!.postMessage({ ok: true, value } satisfies SandboxReply),
    (error: unknown) => parentPort!.postMessage(replyOf(error)),
  ),
);
