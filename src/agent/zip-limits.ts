import { unzipSync, zipSync, type UnzipFileInfo } from 'fflate';
import { HostileFileError } from './analysis';

/** What an honest .docx of at most a few MB never exceeds; a file past any of these is refused before parsing. */
export const ZIP_LIMITS = {
  maxEntries: 1_000,
  /** The sum of the entries' inflated sizes. */
  maxInflatedBytes: 50 * 1024 * 1024,
  /** Inflated/compressed, checked on entries over 1 MiB: XML compresses ~5-20×, a bomb ~1000×. */
  maxCompressionRatio: 100,
  ratioCheckedFromBytes: 1024 * 1024,
};

const MiB = 1024 * 1024;

/** Reads the central directory only (fflate's filter sees each entry before anything is inflated). */
function centralDirectory(fileName: string, bytes: Uint8Array): UnzipFileInfo[] {
  const entries: UnzipFileInfo[] = [];
  unzipSync(bytes, {
    filter: (entry) => {
      if (entries.length >= ZIP_LIMITS.maxEntries) throw new HostileFileError(`File "${fileName}" holds more than ${ZIP_LIMITS.maxEntries} zip entries; refused as a zip bomb.`);
      entries.push(entry);
      return false;
    },
  });
  return entries;
}

/**
 * Checks a zip's declared sizes against ZIP_LIMITS (refusing a bomb as hostile), then inflates it into a new,
 * uncompressed zip: each entry into a buffer of its declared size, so an entry whose header lies about its size
 * is cut there instead of growing without bound inside the parser that reads the copy.
 */
export function boundedZipCopy(fileName: string, bytes: Uint8Array): Uint8Array {
  const entries = centralDirectory(fileName, bytes);
  let total = 0;
  for (const entry of entries) {
    total += entry.originalSize;
    if (entry.originalSize >= ZIP_LIMITS.ratioCheckedFromBytes && entry.originalSize > ZIP_LIMITS.maxCompressionRatio * Math.max(entry.size, 1)) {
      throw new HostileFileError(
        `File "${fileName}" is a zip bomb: its entry "${entry.name}" inflates from ${entry.size} bytes to ${entry.originalSize} bytes (more than ${ZIP_LIMITS.maxCompressionRatio}× its compressed size).`,
      );
    }
  }
  if (total > ZIP_LIMITS.maxInflatedBytes) {
    throw new HostileFileError(`File "${fileName}" is a zip bomb: it inflates to ${Math.ceil(total / MiB)} MB, more than the limit of ${ZIP_LIMITS.maxInflatedBytes / MiB} MB.`);
  }
  return zipSync(unzipSync(bytes), { level: 0 });
}
