import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '../../src/core/errors';
import { SUPPORTED_ATTACHMENTS, detectAttachment } from '../../src/agent/supported-attachments';
import { committedFixture, docx, jpegWithExif, pdf, wav } from '../helpers/agent-fixtures';

/** Asserts a 400 DomainError whose message matches. */
async function refused(fileName: string, bytes: Uint8Array | string, message: RegExp) {
  await assert.rejects(detectAttachment(fileName, typeof bytes === 'string' ? Buffer.from(bytes) : bytes), (error: unknown) => {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, 'BAD_REQUEST');
    assert.equal(error.status, 400);
    assert.match(error.message, message);
    return true;
  });
}

describe('supported attachments', () => {
  test('are grouped by category with the usual extensions', () => {
    assert.deepEqual(Object.keys(SUPPORTED_ATTACHMENTS), ['image', 'audio/video', 'document/text']);
    for (const ext of ['.jpg', '.jpeg', '.png', '.gif', '.webp']) assert.ok(SUPPORTED_ATTACHMENTS.image.includes(ext), ext);
    for (const ext of ['.mp3', '.wav', '.m4a', '.mp4', '.mov', '.webm']) assert.ok(SUPPORTED_ATTACHMENTS['audio/video'].includes(ext), ext);
    for (const ext of ['.pdf', '.docx', '.txt', '.md', '.csv', '.json']) assert.ok(SUPPORTED_ATTACHMENTS['document/text'].includes(ext), ext);
  });

  test('a PNG named .png is accepted as an image', async () => {
    assert.deepEqual(await detectAttachment('chart.png', committedFixture('tiny.png')), {
      category: 'image',
      extension: '.png',
      mimeType: 'image/png',
      nameExtension: '.png',
      nameMatchesContent: true,
    });
  });

  test('each generated fixture is recognised by its content', async () => {
    const cases: [string, Uint8Array, string, string][] = [
      ['photo.JPG', jpegWithExif(), '.jpg', 'image/jpeg'],
      ['tone.wav', wav(1), '.wav', 'audio/wav'],
      ['clip.mp4', committedFixture('clip.mp4'), '.mp4', 'video/mp4'],
      ['report.pdf', await pdf(), '.pdf', 'application/pdf'],
      ['memo.docx', await docx(), '.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ];
    for (const [name, bytes, extension, mimeType] of cases) {
      const detected = await detectAttachment(name, bytes);
      assert.equal(detected.extension, extension, name);
      assert.equal(detected.mimeType, mimeType, name);
      assert.equal(detected.nameMatchesContent, true, name);
    }
  });

  test('UTF-8 text, Markdown, CSV and JSON are accepted as text', async () => {
    assert.equal((await detectAttachment('notes.txt', Buffer.from('Café prices rose 5% — says Zoë.'))).mimeType, 'text/plain');
    assert.equal((await detectAttachment('README.md', Buffer.from('# Title\n'))).mimeType, 'text/markdown');
    assert.equal((await detectAttachment('data.csv', Buffer.from('a,b\n1,2\n'))).mimeType, 'text/csv');
    assert.equal((await detectAttachment('post.json', Buffer.from('{"text":"hi"}'))).mimeType, 'application/json');
  });

  test('another format of the same category is accepted, and the mismatch reported', async () => {
    const detected = await detectAttachment('photo.jpg', committedFixture('tiny.png'));
    assert.equal(detected.extension, '.png');
    assert.equal(detected.nameExtension, '.jpg');
    assert.equal(detected.nameMatchesContent, false);
  });

  test('a .jpg that is really a text file is refused', () => refused('photo.jpg', 'This is not a picture at all.\n', /named as image but holds text/));

  test('executables and archives are refused, by name and by content', async () => {
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(126)]);
    await refused('setup.exe', exe, /not a supported type/);
    await refused('archive.zip', committedFixture('plain.zip'), /not a supported type/);
    await refused('report.pdf', exe, /named as document\/text but holds EXE content/);
    await refused('memo.docx', committedFixture('plain.zip'), /named as document\/text but holds ZIP content/);
    await refused('song.mp3', committedFixture('plain.zip'), /named as audio\/video but holds ZIP content/);
  });

  test('content of another category is refused even when it is supported', () =>
    refused('clip.mp4', committedFixture('tiny.png'), /named as audio\/video but holds PNG content/));

  test('text that is not UTF-8, contains NUL or is not JSON is refused', async () => {
    await refused('latin1.txt', Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x0a]), /not valid UTF-8 text/);
    await refused('binary.txt', Buffer.from('abc\0def'), /not valid UTF-8 text/);
    await refused('post.json', '{"text": ', /not valid JSON/);
  });

  test('an empty file or a name without a supported extension is refused', async () => {
    await refused('empty.txt', Buffer.alloc(0), /is empty/);
    await refused('README', 'text', /not a supported type/);
  });
});
