import { linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';

/** A data folder another live process owns: two PGlite instances on one folder lose writes or corrupt it. */
export class DataDirInUseError extends Error {
  constructor(readonly dataDir: string, readonly ownerPid: number) {
    super(`The embedded database in ${dataDir} is in use by another process (pid ${ownerPid}).`);
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock { release(): void }

/** Lock files this process holds; one naming our pid but not listed is a previous process's (e.g. pid 1 in a restarted container). */
const held = new Set<string>();

/**
 * Takes `<dataDir>.lock`, created exclusively and holding the owner's pid. A lock whose process is gone
 * (killed, crashed) is stale and taken over; a live owner's lock is refused with DataDirInUseError.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const lockFile = `${dataDir}.lock`;
  // Written whole first and then linked into place: link() fails atomically if the lock exists, and a
  // lock is never seen half-written.
  const candidate = `${lockFile}.${process.pid}`;
  writeFileSync(candidate, String(process.pid), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(candidate, lockFile);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = readOwner(lockFile);
        if (owner !== undefined && isAlive(owner, lockFile)) throw new DataDirInUseError(dataDir, owner);
        if (owner !== undefined) removeIfOwnedBy(lockFile, owner); // stale: its process is gone
        continue;
      }
      // A process that exits without stop() (e.g. process.exit on an error) leaves no lock behind.
      held.add(lockFile);
      const releaseOnExit = () => {
        held.delete(lockFile);
        removeIfOwnedBy(lockFile, process.pid);
      };
      process.once('exit', releaseOnExit);
      return {
        release() {
          process.off('exit', releaseOnExit);
          releaseOnExit();
        },
      };
    }
  } finally {
    rmSync(candidate, { force: true });
  }
  throw new Error(`Could not lock ${dataDir}: ${lockFile} keeps changing; is another process starting on it?`);
}

function readOwner(lockFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // removed meanwhile
  }
}

function isAlive(pid: number, lockFile: string): boolean {
  if (pid === process.pid) return held.has(lockFile);
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

/** Removes the lock only if it still names `pid` (another process may have taken it over meanwhile). */
function removeIfOwnedBy(lockFile: string, pid: number | undefined): void {
  if (readOwner(lockFile) !== pid) return;
  try {
    unlinkSync(lockFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
