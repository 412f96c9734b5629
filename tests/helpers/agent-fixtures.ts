import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, Packer, Paragraph } from 'docx';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import piexif from 'piexifjs';
import type { UploadedFile } from '../../src/agent/analysis';

// Compiled to dist/tests/helpers; the committed fixtures stay in tests/fixtures (see its README).
const FIXTURES = join(__dirname, '..', '..', '..', 'tests', 'fixtures');

export const committedFixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

/** What jpegWithExif() writes, so tests assert against the same values. */
export const EXIF = {
  make: 'Canon',
  model: 'Canon EOS 80D',
  software: 'Adobe Photoshop 25.0 (Windows)',
  dateTimeOriginal: '2023:06:01 10:20:30',
  modifyDate: '2023:06:05 08:00:00',
  // The Eiffel Tower: 48°51'29.6"N 2°17'40.2"E.
  latitude: [[48, 1], [51, 1], [2960, 100]] as [number, number][],
  longitude: [[2, 1], [17, 1], [4020, 100]] as [number, number][],
};

/** The committed 16×12 JPEG with camera, software, capture time and GPS written into its EXIF. */
export function jpegWithExif(): Buffer {
  const exif = piexif.dump({
    '0th': {
      [piexif.ImageIFD.Make]: EXIF.make,
      [piexif.ImageIFD.Model]: EXIF.model,
      [piexif.ImageIFD.Software]: EXIF.software,
      [piexif.ImageIFD.DateTime]: EXIF.modifyDate,
    },
    Exif: { [piexif.ExifIFD.DateTimeOriginal]: EXIF.dateTimeOriginal },
    GPS: {
      [piexif.GPSIFD.GPSLatitudeRef]: 'N',
      [piexif.GPSIFD.GPSLatitude]: EXIF.latitude,
      [piexif.GPSIFD.GPSLongitudeRef]: 'E',
      [piexif.GPSIFD.GPSLongitude]: EXIF.longitude,
    },
  });
  return Buffer.from(piexif.insert(exif, committedFixture('base.jpg').toString('binary')), 'binary');
}

/** A mono 16-bit PCM WAV of silence: its duration is exactly seconds. */
export function wav(seconds: number, sampleRate = 8000): Buffer {
  const dataBytes = Math.round(seconds * sampleRate) * 2;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // channels
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // bytes per second
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}

export const PDF = {
  title: 'Bridge facts',
  author: 'Clara Tests',
  creator: 'Clara fixture generator',
  producer: 'pdf-lib',
  text: 'The Golden Gate Bridge opened in 1937. Its main span is 1280 metres long.',
  created: new Date('2020-01-15T09:00:00Z'),
  modified: new Date('2024-02-02T12:00:00Z'),
};

export async function pdf(): Promise<Buffer> {
  // updateMetadata: false keeps the dates below instead of stamping "now" on save.
  const doc = await PDFDocument.create({ updateMetadata: false });
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage().drawText(PDF.text, { x: 40, y: 700, size: 11, font });
  doc.setTitle(PDF.title);
  doc.setAuthor(PDF.author);
  doc.setCreator(PDF.creator);
  doc.setProducer(PDF.producer);
  doc.setCreationDate(PDF.created);
  doc.setModificationDate(PDF.modified);
  return Buffer.from(await doc.save());
}

export const DOCX_TEXT = 'Acme Corporation hired 250 engineers in Berlin in 2022.';

export async function docx(): Promise<Buffer> {
  return Packer.toBuffer(new Document({ sections: [{ children: [new Paragraph(DOCX_TEXT)] }] }));
}

export const upload = (fileName: string, bytes: Uint8Array | string): UploadedFile => ({
  fileName,
  bytes: typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes,
});

/** A .docx whose word/document.xml is replaced by `paragraphs` (WordprocessingML <w:p> elements). */
export async function docxWithBody(paragraphs: string, level: 1 | 6 | 9 = 6): Promise<Buffer> {
  const parts = unzipSync(await docx());
  const xml = strFromU8(parts['word/document.xml']);
  const first = xml.indexOf('<w:p>');
  const last = xml.indexOf('</w:p>', first) + '</w:p>'.length;
  parts['word/document.xml'] = strToU8(xml.slice(0, first) + paragraphs + xml.slice(last));
  return Buffer.from(zipSync(parts, { level }));
}

let bomb: Promise<Buffer> | undefined;
/** The zip bomb of the security review: a document.xml of ~100 MB of one repeated sentence, ~100 KB zipped. */
export function docxBomb(): Promise<Buffer> {
  bomb ??= docxWithBody(`<w:p><w:r><w:t>${'All work and no play makes Jack a dull boy. '.repeat(2_300_000)}</w:t></w:r></w:p>`, 9);
  return bomb;
}

/** The bomb with headers that lie: its central directory and local header declare document.xml as `declared` bytes. */
export async function docxBombWithLyingHeaders(declared = 4096): Promise<Buffer> {
  const zip = Buffer.from(await docxBomb());
  const name = Buffer.from('word/document.xml');
  const patch = (signature: number, sizeAt: number, nameAt: number) => {
    for (let at = zip.indexOf(Buffer.from(new Uint32Array([signature]).buffer)); at >= 0; at = zip.indexOf(Buffer.from(new Uint32Array([signature]).buffer), at + 4)) {
      if (zip.subarray(at + nameAt, at + nameAt + name.length).equals(name)) zip.writeUInt32LE(declared, at + sizeAt);
    }
  };
  patch(0x02014b50, 24, 46); // central directory header: uncompressed size at 24, name at 46
  patch(0x04034b50, 22, 30); // local file header: uncompressed size at 22, name at 30
  return zip;
}

/** A .docx inside every zip limit whose ~`megabytes` MB of tiny paragraphs need far more heap than that to parse. */
export function denseDocx(megabytes: number): Promise<Buffer> {
  const paragraphs: string[] = [];
  for (let n = 0, size = 0; size < megabytes * 1_000_000; n++) {
    const paragraph = `<w:p><w:r><w:t>${(n * 7919) % 1_000_003}</w:t></w:r></w:p>`;
    paragraphs.push(paragraph);
    size += paragraph.length;
  }
  return docxWithBody(paragraphs.join(''), 1);
}
