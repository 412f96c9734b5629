import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { isId } from '../core/ids';

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
    const key = `${taskId}/${index}-${fileName.replace(/[^\w.-]+/g, '_').slice(-100)}`;
    const path = this.pathOf(key);
    await mkdir(join(this.root, taskId), { recursive: true });
    await writeFile(path, bytes, { mode: 0o600 });
    return key;
  }

  async read(key: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.pathOf(key)));
  }

  /** The task folders present, with when each was last written. */
  async taskFolders(): Promise<{ taskId: string; modifiedAt: Date }[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const folders = entries.filter((entry) => entry.isDirectory() && isId('task', entry.name));
    const stats = await Promise.all(folders.map((entry) => stat(join(this.root, entry.name)).catch(() => null)));
    return folders.flatMap((entry, index) => (stats[index] ? [{ taskId: entry.name, modifiedAt: stats[index].mtime }] : []));
  }

  async removeTask(taskId: string): Promise<void> {
    await rm(this.pathOf(taskId), { recursive: true, force: true });
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error('storage key outside the upload folder');
    return path;
  }
}
