import { zipSync } from 'fflate';
import { fromBufferPromise, type Entry } from 'yauzl';
import { HostileFileError } from './analysis';

const MiB = 1024 * 1024;

/** What an honest .docx of at most a few MB never exceeds; a file past any of these is refused before parsing. */
export const ZIP_LIMITS = {
  maxEntries: 1_000,
  /** The sum of the entries' inflated sizes. */
  maxInflatedBytes: 50 * MiB,
  /** Inflated/compressed, checked on entries over 1 MiB: XML compresses ~5-20×, a bomb ~1000×. */
  maxCompressionRatio: 100,
  ratioCheckedFromBytes: MiB,
};

const bomb = (fileName: string, why: string) => new HostileFileError(`File "${fileName}" is a zip bomb: ${why}.`);

/** Refuses an entry whose declared sizes (central directory) break ZIP_LIMITS, before anything is inflated. */
function checkDeclared(fileName: string, entry: Entry, inflatedSoFar: number): void {
  const { uncompressedSize: inflated, compressedSize: compressed } = entry;
  if (inflated >= ZIP_LIMITS.ratioCheckedFromBytes && inflated > ZIP_LIMITS.maxCompressionRatio * Math.max(compressed, 1)) {
    throw bomb(fileName, `its entry "${entry.fileName}" inflates from ${compressed} to ${inflated} bytes, more than ${ZIP_LIMITS.maxCompressionRatio}× its compressed size`);
  }
  if (inflatedSoFar + inflated > ZIP_LIMITS.maxInflatedBytes) {
    throw bomb(fileName, `it inflates to more than the limit of ${ZIP_LIMITS.maxInflatedBytes / MiB} MB`);
  }
}

/** Inflates one entry, stopping as soon as it yields more than its header declared (a lying header). */
async function inflateEntry(fileName: string, stream: NodeJS.ReadableStream, entry: Entry): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > entry.uncompressedSize) throw bomb(fileName, `its entry "${entry.fileName}" inflates past the ${entry.uncompressedSize} bytes its header declares`);
      chunks.push(chunk);
    }
  } catch (error) {
    // yauzl's own size validation says the same thing in other words.
    if (!(error instanceof HostileFileError) && /too many bytes/.test(String((error as Error)?.message))) {
      throw bomb(fileName, `its entry "${entry.fileName}" inflates past the ${entry.uncompressedSize} bytes its header declares`);
    }
    throw error;
  }
  return Buffer.concat(chunks, length);
}

/**
 * Checks a zip (a .docx) against ZIP_LIMITS from its central directory (yauzl), inflates every entry while
 * checking that none yields more than declared, and returns an uncompressed copy of what was read. The
 * parser then reads the copy: nothing in it can inflate, and it holds exactly the entries checked here.
 */
export async function boundedZipCopy(fileName: string, bytes: Uint8Array): Promise<Uint8Array> {
  const zip = await fromBufferPromise(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true, validateEntrySizes: true, strictFileNames: false });
  try {
    if (zip.entryCount > ZIP_LIMITS.maxEntries) throw bomb(fileName, `it holds ${zip.entryCount} entries, more than the limit of ${ZIP_LIMITS.maxEntries}`);
    const files: Record<string, Uint8Array> = {};
    let inflated = 0;
    for await (const entry of zip.eachEntry()) {
      checkDeclared(fileName, entry, inflated);
      inflated += entry.uncompressedSize;
      if (entry.fileName.endsWith('/')) continue;
      files[entry.fileName] = await inflateEntry(fileName, await zip.openReadStreamPromise(entry), entry);
    }
    return zipSync(files, { level: 0 });
  } finally {
    zip.close();
  }
}
