import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import {
  AnalysisProviderError,
  CLAIM_ASSESSMENTS,
  type AnalysisInput,
  type AnalysisProvider,
  type AnalysisResult,
  type AssessedClaim,
  type ClaimAssessment,
  type FileFinding,
} from './analysis';
import { mentionedDates } from './claims';
import { describeFile } from './findings';

export interface OpenAIProviderOptions {
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

/** Text sent to the model per file: five files of this size stay well inside a small context window. */
export const MODEL_TEXT_CHARS = 12_000;

const SYSTEM_PROMPT = `You are Clara, a fact-checking agent. Decide whether the user's information is genuine and true.
You receive the user's prompt and, for each uploaded file, what was extracted from it: metadata facts, forensic flags
raised by an offline check, and its text. Identify the factual claims (in the prompt and in the files) and assess each.
Answer with one JSON object only, in this shape:
{
  "summary": "two or three sentences for the user",
  "claims": [{"text": "the claim", "source": "prompt or the file name it came from",
              "assessment": "supported | contradicted | unverifiable | needs-review",
              "confidence": 0.0-1.0, "reasoning": "why", "sources": ["URL or reference relied on"]}],
  "files": [{"file_name": "name", "flags": ["observation about authenticity or editing"]}],
  "confidence": 0.0-1.0,
  "reasoning": "how you reached the overall view",
  "sources": ["URL or reference"]
}
Use "unverifiable" when you cannot know, and never invent sources.`;

const ASSESSMENT_SYNONYMS: Record<string, ClaimAssessment> = {
  true: 'supported',
  accurate: 'supported',
  correct: 'supported',
  verified: 'supported',
  false: 'contradicted',
  inaccurate: 'contradicted',
  incorrect: 'contradicted',
  refuted: 'contradicted',
  unverified: 'unverifiable',
  unknown: 'unverifiable',
  'insufficient-evidence': 'unverifiable',
};

const malformed = (why: string) => new AnalysisProviderError(`The model's answer is malformed: ${why}`, true);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

const strings = (value: unknown): string[] =>
  (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []).map(text).filter((item) => item !== '');

/** Models answer 0.8, "0.8" or 80 for the same thing; anything else is no confidence at all. */
function confidence(value: unknown): number | null {
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) return null;
  return Math.min(1, number > 1 ? number / 100 : number);
}

function assessment(value: unknown): ClaimAssessment {
  const key = text(value).toLowerCase().replace(/[\s_]+/g, '-');
  if ((CLAIM_ASSESSMENTS as readonly string[]).includes(key)) return key as ClaimAssessment;
  // Anything the model invents ('mixed', 'misleading', …) goes to a human rather than being guessed.
  return ASSESSMENT_SYNONYMS[key] ?? 'needs-review';
}

function claim(raw: unknown, index: number): AssessedClaim {
  if (!isRecord(raw) || !text(raw.text)) throw malformed(`claim ${index + 1} has no text`);
  return {
    text: text(raw.text),
    source: text(raw.source) || 'prompt',
    assessment: assessment(raw.assessment),
    confidence: confidence(raw.confidence),
    reasoning: text(raw.reasoning),
    sources: strings(raw.sources),
  };
}

/** Adds the model's observations to the offline findings of the file they name. */
function withModelFlags(findings: FileFinding[], raw: unknown): FileFinding[] {
  const modelFiles = Array.isArray(raw) ? raw.filter(isRecord) : [];
  return findings.map((finding) => {
    const known = new Set(finding.findings.map((f) => f.message));
    const extra = [...new Set(modelFiles.filter((file) => text(file.file_name) === finding.fileName).flatMap((file) => strings(file.flags)))]
      .filter((message) => !known.has(message))
      .map((message) => ({ kind: 'model-observation' as const, severity: 'warning' as const, message, evidence: null }));
    return { ...finding, findings: [...finding.findings, ...extra] };
  });
}

/** Checks the model's JSON and turns it into an AnalysisResult; a malformed answer is a retryable error. */
export function parseModelVerdict(
  content: string | null | undefined,
  findings: FileFinding[],
  provider: { name: string; model: string },
): AnalysisResult {
  let raw: unknown;
  try {
    // Some servers wrap the object in a Markdown code fence despite response_format.
    raw = JSON.parse((content ?? '').trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1'));
  } catch {
    throw malformed('it is not JSON');
  }
  if (!isRecord(raw)) throw malformed('it is not a JSON object');
  if (!text(raw.summary)) throw malformed('it has no summary');
  if (!Array.isArray(raw.claims)) throw malformed('"claims" is not a list');
  const claims = raw.claims.map(claim);
  return {
    kind: 'model-verdict',
    provider,
    summary: text(raw.summary),
    claims,
    confidence: confidence(raw.confidence),
    reasoning: text(raw.reasoning),
    sources: [...new Set([...strings(raw.sources), ...claims.flatMap((item) => item.sources)])],
    files: withModelFlags(findings, raw.files),
    disclaimer:
      `Assessment by the model ${provider.model} from the prompt and what was extracted from the files. ` +
      'Models can be wrong or out of date: check important claims against the cited sources.',
  };
}

/** Why a request failed, and whether trying again later may succeed. */
function requestError(error: unknown, timeoutMs: number): AnalysisProviderError {
  if (error instanceof APIConnectionTimeoutError) return new AnalysisProviderError(`The model did not answer within ${timeoutMs} ms`, true, { cause: error });
  if (error instanceof APIConnectionError) return new AnalysisProviderError(`The model server could not be reached: ${error.message}`, true, { cause: error });
  if (error instanceof APIError && error.status !== undefined) {
    const retryable = error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
    return new AnalysisProviderError(`The model server refused the request (HTTP ${error.status}): ${error.message}`, retryable, { cause: error });
  }
  return new AnalysisProviderError(`The model request failed: ${error instanceof Error ? error.message : String(error)}`, true, { cause: error });
}

/** A verdict from any server speaking OpenAI's chat-completions protocol (OpenAI, vLLM, Ollama, llama.cpp, …). */
export class OpenAIProvider implements AnalysisProvider {
  readonly name = 'openai-compatible';
  private readonly client: OpenAI;

  constructor(private readonly options: OpenAIProviderOptions) {
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      // Local servers often need no key, but the client insists on one.
      apiKey: options.apiKey ?? 'no-key',
      timeout: options.timeoutMs,
      // The job queue retries with backoff; retrying here as well would multiply the wait.
      maxRetries: 0,
    });
  }

  async analyze({ prompt, files, claimedDates = mentionedDates(prompt) }: AnalysisInput): Promise<AnalysisResult> {
    const findings = files.map((file) => describeFile(file, claimedDates));
    const request = {
      prompt,
      files: files.map((file, index) => ({
        file_name: file.fileName,
        category: file.category,
        mime_type: file.mimeType,
        facts: findings[index].facts,
        offline_flags: findings[index].findings.map((f) => f.message),
        text: file.text ? file.text.content.slice(0, MODEL_TEXT_CHARS) : null,
        text_truncated: file.text ? file.text.totalChars > MODEL_TEXT_CHARS : false,
      })),
    };
    let content: string | null | undefined;
    try {
      const completion = await this.client.chat.completions.create({
        model: this.options.model,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: JSON.stringify(request, null, 1) },
        ],
      });
      content = completion.choices[0]?.message?.content;
    } catch (error) {
      throw requestError(error, this.options.timeoutMs);
    }
    return parseModelVerdict(content, findings, { name: this.name, model: this.options.model });
  }
}
