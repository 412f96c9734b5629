import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DataDirInUseError, lockDataDir } from '../../src/database/data-dir-lock';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'src', 'credits', 'adjust-credits.cli.js');

/** Only the embedded database has a data folder to share, so this suite has no PostgreSQL variant. */
describe('credits:adjust and the embedded database of a running service', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clara-adjust-lock-'));
  const folder = join(dataDir, 'pglite');
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  // No DATABASE_URL: the command opens the embedded database's folder, as next to `npm start`.
  const adjustEmbedded = (...args: string[]) => {
    const { DATABASE_URL: _ignored, ...env } = process.env;
    return run(process.execPath, [CLI, ...args], { env: { ...env, DATA_DIR: dataDir, JWT_SECRET: 'x', NODE_ENV: 'test' }, timeout: 90_000 });
  };

  test('refuses while the service serves the folder, and says what to do instead', async () => {
    const service = await startEmbeddedPostgres(folder); // what main.ts does when DATABASE_URL is unset
    try {
      await assert.rejects(adjustEmbedded('ada@example.com', '100', 'goodwill'), (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, new RegExp(`in use by another process \\(pid ${process.pid}\\)`));
        assert.match(error.stderr, /Stop the service first/);
        assert.match(error.stderr, /adjustCredits with Authorization: <ADMIN_API_KEY>/);
        return true;
      });
    } finally {
      await service.stop();
    }
    assert.equal(existsSync(`${folder}.lock`), false, 'stopping the service releases the folder');
  });

  test('a lock left behind by a process that died is taken over', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${folder}.lock`, String(dead));
    // The command owns the folder and reaches the database, which has no such user.
    await assert.rejects(adjustEmbedded('ada@example.com', '100', 'goodwill'), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /No user ada@example.com/);
      return true;
    });
    assert.equal(existsSync(`${folder}.lock`), false, 'and releases it when done');
  });

  test('one owner per folder within a process too; a lock naming our pid from an earlier life is stale', () => {
    const lockFolder = join(dataDir, 'other');
    const lock = lockDataDir(lockFolder);
    assert.equal(readFileSync(`${lockFolder}.lock`, 'utf8'), String(process.pid));
    assert.throws(() => lockDataDir(lockFolder), DataDirInUseError);
    lock.release();
    // e.g. pid 1 in a restarted container: our pid, but not a lock this process took
    writeFileSync(`${lockFolder}.lock`, String(process.pid));
    lockDataDir(lockFolder).release();
    assert.equal(existsSync(`${lockFolder}.lock`), false);
  });
});
