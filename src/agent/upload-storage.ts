import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isId, type IdKind } from '../core/ids';

export class FileTooLargeError extends Error {}

/**
 * Keeps uploaded files in a local folder (AGENT_STORAGE_DIR), one sub-folder per task. Keys are made here,
 * never taken from clients, and are checked to stay inside the folder.
 */
export class UploadStorage {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(taskId: string, index: number, fileName: string, bytes: Uint8Array): Promise<string> {
    const key = await this.newKey(taskId, index, fileName);
    await writeFile(this.pathOf(key), bytes, { mode: 0o600 });
    return key;
  }

  /** Writes a stream into `folder` (an upload id); more than `maxBytes` fails with FileTooLargeError mid-stream. */
  async putStream(folder: string, fileName: string, stream: Readable, maxBytes: number): Promise<{ key: string; sizeBytes: number }> {
    const key = await this.newKey(folder, 0, fileName);
    let sizeBytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sizeBytes += chunk.length;
        done(sizeBytes > maxBytes ? new FileTooLargeError(`${fileName} is larger than the limit of ${maxBytes} bytes.`) : null, chunk);
      },
    });
    await pipeline(stream, counter, createWriteStream(this.pathOf(key), { mode: 0o600 }));
    return { key, sizeBytes };
  }

  /** A task's own copy of an uploaded file, so the task's folder holds all its inputs (retention, hostile files). */
  async copyToTask(key: string, taskId: string, index: number, fileName: string): Promise<string> {
    const target = await this.newKey(taskId, index, fileName);
    await copyFile(this.pathOf(key), this.pathOf(target));
    return target;
  }

  async read(key: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.pathOf(key)));
  }

  /** The task folders present, with when each was last written. */
  async taskFolders(): Promise<{ taskId: string; modifiedAt: Date }[]> {
    return (await this.folders('task')).map(({ id, modifiedAt }) => ({ taskId: id, modifiedAt }));
  }

  /** The folders of one kind (task or upload) present, with when each was last written. */
  async folders(kind: IdKind): Promise<{ id: string; modifiedAt: Date }[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const folders = entries.filter((entry) => entry.isDirectory() && isId(kind, entry.name));
    const stats = await Promise.all(folders.map((entry) => stat(join(this.root, entry.name)).catch(() => null)));
    return folders.flatMap((entry, index) => (stats[index] ? [{ id: entry.name, modifiedAt: stats[index].mtime }] : []));
  }

  /** Removes a task's or an upload's folder. */
  async removeTask(folder: string): Promise<void> {
    await rm(this.pathOf(folder), { recursive: true, force: true });
  }

  private async newKey(folder: string, index: number, fileName: string): Promise<string> {
    await mkdir(join(this.root, folder), { recursive: true });
    return `${folder}/${index}-${fileName.replace(/[^\w.-]+/g, '_').slice(-100)}`;
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error('storage key outside the upload folder');
    return path;
  }
}
