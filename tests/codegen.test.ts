import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LoginDocument, ViewerDocument, type LoginMutation, type LoginMutationVariables, type ViewerQuery } from '../sdk/src';
import { testDatabases } from './helpers/database';
import { TestApp } from './helpers/harness';

const root = join(__dirname, '..', '..');

describe('GraphQL codegen', () => {
  test('the generated files (the SDK operations and its trusted-documents manifest) are current', () => {
    const check = spawnSync(join(root, 'node_modules', '.bin', 'graphql-codegen'), ['--config', 'codegen.yml', '--check'], { cwd: root, encoding: 'utf8' });
    assert.equal(check.status, 0, `run \`npm run codegen\`:\n${check.stdout}${check.stderr}`);
  });

  describe(`the typed operations run against the server (${testDatabases()[0]})`, () => {
    const t = new TestApp(testDatabases()[0]);
    before(() => t.start());
    after(() => t.stop());

    test('Login then Viewer, typed by the generated types', async () => {
      const user = await t.activeUser();
      const variables: LoginMutationVariables = { input: { email: user.email, password: user.password } };
      const res = await fetch(`${t.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: LoginDocument.body, variables, operationName: LoginDocument.name }),
      });
      const { data } = (await res.json()) as { data: LoginMutation };
      assert.deepEqual(data.login.userErrors, []);
      const viewer = await fetch(`${t.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${data.login.token}` },
        body: JSON.stringify({ query: ViewerDocument.body, operationName: ViewerDocument.name }),
      });
      const result = (await viewer.json()) as { data: ViewerQuery };
      assert.equal(result.data.viewer.id, data.login.user?.id);
      assert.equal(result.data.viewer.twoFactorMethod, null);
      assert.equal(result.data.viewer.is2faEnabled, false);
    });
  });
});
