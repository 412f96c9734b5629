import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DataDirInUseError, lockDataDir } from '../../src/database/data-dir-lock';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'src', 'credits', 'adjust-credits.cli.js');

for (const db of testDatabases()) {
  describe(`credits:adjust command (${db})`, () => {
    let t: TestApp;
    const adjust = (...args: string[]) =>
      run(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: String(t.orm.config.get('clientUrl')), DATA_DIR: t.config.dataDir, JWT_SECRET: 'x', NODE_ENV: 'test' } });

    before(async () => {
      t = await new TestApp(db).start();
    });
    after(() => t.stop());

    test('grants and removes credits by email or user id, with a ledger row each', async () => {
      const user = await t.activeUser();
      const granted = await adjust(user.email.toUpperCase(), '250', 'support', 'ticket', '42');
      assert.match(granted.stdout, /Admin updated credits from 0 to 250: support ticket 42/);
      const removed = await adjust(user.id, '-50', 'chargeback');
      assert.match(removed.stdout, /from 250 to 200: chargeback/);
      const list = await t.rest('GET', `/users/${user.id}/transactions`, { auth: user.token });
      assert.deepEqual(list.body.data.map((tx: any) => [tx.type, tx.value_in_credits]), [['DEBIT', 50], ['CREDIT', 250]]);
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.credits, 200);
    });

    test('refuses bad usage, unknown users and overdrafts without changing anything', async () => {
      const user = await t.activeUser();
      for (const args of [[user.email, 'ten', 'x'], [user.email, '10'], ['nobody@example.com', '10', 'x'], [user.email, '-1', 'overdraft']]) {
        await assert.rejects(adjust(...args), (error: { code: number; stderr: string }) => error.code === 1 && error.stderr.length > 0, args.join(' '));
      }
      assert.deepEqual((await t.rest('GET', `/users/${user.id}/transactions`, { auth: user.token })).body.data, []);
    });
  });
}

describe('credits:adjust and the embedded database of a running service', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clara-adjust-lock-'));
  const folder = join(dataDir, 'pglite');
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  // No DATABASE_URL: the command opens the embedded database's folder, as next to `npm start`.
  const adjustEmbedded = (...args: string[]) => {
    const { DATABASE_URL: _ignored, ...env } = process.env;
    return run(process.execPath, [CLI, ...args], { env: { ...env, DATA_DIR: dataDir, JWT_SECRET: 'x', NODE_ENV: 'test' }, timeout: 60_000 });
  };
  const failure = (pattern: RegExp) => (error: { code: number; stderr: string }) => error.code === 1 && pattern.test(error.stderr);

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
    // Now the command owns the folder and reaches the database (which has no such user).
    await assert.rejects(adjustEmbedded('ada@example.com', '100', 'goodwill'), failure(/No user ada@example.com/));
  });

  test("a lock left behind by a process that died is taken over", async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${folder}.lock`, String(dead));
    await assert.rejects(adjustEmbedded('ada@example.com', '100', 'goodwill'), failure(/No user ada@example.com/));
    assert.equal(existsSync(`${folder}.lock`), false);
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
