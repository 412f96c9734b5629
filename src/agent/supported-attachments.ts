import { extname } from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { badRequest } from '../core/errors';

export const ATTACHMENT_CATEGORIES = ['image', 'audio/video', 'document/text'] as const;
export type AttachmentCategory = (typeof ATTACHMENT_CATEGORIES)[number];

interface AttachmentFormat {
  category: AttachmentCategory;
  /** File-name extensions accepted for this format, the first being its usual one. */
  extensions: string[];
  mimeType: string;
  /** The `ext` names file-type gives this format when it recognises it by its bytes. */
  detectedAs: string[];
  /** Plain-text formats have no magic bytes: they are checked as UTF-8 (and JSON parsed) instead. */
  text?: 'plain' | 'json';
}

/** Every format the agent really reads (see extract.ts); the order is the one clients are shown. */
const FORMATS: AttachmentFormat[] = [
  { category: 'image', extensions: ['.jpg', '.jpeg'], mimeType: 'image/jpeg', detectedAs: ['jpg'] },
  { category: 'image', extensions: ['.png'], mimeType: 'image/png', detectedAs: ['png'] },
  { category: 'image', extensions: ['.gif'], mimeType: 'image/gif', detectedAs: ['gif'] },
  { category: 'image', extensions: ['.webp'], mimeType: 'image/webp', detectedAs: ['webp'] },
  { category: 'image', extensions: ['.tif', '.tiff'], mimeType: 'image/tiff', detectedAs: ['tif'] },
  { category: 'image', extensions: ['.heic'], mimeType: 'image/heic', detectedAs: ['heic'] },
  { category: 'audio/video', extensions: ['.mp3'], mimeType: 'audio/mpeg', detectedAs: ['mp3'] },
  { category: 'audio/video', extensions: ['.wav'], mimeType: 'audio/wav', detectedAs: ['wav'] },
  { category: 'audio/video', extensions: ['.m4a'], mimeType: 'audio/mp4', detectedAs: ['m4a'] },
  { category: 'audio/video', extensions: ['.aac'], mimeType: 'audio/aac', detectedAs: ['aac'] },
  { category: 'audio/video', extensions: ['.flac'], mimeType: 'audio/flac', detectedAs: ['flac'] },
  { category: 'audio/video', extensions: ['.ogg', '.oga', '.opus'], mimeType: 'audio/ogg', detectedAs: ['ogg', 'oga', 'opus'] },
  { category: 'audio/video', extensions: ['.mp4', '.m4v'], mimeType: 'video/mp4', detectedAs: ['mp4', 'm4v'] },
  { category: 'audio/video', extensions: ['.mov'], mimeType: 'video/quicktime', detectedAs: ['mov'] },
  { category: 'audio/video', extensions: ['.webm'], mimeType: 'video/webm', detectedAs: ['webm'] },
  { category: 'audio/video', extensions: ['.mkv'], mimeType: 'video/x-matroska', detectedAs: ['mkv'] },
  { category: 'document/text', extensions: ['.pdf'], mimeType: 'application/pdf', detectedAs: ['pdf'] },
  {
    category: 'document/text',
    extensions: ['.docx'],
    mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    detectedAs: ['docx'],
  },
  { category: 'document/text', extensions: ['.txt'], mimeType: 'text/plain', detectedAs: [], text: 'plain' },
  { category: 'document/text', extensions: ['.md', '.markdown'], mimeType: 'text/markdown', detectedAs: [], text: 'plain' },
  { category: 'document/text', extensions: ['.csv'], mimeType: 'text/csv', detectedAs: [], text: 'plain' },
  { category: 'document/text', extensions: ['.json'], mimeType: 'application/json', detectedAs: [], text: 'json' },
];

/** The accepted file-name extensions grouped by category: the body of GET …/agent/supported_attachments. */
export const SUPPORTED_ATTACHMENTS: Readonly<Record<AttachmentCategory, readonly string[]>> = Object.freeze(
  FORMATS.reduce(
    (groups, format) => {
      groups[format.category].push(...format.extensions);
      return groups;
    },
    { image: [], 'audio/video': [], 'document/text': [] } as Record<AttachmentCategory, string[]>,
  ),
);

export interface DetectedAttachment {
  category: AttachmentCategory;
  /** The extension of what the bytes really are (e.g. '.png' for a PNG named photo.jpg). */
  extension: string;
  mimeType: string;
  /** The extension the file was named with, lower-cased. */
  nameExtension: string;
  /** False when the name claims another format of the same category (a PNG named .jpg): worth a flag. */
  nameMatchesContent: boolean;
}

const formatByExtension = new Map(FORMATS.flatMap((format) => format.extensions.map((ext) => [ext, format] as const)));
const formatByDetectedType = new Map(FORMATS.flatMap((format) => format.detectedAs.map((ext) => [ext, format] as const)));
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes that must be text: valid UTF-8 and no NUL byte (which no text file contains). */
export function decodeText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

function isText(format: AttachmentFormat, bytes: Uint8Array): boolean {
  const text = decodeText(bytes);
  if (text === null) return false;
  if (format.text !== 'json') return true;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Tells what an uploaded file really is, from its bytes: the name only says which category it must belong
 * to. Refuses (400) an unsupported name, empty content, or content that is not a supported format of that
 * category (a text file named .jpg, a zip named .docx, an executable).
 */
export async function detectAttachment(fileName: string, bytes: Uint8Array): Promise<DetectedAttachment> {
  const nameExtension = extname(fileName).toLowerCase();
  const named = formatByExtension.get(nameExtension);
  if (!named) throw badRequest(`File "${fileName}" is not a supported type (supported: ${FORMATS.flatMap((f) => f.extensions).join(', ')})`);
  if (bytes.length === 0) throw badRequest(`File "${fileName}" is empty`);

  if (named.text) {
    if (!isText(named, bytes)) throw badRequest(`File "${fileName}" is not valid ${named.text === 'json' ? 'JSON' : 'UTF-8 text'}`);
    return { category: named.category, extension: named.extensions[0], mimeType: named.mimeType, nameExtension, nameMatchesContent: true };
  }

  const detected = await fileTypeFromBuffer(bytes);
  const actual = detected && formatByDetectedType.get(detected.ext);
  if (!actual || actual.category !== named.category) {
    const found = detected ? `${detected.ext.toUpperCase()} content` : decodeText(bytes) !== null ? 'text' : 'content of an unknown type';
    throw badRequest(`File "${fileName}" is named as ${named.category} but holds ${found}`);
  }
  return {
    category: actual.category,
    extension: `.${detected.ext}`,
    mimeType: detected.mime,
    nameExtension,
    nameMatchesContent: actual === named,
  };
}
