import exifr from 'exifr';
import { imageSize } from 'image-size';
import mammoth from 'mammoth';
import { parseBuffer } from 'music-metadata';
import { getDocumentProxy, getMeta, getResolvedPDFJS } from 'unpdf';
import { badRequest, DomainError } from '../core/errors';
import type { DocumentMetadata, ExtractedFile, ExtractedText, ImageMetadata, MediaMetadata, UploadedFile } from './analysis';
import { textStats } from './claims';
import { decodeText, detectAttachment, type DetectedAttachment } from './supported-attachments';
import { boundedZipCopy } from './zip-limits';

/** Text kept per file: enough for claim extraction and a model prompt, bounded so a book cannot flood either. */
export const MAX_TEXT_CHARS = 50_000;
/** Pages of a PDF whose text is read; the rest (and any text past MAX_TEXT_CHARS) is left unread. */
export const MAX_PDF_PAGES = 200;

export function boundText(content: string, maxChars: number = MAX_TEXT_CHARS, totalChars?: number): ExtractedText {
  const normalised = content.replace(/\r\n?/g, '\n').trim();
  const kept = normalised.slice(0, maxChars);
  const total = Math.max(totalChars ?? 0, normalised.length);
  return { content: kept, totalChars: total, truncated: total > kept.length, stats: textStats(kept) };
}

const str = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);

/** EXIF writes '2023:06:01 10:20:30' (no zone); XMP writes ISO 8601 already. */
function exifTime(value: unknown, offset: unknown): string | null {
  const text = str(value);
  if (!text) return null;
  const iso = text.replace(/^(\d{4}):(\d{2}):(\d{2}) (\d{2}:\d{2}:\d{2})/, '$1-$2-$3T$4');
  return iso === text ? text : iso + (str(offset) ?? '');
}

async function readImage(bytes: Uint8Array): Promise<ImageMetadata> {
  // exifr refuses formats it has no parser for (GIF) and damaged metadata blocks: either way there is no
  // metadata to report, which the findings then flag as missing.
  const tags: Record<string, unknown> =
    (await exifr.parse(Buffer.from(bytes), { tiff: true, exif: true, gps: true, xmp: true, reviveValues: false }).catch(() => undefined)) ?? {};
  let size: { width?: number; height?: number } = {};
  try {
    size = imageSize(bytes);
  } catch {
    // A header image-size cannot read leaves the dimensions unknown, nothing more.
  }
  const latitude = tags.latitude;
  const longitude = tags.longitude;
  return {
    width: size.width ?? null,
    height: size.height ?? null,
    captureTime: exifTime(tags.DateTimeOriginal ?? tags.CreateDate ?? tags.DateCreated, tags.OffsetTimeOriginal),
    modifyTime: exifTime(tags.ModifyDate, tags.OffsetTime),
    make: str(tags.Make),
    model: str(tags.Model),
    software: str(tags.Software) ?? str(tags.CreatorTool),
    gps: typeof latitude === 'number' && typeof longitude === 'number' ? { latitude, longitude } : null,
  };
}

async function readMedia(bytes: Uint8Array, mimeType: string): Promise<MediaMetadata> {
  const { format, common } = await parseBuffer(bytes, { mimeType, size: bytes.length }, { duration: true, skipCovers: true });
  const codecs = [format.codec, ...(format.trackInfo ?? []).map((track) => track.codecName?.replace(/^<|>$/g, ''))];
  return {
    durationSeconds: format.duration !== undefined ? Math.round(format.duration * 1000) / 1000 : null,
    container: format.container ?? null,
    codecs: [...new Set(codecs.filter((codec): codec is string => !!codec))],
    encoder: str(common.encodedby) ?? str(format.tool) ?? str(common.encodersettings),
    creationTime: format.creationTime ? format.creationTime.toISOString() : null,
    hasAudio: format.hasAudio ?? false,
    hasVideo: format.hasVideo ?? false,
    sampleRate: format.sampleRate ?? null,
    channels: format.numberOfChannels ?? null,
  };
}

/** The text of the first MAX_PDF_PAGES pages, read page by page and stopped once MAX_TEXT_CHARS are in hand. */
async function pdfText(pdf: Awaited<ReturnType<typeof getDocumentProxy>>): Promise<{ text: string; complete: boolean }> {
  const pages: string[] = [];
  let chars = 0;
  const last = Math.min(pdf.numPages, MAX_PDF_PAGES);
  for (let number = 1; number <= last; number++) {
    if (chars > MAX_TEXT_CHARS) return { text: pages.join('\n'), complete: false };
    const content = await (await pdf.getPage(number)).getTextContent();
    const text = content.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join('');
    pages.push(text);
    chars += text.length;
  }
  return { text: pages.join('\n'), complete: last === pdf.numPages };
}

async function readPdf(bytes: Uint8Array): Promise<{ document: DocumentMetadata; text: ExtractedText }> {
  // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy. Verbosity 0 keeps its
  // warnings about damaged files off the service's stdout; a file it cannot read still throws.
  const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  try {
    const [{ info }, { text, complete }, { PDFDateString }] = await Promise.all([getMeta(pdf), pdfText(pdf), getResolvedPDFJS()]);
    const pdfTime = (value: unknown) => (str(value) ? (PDFDateString.toDateObject(value as string)?.toISOString() ?? null) : null);
    return {
      document: {
        pages: pdf.numPages,
        title: str(info.Title),
        author: str(info.Author),
        creator: str(info.Creator),
        producer: str(info.Producer),
        creationTime: pdfTime(info.CreationDate),
        modifyTime: pdfTime(info.ModDate),
      },
      // Pages left unread make the text count as cut short, like text past MAX_TEXT_CHARS.
      text: boundText(text, MAX_TEXT_CHARS, complete ? undefined : MAX_TEXT_CHARS + 1),
    };
  } finally {
    await pdf.destroy();
  }
}

async function readDocument(fileName: string, bytes: Uint8Array, type: DetectedAttachment): Promise<Pick<ExtractedFile, 'document' | 'text'>> {
  if (type.extension === '.pdf') {
    return readPdf(bytes);
  }
  if (type.extension === '.docx') {
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(await boundedZipCopy(fileName, bytes)) });
    return { text: boundText(value) };
  }
  // Plain-text formats were checked as UTF-8 by detectAttachment.
  return { text: boundText(decodeText(bytes) ?? '') };
}

/** Checks one upload by content and reads what its category allows; a refused or unreadable file is a 400. */
export async function extractFile(upload: UploadedFile): Promise<ExtractedFile> {
  const type = await detectAttachment(upload.fileName, upload.bytes);
  const base: ExtractedFile = {
    fileName: upload.fileName,
    sizeBytes: upload.bytes.length,
    category: type.category,
    extension: type.extension,
    mimeType: type.mimeType,
    nameMatchesContent: type.nameMatchesContent,
  };
  try {
    switch (type.category) {
      case 'image':
        return { ...base, image: await readImage(upload.bytes) };
      case 'audio/video':
        return { ...base, media: await readMedia(upload.bytes, type.mimeType) };
      case 'document/text':
        return { ...base, ...(await readDocument(upload.fileName, upload.bytes, type)) };
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    // The right magic bytes on a truncated or corrupt body: the upload is at fault, and retrying cannot help.
    throw badRequest(`File "${upload.fileName}" looks like ${type.extension} but could not be read (${error instanceof Error ? error.message : String(error)})`);
  }
}
