import { extname } from 'node:path';
import type { ExtractedFile, FactValue, FileFinding, Finding, FindingKind, FindingSeverity, ImageMetadata, MediaMetadata, DocumentMetadata, ExtractedText } from './analysis';
import { textStats, type MentionedDate } from './claims';

// Programs whose name in a file's metadata says what happened to it. Camera firmware and phone OS versions
// also write a "software" tag, so only names known to edit, generate or re-encode are flagged.
const IMAGE_EDITORS =
  /photoshop|lightroom|gimp|affinity|pixelmator|snapseed|picsart|facetune|canva|paint\.net|photopea|luminar|capture one|darktable|rawtherapee|acdsee|corel|fotor|meitu|vsco/i;
const IMAGE_GENERATORS = /stable diffusion|midjourney|dall[·\-\s]?e|firefly|imagen|novelai|comfyui|automatic1111|invokeai/i;
const MEDIA_TRANSCODERS =
  /lavf|ffmpeg|handbrake|premiere|after effects|final cut|davinci|imovie|capcut|kdenlive|shotcut|vegas|audacity|media encoder|adobe/i;

const calendarDay = (time: string) => time.slice(0, 10);
const finding = (kind: FindingKind, severity: FindingSeverity, message: string, evidence: string | null = null): Finding => ({ kind, severity, message, evidence });

/** Flags a timestamp later than a date the prompt claims: "taken on 12 March 2021" vs a 2023 capture. */
function laterThanClaimed(what: string, time: string | null, claimed: MentionedDate[]): Finding[] {
  if (!time || !/^\d{4}-\d{2}-\d{2}/.test(time)) return [];
  return claimed
    .filter((date) => calendarDay(time) > date.lastDay)
    .map((date) => finding('later-than-claimed', 'alert', `${what} ${calendarDay(time)} is after the date claimed in the prompt ("${date.text}")`, time));
}

function camera(image: ImageMetadata): string | null {
  if (image.make && image.model) return image.model.toLowerCase().startsWith(image.make.toLowerCase()) ? image.model : `${image.make} ${image.model}`;
  return image.make ?? image.model;
}

function imageFinding(image: ImageMetadata, claimed: MentionedDate[]) {
  const facts: Record<string, FactValue> = {
    width: image.width,
    height: image.height,
    capture_time: image.captureTime,
    modify_time: image.modifyTime,
    camera: camera(image),
    software: image.software,
    gps_latitude: image.gps?.latitude ?? null,
    gps_longitude: image.gps?.longitude ?? null,
  };
  const flags: Finding[] = [];
  if (image.software && IMAGE_GENERATORS.test(image.software)) flags.push(finding('generated', 'alert', `made with the generative tool ${image.software}`, image.software));
  else if (image.software && IMAGE_EDITORS.test(image.software)) flags.push(finding('edited', 'warning', `edited with ${image.software}`, image.software));
  if (!image.make && !image.model) flags.push(finding('no-camera-metadata', 'info', 'no camera metadata (possibly stripped, a screenshot, or generated)'));
  if (!image.captureTime) flags.push(finding('no-capture-time', 'info', 'no capture time recorded'));
  if (image.captureTime && image.modifyTime && calendarDay(image.modifyTime) > calendarDay(image.captureTime)) {
    flags.push(finding('modified-after-capture', 'warning', `modified on ${calendarDay(image.modifyTime)}, after capture on ${calendarDay(image.captureTime)}`, image.modifyTime));
  }
  if (image.gps) {
    const where = `${image.gps.latitude.toFixed(5)}, ${image.gps.longitude.toFixed(5)}`;
    flags.push(finding('gps-present', 'info', `GPS location present (${where})`, where));
  }
  flags.push(...laterThanClaimed('capture date', image.captureTime, claimed));
  return { facts, flags };
}

function mediaFinding(media: MediaMetadata, claimed: MentionedDate[]) {
  const facts: Record<string, FactValue> = {
    duration_seconds: media.durationSeconds,
    container: media.container,
    codecs: media.codecs.join(', ') || null,
    encoder: media.encoder,
    creation_time: media.creationTime,
    has_audio: media.hasAudio,
    has_video: media.hasVideo,
    sample_rate: media.sampleRate,
    channels: media.channels,
  };
  const flags: Finding[] = [];
  if (media.encoder && MEDIA_TRANSCODERS.test(media.encoder)) flags.push(finding('re-encoded', 'warning', `re-encoded by ${media.encoder}`, media.encoder));
  if (!media.creationTime) flags.push(finding('no-creation-time', 'info', 'no creation time recorded'));
  flags.push(...laterThanClaimed('creation date', media.creationTime, claimed));
  return { facts, flags };
}

function documentFinding(text: ExtractedText | undefined, document: DocumentMetadata | undefined, claimed: MentionedDate[]) {
  const stats = text?.stats ?? textStats('');
  const facts: Record<string, FactValue> = { ...stats, total_characters: text?.totalChars ?? 0 };
  const flags: Finding[] = [];
  if (text?.truncated) flags.push(finding('text-truncated', 'info', `only the first ${text.content.length} of ${text.totalChars} characters were read`));
  if (stats.words === 0) flags.push(finding('no-text', 'info', document ? 'no text layer (a scan or an image-only document?)' : 'no text'));
  if (document) {
    Object.assign(facts, {
      pages: document.pages,
      title: document.title,
      author: document.author,
      creator: document.creator,
      producer: document.producer,
      creation_time: document.creationTime,
      modify_time: document.modifyTime,
    });
    if (document.creationTime && document.modifyTime && calendarDay(document.modifyTime) > calendarDay(document.creationTime)) {
      flags.push(finding('modified-after-creation', 'warning', `modified on ${calendarDay(document.modifyTime)}, after creation on ${calendarDay(document.creationTime)}`, document.modifyTime));
    }
    flags.push(...laterThanClaimed('creation date', document.creationTime, claimed));
  }
  return { facts, flags };
}

/**
 * What can be established offline about one file: its facts and the flags they raise. `claimed` are the
 * dates the user's prompt mentions, so a capture or creation later than the claim is flagged.
 */
export function describeFile(file: ExtractedFile, claimed: MentionedDate[]): FileFinding {
  const { facts, flags } = file.image
    ? imageFinding(file.image, claimed)
    : file.media
      ? mediaFinding(file.media, claimed)
      : documentFinding(file.text, file.document, claimed);
  if (!file.nameMatchesContent) flags.unshift(finding('name-mismatch', 'warning', `named ${extname(file.fileName).toLowerCase()} but the content is ${file.extension}`, file.extension));
  return { fileName: file.fileName, category: file.category, mimeType: file.mimeType, facts: { size_bytes: file.sizeBytes, ...facts }, findings: flags };
}
