import type { AnalysisProvider, AnalysisResult, UploadedFile } from './analysis';
import { extractFile } from './extract';

/**
 * One analysis from start to end: every file is checked by content and read, then the provider judges.
 * A refused file raises the same 400 DomainError as at upload time. Tasks run this inside the file sandbox
 * (file-sandbox.ts), never on the API's event loop.
 */
export async function analyzeUploads(provider: AnalysisProvider, prompt: string, uploads: UploadedFile[]): Promise<AnalysisResult> {
  const files = await Promise.all(uploads.map(extractFile));
  return provider.analyze({ prompt, files });
}
