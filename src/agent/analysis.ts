import { DomainError } from '../core/errors';
import type { MentionedDate, TextStats } from './claims';
import type { AttachmentCategory } from './supported-attachments';

/** A file as uploaded: the name it was sent under and its bytes. */
export interface UploadedFile {
  fileName: string;
  bytes: Uint8Array;
}

export interface ImageMetadata {
  width: number | null;
  height: number | null;
  /** As the device wrote it: local wall-clock time, with the offset only when the file records one. */
  captureTime: string | null;
  modifyTime: string | null;
  make: string | null;
  model: string | null;
  /** EXIF Software or XMP CreatorTool: the program that last wrote the file. */
  software: string | null;
  gps: { latitude: number; longitude: number } | null;
}

export interface MediaMetadata {
  durationSeconds: number | null;
  container: string | null;
  codecs: string[];
  encoder: string | null;
  creationTime: string | null;
  hasAudio: boolean;
  hasVideo: boolean;
  sampleRate: number | null;
  channels: number | null;
}

export interface DocumentMetadata {
  pages: number | null;
  title: string | null;
  author: string | null;
  /** The authoring program and the program that produced the PDF. */
  creator: string | null;
  producer: string | null;
  creationTime: string | null;
  modifyTime: string | null;
}

export interface ExtractedText {
  /** At most MAX_TEXT_CHARS characters. */
  content: string;
  totalChars: number;
  truncated: boolean;
  /** Counted where the file was read (in the sandbox), so no caller parses the text again. */
  stats: TextStats;
}

/** What was read from one file; exactly one of image/media/text is set, as its category says. */
export interface ExtractedFile {
  fileName: string;
  sizeBytes: number;
  category: AttachmentCategory;
  extension: string;
  mimeType: string;
  nameMatchesContent: boolean;
  image?: ImageMetadata;
  media?: MediaMetadata;
  document?: DocumentMetadata;
  text?: ExtractedText;
}

export const CLAIM_ASSESSMENTS = ['supported', 'contradicted', 'unverifiable', 'needs-review'] as const;
export type ClaimAssessment = (typeof CLAIM_ASSESSMENTS)[number];

export interface AssessedClaim {
  text: string;
  /** 'prompt' or the name of the file the claim was found in. */
  source: string;
  assessment: ClaimAssessment;
  /** 0..1; null when no verdict was attempted (the local analyzer never judges truth). */
  confidence: number | null;
  reasoning: string;
  /** URLs or references the assessment relies on. */
  sources: string[];
}

export type FactValue = string | number | boolean | null;

export const FINDING_KINDS = [
  'name-mismatch', 'edited', 'generated', 'no-camera-metadata', 'no-capture-time', 'modified-after-capture', 'gps-present',
  'later-than-claimed', 're-encoded', 'no-creation-time', 'text-truncated', 'no-text', 'modified-after-creation', 'model-observation',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export const FINDING_SEVERITIES = ['info', 'warning', 'alert'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

/** An observation worth a human's attention ("edited with Adobe Photoshop 25.0", "GPS location present"). */
export interface Finding {
  kind: FindingKind;
  severity: FindingSeverity;
  message: string;
  /** The value that raised it (a program name, a date, coordinates), when there is one. */
  evidence: string | null;
}

export interface FileFinding {
  fileName: string;
  category: AttachmentCategory;
  mimeType: string;
  /** What was read from the file, in plain keys (capture_time, camera, duration_seconds, words, …). */
  facts: Record<string, FactValue>;
  findings: Finding[];
}

/** The agent's answer; plain JSON so a task can store it as is. */
export interface AnalysisResult {
  kind: 'local-report' | 'model-verdict';
  provider: { name: string; model: string | null };
  summary: string;
  claims: AssessedClaim[];
  /** 0..1 overall; null when no verdict was attempted. */
  confidence: number | null;
  reasoning: string;
  sources: string[];
  files: FileFinding[];
  disclaimer: string;
}

export interface AnalysisInput {
  prompt: string;
  files: ExtractedFile[];
  /** The dates the prompt mentions, when already found where the files were read (the sandbox). */
  claimedDates?: MentionedDate[];
}

export interface AnalysisProvider {
  readonly name: string;
  analyze(input: AnalysisInput): Promise<AnalysisResult>;
}

/**
 * A provider could not produce a result. `retryable` tells the job queue whether trying again may help
 * (a timeout, a malformed or overloaded answer) or not (a refused key, a request the server rejects).
 */
export class AnalysisProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AnalysisProviderError';
  }
}

/**
 * An upload built to hurt the reader (a zip bomb, a file that needs more memory or time than any honest file
 * of its size): the task fails at once, is not retried and is not refunded, since the spend is the attacker's.
 */
export class HostileFileError extends DomainError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
    this.name = 'HostileFileError';
  }
}

/**
 * Reading the files ran past the sandbox's time limit. On a busy machine an honest file can do that once, so
 * the task is retried; only a file that times out on its last attempt is refused as hostile (no refund).
 */
export class SandboxTimeoutError extends HostileFileError {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxTimeoutError';
  }
}
