import type { AnalysisInput, AnalysisProvider, AnalysisResult, AssessedClaim } from './analysis';
import { findCheckableClaims, mentionedDates, type CheckableClaim } from './claims';
import { describeFile } from './findings';

export const LOCAL_DISCLAIMER =
  'This is a local forensic and claim-extraction report made offline, not a verdict on truth. It states what the ' +
  "files' metadata and text show and which statements could be checked; no claim was compared with outside sources. " +
  'Metadata can be removed or forged, so its absence or presence proves nothing on its own.';

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function unverifiable(claim: CheckableClaim): AssessedClaim {
  return {
    text: claim.text,
    source: claim.source,
    assessment: 'unverifiable',
    confidence: null,
    reasoning: `States ${claim.reasons.join(', ')}; checking it needs a source outside the upload, which an offline report does not consult.`,
    sources: [],
  };
}

/** The default provider when no model is configured: reads every file and reports what it shows, judging nothing. */
export class LocalAnalyzer implements AnalysisProvider {
  readonly name = 'local';

  async analyze({ prompt, files }: AnalysisInput): Promise<AnalysisResult> {
    const claimedDates = mentionedDates(prompt);
    const findings = files.map((file) => describeFile(file, claimedDates));
    const claims = [
      ...findCheckableClaims(prompt, 'prompt'),
      ...files.flatMap((file) => (file.text ? findCheckableClaims(file.text.content, file.fileName) : [])),
    ].map(unverifiable);
    const flagCount = findings.reduce((sum, file) => sum + file.findings.length, 0);
    const flagged = findings.filter((file) => file.findings.length > 0).map((file) => `${file.fileName}: ${file.findings.map((f) => f.message).join('; ')}`);
    return {
      kind: 'local-report',
      provider: { name: this.name, model: null },
      summary:
        `Local report on ${plural(files.length, 'file')} and the prompt: ${plural(claims.length, 'checkable claim')} found, ` +
        `${plural(flagCount, 'flag')} raised. No claim was checked against outside sources.`,
      claims,
      confidence: null,
      reasoning: flagged.length > 0 ? `Flags: ${flagged.join(' | ')}` : 'The metadata read from the files raised no flags.',
      sources: [],
      files: findings,
      disclaimer: LOCAL_DISCLAIMER,
    };
  }
}
