import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ERROR_CODES } from '../../sdk/src';
import { ERROR_STATUS } from '../../src/core/errors';

const root = join(__dirname, '..', '..', '..');

describe('the @clara/sdk package', () => {
  test('builds on its own (its tsconfig: browser and React Native types, no Node types, nothing outside sdk/src) and loads', async () => {
    // Under the project (dist/), so the build resolves its one dependency (graphql-ws) as an app's would.
    const out = mkdtempSync(join(root, 'dist', 'sdk-package-'));
    try {
      const build = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'sdk', '--outDir', out], { cwd: root, encoding: 'utf8' });
      assert.equal(build.status, 0, `${build.stdout}${build.stderr}`);
      assert.ok(existsSync(join(out, 'index.d.ts')), 'with its type declarations');
      const sdk = require(join(out, 'index.js'));
      const client = new sdk.ClaraClient({ baseUrl: 'http://127.0.0.1:1/' });
      const manifest = JSON.parse(readFileSync(join(root, 'sdk', 'persisted-query-manifest.json'), 'utf8'));
      for (const { name } of manifest.operations) assert.equal(typeof client[name[0].toLowerCase() + name.slice(1)], 'function', name);

      // No server there: a typed NETWORK_ERROR, not a TypeError from fetch.
      const error = await client.viewer().then(() => assert.fail('no server listens there'), (thrown: unknown) => thrown);
      assert.ok(error instanceof sdk.ClaraError);
      assert.equal(error.code, 'NETWORK_ERROR');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test("its error codes are the server's catalogue (src/core/errors.ts)", () => {
    assert.deepEqual([...ERROR_CODES].sort(), Object.keys(ERROR_STATUS).sort());
  });

  test('its package.json ships the build and the manifest, and needs one runtime dependency: the graphql-ws client', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'sdk', 'package.json'), 'utf8'));
    assert.equal(pkg.name, '@clara/sdk');
    assert.deepEqual(pkg.files, ['dist', 'persisted-query-manifest.json']);
    assert.deepEqual(pkg.dependencies, { 'graphql-ws': '6.4.2' });
  });
});
