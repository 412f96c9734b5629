import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeUploads } from '../../src/agent/analyze-uploads';
import type { AnalysisResult, FileFinding } from '../../src/agent/analysis';
import { MAX_TEXT_CHARS, extractFile } from '../../src/agent/extract';
import { LOCAL_DISCLAIMER, LocalAnalyzer } from '../../src/agent/local-analyzer';
import { DomainError } from '../../src/core/errors';
import { DOCX_TEXT, EXIF, PDF, committedFixture, docx, jpegWithExif, pdf, upload, wav } from '../helpers/agent-fixtures';

const local = new LocalAnalyzer();

function finding(result: AnalysisResult, fileName: string): FileFinding {
  const found = result.files.find((file) => file.fileName === fileName);
  assert.ok(found, `no finding for ${fileName}`);
  return found;
}

const messages = (file: FileFinding) => file.findings.map((f) => f.message);

describe('extraction', () => {
  test('a JPEG gives its EXIF camera, software, capture time, GPS and dimensions', async () => {
    const file = await extractFile(upload('eiffel.jpg', jpegWithExif()));
    assert.deepEqual(file.image, {
      width: 16,
      height: 12,
      captureTime: '2023-06-01T10:20:30',
      modifyTime: '2023-06-05T08:00:00',
      make: EXIF.make,
      model: EXIF.model,
      software: EXIF.software,
      gps: file.image?.gps,
    });
    assert.ok(Math.abs(file.image!.gps!.latitude - (48 + 51 / 60 + 29.6 / 3600)) < 1e-6);
    assert.ok(Math.abs(file.image!.gps!.longitude - (2 + 17 / 60 + 40.2 / 3600)) < 1e-6);
    assert.equal(file.sizeBytes, jpegWithExif().length);
  });

  test('a WAV gives its exact duration and format', async () => {
    const file = await extractFile(upload('voice.wav', wav(1.5)));
    assert.equal(file.media?.durationSeconds, 1.5);
    assert.equal(file.media?.sampleRate, 8000);
    assert.equal(file.media?.channels, 1);
    assert.equal(file.media?.hasAudio, true);
    assert.equal(file.media?.hasVideo, false);
    assert.ok(file.media?.codecs.includes('PCM'), String(file.media?.codecs));
  });

  test('an MP4 gives its duration, codecs, encoder and creation time', async () => {
    const file = await extractFile(upload('clip.mp4', committedFixture('clip.mp4')));
    const media = file.media!;
    assert.ok(Math.abs(media.durationSeconds! - 1) < 0.05, String(media.durationSeconds));
    assert.ok(media.codecs.includes('avc1'), String(media.codecs));
    assert.ok(media.codecs.includes('MPEG-4/AAC'), String(media.codecs));
    assert.equal(media.encoder, 'Lavf59.27.100');
    assert.equal(media.creationTime, '2024-03-01T10:00:00.000Z');
    assert.equal(media.hasVideo, true);
    assert.equal(media.hasAudio, true);
  });

  test('a PDF gives its text, page count and document metadata', async () => {
    const file = await extractFile(upload('bridge.pdf', await pdf()));
    assert.equal(file.text?.content, PDF.text);
    assert.deepEqual(file.document, {
      pages: 1,
      title: PDF.title,
      author: PDF.author,
      creator: PDF.creator,
      producer: PDF.producer,
      creationTime: PDF.created.toISOString(),
      modifyTime: PDF.modified.toISOString(),
    });
  });

  test('a DOCX gives its text', async () => {
    const file = await extractFile(upload('memo.docx', await docx()));
    assert.equal(file.text?.content, DOCX_TEXT);
  });

  test('a file with the right magic bytes but a corrupt body is refused with a 400', async () => {
    const truncated = (await pdf()).subarray(0, 40);
    await assert.rejects(extractFile(upload('broken.pdf', truncated)), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'BAD_REQUEST');
      assert.match(error.message, /^File "broken.pdf" looks like .pdf but could not be read/);
      return true;
    });
  });

  test('long text is bounded and marked truncated', async () => {
    const long = 'word '.repeat(MAX_TEXT_CHARS);
    const file = await extractFile(upload('long.txt', long));
    assert.equal(file.text?.content.length, MAX_TEXT_CHARS);
    assert.equal(file.text?.totalChars, long.trim().length);
    assert.equal(file.text?.truncated, true);
  });
});

describe('local analyzer', () => {
  test('reports the photo forensics and the prompt claims, judging nothing', async () => {
    const prompt = 'This photo of the Eiffel Tower was taken on 12 March 2021 by a tourist from Lyon. Is it real?';
    const result = await analyzeUploads(local, prompt, [upload('eiffel.jpg', jpegWithExif()), upload('plain.jpg', committedFixture('base.jpg'))]);

    assert.equal(result.kind, 'local-report');
    assert.deepEqual(result.provider, { name: 'local', model: null });
    assert.equal(result.confidence, null);
    assert.equal(result.disclaimer, LOCAL_DISCLAIMER);

    const photo = finding(result, 'eiffel.jpg');
    assert.equal(photo.facts.camera, 'Canon EOS 80D');
    assert.equal(photo.facts.software, EXIF.software);
    assert.equal(photo.facts.capture_time, '2023-06-01T10:20:30');
    assert.deepEqual(messages(photo), [
      `edited with ${EXIF.software}`,
      'modified on 2023-06-05, after capture on 2023-06-01',
      'GPS location present (48.85822, 2.29450)',
      'capture date 2023-06-01 is after the date claimed in the prompt ("on 12 March 2021")',
    ]);
    assert.deepEqual(
      photo.findings.map((f) => [f.kind, f.severity, f.evidence]),
      [
        ['edited', 'warning', EXIF.software],
        ['modified-after-capture', 'warning', photo.facts.modify_time],
        ['gps-present', 'info', '48.85822, 2.29450'],
        ['later-than-claimed', 'alert', '2023-06-01T10:20:30'],
      ],
      'each finding is typed: kind, severity and the evidence that raised it',
    );
    assert.deepEqual(messages(finding(result, 'plain.jpg')), [
      'no camera metadata (possibly stripped, a screenshot, or generated)',
      'no capture time recorded',
    ]);

    assert.equal(result.claims.length, 1);
    const [claim] = result.claims;
    assert.equal(claim.text, 'This photo of the Eiffel Tower was taken on 12 March 2021 by a tourist from Lyon.');
    assert.equal(claim.source, 'prompt');
    assert.equal(claim.assessment, 'unverifiable');
    assert.equal(claim.confidence, null);
    assert.match(claim.reasoning, /a date/);
    assert.match(claim.reasoning, /a named place/);
    assert.match(result.summary, /2 files .* 1 checkable claim found, 6 flags raised/);
    assert.deepEqual(JSON.parse(JSON.stringify(result)), result);
  });

  test('media: duration, codecs and re-encoding are reported', async () => {
    const result = await local.analyze({
      prompt: 'Recorded live in June 2025.',
      files: [await extractFile(upload('clip.mp4', committedFixture('clip.mp4'))), await extractFile(upload('voice.wav', wav(2)))],
    });
    const clip = finding(result, 'clip.mp4');
    assert.equal(clip.facts.encoder, 'Lavf59.27.100');
    assert.equal(clip.facts.creation_time, '2024-03-01T10:00:00.000Z');
    assert.deepEqual(messages(clip), ['re-encoded by Lavf59.27.100']);
    const voice = finding(result, 'voice.wav');
    assert.equal(voice.facts.duration_seconds, 2);
    assert.deepEqual(messages(voice), ['no creation time recorded']);
  });

  test('a creation date after the claimed date is flagged for media too', async () => {
    const result = await local.analyze({
      prompt: 'This clip was filmed in January 2023.',
      files: [await extractFile(upload('clip.mp4', committedFixture('clip.mp4')))],
    });
    assert.ok(messages(finding(result, 'clip.mp4')).includes('creation date 2024-03-01 is after the date claimed in the prompt ("January 2023")'));
  });

  test('documents and text: statistics and checkable claims, each with its source file', async () => {
    const text = 'Prices went up. The city of Oslo has 709,000 inhabitants. Nobody knows why.\nInflation reached 4.8% in 2023.';
    const result = await analyzeUploads(local, 'Check these.', [
      upload('bridge.pdf', await pdf()),
      upload('memo.docx', await docx()),
      upload('notes.txt', text),
    ]);
    assert.deepEqual(
      result.claims.map((claim) => [claim.source, claim.text]),
      [
        ['bridge.pdf', 'The Golden Gate Bridge opened in 1937.'],
        ['bridge.pdf', 'Its main span is 1280 metres long.'],
        ['memo.docx', DOCX_TEXT],
        ['notes.txt', 'The city of Oslo has 709,000 inhabitants.'],
        ['notes.txt', 'Inflation reached 4.8% in 2023.'],
      ],
    );
    assert.ok(result.claims.every((claim) => claim.assessment === 'unverifiable'));
    assert.match(result.claims[1].reasoning, /a number or quantity/);

    const notes = finding(result, 'notes.txt');
    assert.equal(notes.facts.words, 18);
    assert.equal(notes.facts.sentences, 4);
    assert.deepEqual(messages(notes), []);
    const bridge = finding(result, 'bridge.pdf');
    assert.equal(bridge.facts.pages, 1);
    assert.equal(bridge.facts.words, 14);
    assert.deepEqual(messages(bridge), ['modified on 2024-02-02, after creation on 2020-01-15']);
  });

  test('a file whose name hides another format is flagged', async () => {
    const result = await analyzeUploads(local, '', [upload('photo.jpg', committedFixture('tiny.png'))]);
    assert.equal(messages(finding(result, 'photo.jpg'))[0], 'named .jpg but the content is .png');
    assert.equal(finding(result, 'photo.jpg').facts.width, 8);
  });

  test('an upload refused by content stops the analysis with a 400', async () => {
    await assert.rejects(analyzeUploads(local, 'x', [upload('fake.jpg', 'not an image')]), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'BAD_REQUEST');
      return true;
    });
  });
});
