import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CLAIM_ASSESSMENTS, FINDING_KINDS, FINDING_SEVERITIES, type AnalysisResult, type FactValue, type FileFinding } from './analysis';

/** GraphQL enum values (UPPER_SNAKE) for the report's lower-kebab strings, e.g. `needs-review` → NEEDS_REVIEW. */
const enumOf = <V extends string>(values: readonly V[]) => Object.fromEntries(values.map((value) => [value.toUpperCase().replace(/-/g, '_'), value])) as Record<string, V>;

export const ReportKindEnum = enumOf(['local-report', 'model-verdict'] as const);
registerEnumType(ReportKindEnum, { name: 'ReportKind', description: 'A local forensic report (no verdict on truth), or a verdict by a language model.' });
export const ClaimAssessmentEnum = enumOf(CLAIM_ASSESSMENTS);
registerEnumType(ClaimAssessmentEnum, { name: 'ClaimAssessment' });
export const FindingKindEnum = enumOf(FINDING_KINDS);
registerEnumType(FindingKindEnum, { name: 'FindingKind', description: 'What a finding is about.' });
export const FindingSeverityEnum = enumOf(FINDING_SEVERITIES);
registerEnumType(FindingSeverityEnum, { name: 'FindingSeverity', description: 'INFO: context; WARNING: worth a look; ALERT: contradicts the claim or shows generation.' });

@ObjectType({ description: 'Who produced the report.' })
export class ReportProvider {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) model!: string | null;
}

@ObjectType({ description: 'A checkable statement found in the prompt or a file, and how it was assessed.' })
export class ReportClaim {
  @Field() text!: string;
  @Field({ description: '"prompt", or the name of the file it was found in.' }) source!: string;
  @Field(() => ClaimAssessmentEnum) assessment!: string;
  @Field(() => Float, { nullable: true, description: '0 to 1; null when no verdict was attempted.' }) confidence!: number | null;
  @Field() reasoning!: string;
  @Field(() => [String]) sources!: string[];
}

@ObjectType({ description: 'An observation worth a human\'s attention.' })
export class ReportFinding {
  @Field(() => FindingKindEnum) kind!: string;
  @Field(() => FindingSeverityEnum) severity!: string;
  @Field() message!: string;
  @Field(() => String, { nullable: true, description: 'The value that raised it: a program name, a date, coordinates.' }) evidence!: string | null;
  @Field({ description: 'The file it is about.' }) fileName!: string;
}

@ObjectType({ description: 'What an image\'s metadata says.' })
export class ImageFacts {
  @Field(() => Int, { nullable: true }) width!: number | null;
  @Field(() => Int, { nullable: true }) height!: number | null;
  @Field(() => String, { nullable: true, description: 'As the device wrote it (local time, an offset only when recorded).' }) captureTime!: string | null;
  @Field(() => String, { nullable: true }) modifyTime!: string | null;
  @Field(() => String, { nullable: true }) camera!: string | null;
  @Field(() => String, { nullable: true, description: 'The program that last wrote the file.' }) software!: string | null;
  @Field(() => Float, { nullable: true }) gpsLatitude!: number | null;
  @Field(() => Float, { nullable: true }) gpsLongitude!: number | null;
}

@ObjectType({ description: 'What an audio or video container says.' })
export class MediaFacts {
  @Field(() => Float, { nullable: true }) durationSeconds!: number | null;
  @Field(() => String, { nullable: true }) container!: string | null;
  @Field(() => String, { nullable: true }) codecs!: string | null;
  @Field(() => String, { nullable: true }) encoder!: string | null;
  @Field(() => String, { nullable: true }) creationTime!: string | null;
  @Field(() => Boolean, { nullable: true }) hasAudio!: boolean | null;
  @Field(() => Boolean, { nullable: true }) hasVideo!: boolean | null;
  @Field(() => Int, { nullable: true }) sampleRate!: number | null;
  @Field(() => Int, { nullable: true }) channels!: number | null;
}

@ObjectType({ description: 'What a document or text says about itself.' })
export class DocumentFacts {
  @Field(() => Int, { nullable: true }) words!: number | null;
  @Field(() => Int, { nullable: true }) sentences!: number | null;
  @Field(() => Int, { nullable: true }) totalCharacters!: number | null;
  @Field(() => Int, { nullable: true }) pages!: number | null;
  @Field(() => String, { nullable: true }) title!: string | null;
  @Field(() => String, { nullable: true }) author!: string | null;
  @Field(() => String, { nullable: true }) creator!: string | null;
  @Field(() => String, { nullable: true }) producer!: string | null;
  @Field(() => String, { nullable: true }) creationTime!: string | null;
  @Field(() => String, { nullable: true }) modifyTime!: string | null;
}

@ObjectType({ description: 'One uploaded file as the agent read it; one of image, media or document is set, as its category says.' })
export class ReportFile {
  @Field() fileName!: string;
  @Field({ description: 'image, audio/video or document/text' }) category!: string;
  @Field() mimeType!: string;
  @Field(() => Int, { nullable: true }) sizeBytes!: number | null;
  @Field(() => ImageFacts, { nullable: true }) image!: ImageFacts | null;
  @Field(() => MediaFacts, { nullable: true }) media!: MediaFacts | null;
  @Field(() => DocumentFacts, { nullable: true }) document!: DocumentFacts | null;
  @Field(() => [ReportFinding]) findings!: ReportFinding[];
}

@ObjectType({ description: 'The analysis report of a completed task.' })
export class AnalysisReport {
  @Field(() => ReportKindEnum) kind!: string;
  @Field(() => ReportProvider) provider!: ReportProvider;
  @Field({ description: 'The verdict (model) or what was found (local report), in a sentence or two.' }) summary!: string;
  @Field(() => Float, { nullable: true, description: 'Overall confidence, 0 to 1; null when no verdict was attempted.' }) confidence!: number | null;
  @Field() reasoning!: string;
  @Field(() => [String]) sources!: string[];
  @Field(() => [ReportClaim]) claims!: ReportClaim[];
  @Field(() => [ReportFinding], { description: 'Every file\'s findings, most severe first.' }) findings!: ReportFinding[];
  @Field(() => [ReportFile]) files!: ReportFile[];
  @Field() disclaimer!: string;
  @Field(() => GraphQLJSON, { description: 'The stored report as the provider wrote it (untyped; prefer the fields above).' }) raw!: AnalysisResult;
}

const SEVERITY_ORDER: Record<string, number> = { alert: 0, warning: 1, info: 2 };
const str = (value: FactValue | undefined) => (value === undefined || value === null ? null : String(value));
const num = (value: FactValue | undefined) => (typeof value === 'number' ? value : null);
const bool = (value: FactValue | undefined) => (typeof value === 'boolean' ? value : null);

/** The stored result (plain JSON) as the typed report. */
export function toReport(result: AnalysisResult): AnalysisReport {
  const files = result.files.map(toReportFile);
  const findings = files.flatMap((file) => file.findings).sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  return { ...result, claims: result.claims, files, findings, raw: result };
}

function toReportFile(file: FileFinding): ReportFile {
  const f = file.facts;
  return {
    fileName: file.fileName,
    category: file.category,
    mimeType: file.mimeType,
    sizeBytes: num(f.size_bytes),
    image: file.category === 'image'
      ? { width: num(f.width), height: num(f.height), captureTime: str(f.capture_time), modifyTime: str(f.modify_time), camera: str(f.camera), software: str(f.software), gpsLatitude: num(f.gps_latitude), gpsLongitude: num(f.gps_longitude) }
      : null,
    media: file.category === 'audio/video'
      ? { durationSeconds: num(f.duration_seconds), container: str(f.container), codecs: str(f.codecs), encoder: str(f.encoder), creationTime: str(f.creation_time), hasAudio: bool(f.has_audio), hasVideo: bool(f.has_video), sampleRate: num(f.sample_rate), channels: num(f.channels) }
      : null,
    document: file.category === 'document/text'
      ? { words: num(f.words), sentences: num(f.sentences), totalCharacters: num(f.total_characters), pages: num(f.pages), title: str(f.title), author: str(f.author), creator: str(f.creator), producer: str(f.producer), creationTime: str(f.creation_time), modifyTime: str(f.modify_time) }
      : null,
    findings: (file.findings ?? []).map((finding) => ({ ...finding, fileName: file.fileName })),
  };
}
