import { ref, type EntityManager } from '@mikro-orm/postgresql';
import type { Readable } from 'node:stream';
import type { User } from '../accounts/user.entity';
import { badRequest, DomainError } from '../core/errors';
import { isId } from '../core/ids';
import { detectAttachment } from './supported-attachments';
import { Upload } from './upload.entity';
import { FileTooLargeError, type UploadStorage } from './upload-storage';

const HOUR_MS = 3_600_000;
/** An upload folder with no row is a request still streaming (or one that died): kept this long at least. */
const ORPHAN_GRACE_MS = HOUR_MS;

export interface IncomingFile { fileName: string; stream: Readable }

/**
 * Files uploaded ahead of an analysis (two-step upload): streamed to the upload storage with the per-file limit,
 * checked like an analysis's inline files, recorded as Upload rows, consumed once by a task.
 */
export class UploadsService {
  constructor(private readonly deps: { storage: UploadStorage; maxFileBytes: number; retentionHours: number }) {}

  /**
   * Stores every file, or none: a file over the limit (413), of a refused type or a malformed body (400)
   * removes what this request already wrote, and no row is written.
   */
  async receive(em: EntityManager, user: User, files: AsyncIterable<IncomingFile>): Promise<Upload[]> {
    const uploads: Upload[] = [];
    try {
      for await (const file of files) {
        const fileName = file.fileName.trim();
        if (!fileName || fileName.length > 255) throw badRequest('Every file part needs a file name (its part name) of at most 255 characters.');
        if (uploads.some((upload) => upload.fileName === fileName)) throw badRequest('Two files have the same name.');
        const upload = Object.assign(new Upload(), { owner: ref(user), fileName });
        uploads.push(upload); // before writing, so a failed write is cleaned up too
        const stored = await this.deps.storage.putStream(upload.id, fileName, file.stream, this.deps.maxFileBytes).catch((error: unknown) => {
          if (error instanceof FileTooLargeError) throw new DomainError('PAYLOAD_TOO_LARGE', error.message);
          // A file-system failure is ours (500); anything else broke the incoming stream (a malformed body).
          if ((error as NodeJS.ErrnoException).syscall) throw error;
          throw badRequest(`${fileName} could not be read from the request.`);
        });
        const detected = await detectAttachment(fileName, await this.deps.storage.read(stored.key));
        Object.assign(upload, { storageKey: stored.key, sizeBytes: stored.sizeBytes, category: detected.category, mimeType: detected.mimeType });
      }
      if (!uploads.length) throw badRequest('Send at least one file part, named by its file name.');
      await em.persist(uploads).flush();
      return uploads;
    } catch (error) {
      await Promise.all(uploads.map((upload) => this.deps.storage.removeTask(upload.id).catch(() => undefined)));
      throw error;
    }
  }

  /** The caller's own unconsumed uploads with these ids, in order; someone else's or unknown: NOT_FOUND. */
  async usable(em: EntityManager, userId: string, ids: string[]): Promise<Upload[]> {
    if (new Set(ids).size !== ids.length) throw badRequest('An upload id is given twice.', ['input', 'uploadIds']);
    const rows = await em.find(Upload, { id: { $in: ids.filter((id) => isId('upload', id)) }, owner: userId });
    return ids.map((id, index) => {
      const upload = rows.find((row) => row.id === id);
      const field = ['input', 'uploadIds', String(index)];
      if (!upload) throw new DomainError('NOT_FOUND', `Upload ${id} not found.`, null, field);
      if (upload.taskId) throw new DomainError('CONFLICT', `Upload ${id} was already used by task ${upload.taskId}.`, null, field);
      return upload;
    });
  }

  /** Inside the task's transaction: marks the uploads consumed, unless another task took one meanwhile. */
  async consume(tx: EntityManager, userId: string, ids: string[], taskId: string): Promise<void> {
    if (!ids.length) return;
    const changed = await tx.nativeUpdate(Upload, { id: { $in: ids }, owner: userId, taskId: null }, { taskId });
    if (changed !== ids.length) throw new DomainError('CONFLICT', 'An upload was already used by another task.', null, ['input', 'uploadIds']);
  }

  /** After the task committed: its copies are in the task's folder, so the uploads' own files go. */
  async removeFiles(uploads: Upload[]): Promise<void> {
    await Promise.all(uploads.map((upload) => this.deps.storage.removeTask(upload.id).catch(() => undefined)));
  }

  /**
   * Deletes uploads never used by a task once they are older than the retention period (rows and files), and
   * upload folders left behind (consumed, or from a request that never committed). Idempotent.
   */
  async removeExpired(em: EntityManager, now: Date = new Date()): Promise<number> {
    const createdBefore = new Date(now.getTime() - this.deps.retentionHours * HOUR_MS);
    const orphanedBefore = new Date(Math.min(createdBefore.getTime(), now.getTime() - ORPHAN_GRACE_MS));
    let removed = 0;
    const expired = await em.find(Upload, { taskId: null, createdAt: { $lte: createdBefore } }, { fields: ['id'], limit: 1000 });
    for (const upload of expired) {
      await this.deps.storage.removeTask(upload.id);
      removed += await em.nativeDelete(Upload, { id: upload.id, taskId: null });
    }
    const folders = await this.deps.storage.folders('upload');
    for (let i = 0; i < folders.length; i += 500) {
      const batch = folders.slice(i, i + 500);
      const rows = await em.find(Upload, { id: { $in: batch.map((folder) => folder.id) } }, { fields: ['id', 'taskId'] });
      const uploads = new Map(rows.map((row) => [row.id, row]));
      for (const folder of batch) {
        const upload = uploads.get(folder.id);
        if (upload ? !upload.taskId : folder.modifiedAt > orphanedBefore) continue;
        await this.deps.storage.removeTask(folder.id);
      }
    }
    return removed;
  }
}
