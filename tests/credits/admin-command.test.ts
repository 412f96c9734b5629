import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
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
