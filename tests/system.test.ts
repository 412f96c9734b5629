import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { resolvers, noPubSub } from '../src/graphql/schema';
import { testDatabases } from './helpers/database';
import { PUBLIC_KEY, TestApp } from './helpers/harness';

const root = join(__dirname, '..', '..');

describe('checked-in GraphQL schema', () => {
  test('schema/schema.graphql matches the resolvers (run `npm run schema:emit` when this fails)', async () => {
    const current = printSchema(lexicographicSortSchema(await buildSchema({ resolvers: [...resolvers], pubSub: noPubSub })));
    const checkedIn = readFileSync(join(root, 'schema', 'schema.graphql'), 'utf8').replace(/^#.*\n/gm, '').trim();
    assert.equal(checkedIn, current.trim());
  });
});

for (const db of testDatabases()) {
  describe(`health, version and HTTP edges (${db})`, () => {
    const t = new TestApp(db, { BODY_LIMIT_BYTES: '2048' });
    before(() => t.start());
    after(() => t.stop());

    test('health checks the database; version comes from package.json', async () => {
      const health = await t.rest('GET', '/health');
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { data: { service: 'clara', status: 'healthy' }, message: 'Health check successful.', status: 'success' });
      const version = await t.rest('GET', '/version');
      const { version: expected } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      assert.deepEqual(version.body.data, { version: expected });
      const gql = await t.gql('{ health { status } version }');
      assert.deepEqual(gql.body.data, { health: { status: 'healthy' }, version: expected });
    });

    test('unknown route 404, wrong method 405, both in the documented envelope', async () => {
      const missing = await t.rest('GET', '/nothing/here');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.status, 'error');
      const wrongMethod = await t.rest('PUT', '/health');
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.body.status, 'error');
      assert.equal(wrongMethod.headers.get('allow'), 'GET');
      const wrongMethodWithParam = await t.rest('PUT', '/users/user_abc/api_key');
      assert.equal(wrongMethodWithParam.status, 405);
    });

    test('malformed JSON, wrong content type and oversize bodies are clear 4xx, never 500', async () => {
      const malformed = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, rawBody: '{"a":' });
      assert.equal(malformed.status, 400);
      const text = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, rawBody: 'hello', headers: { 'content-type': 'text/plain' } });
      assert.ok(text.status === 415 || text.status === 400, String(text.status));
      assert.equal(text.body.status, 'error');
      const huge = await t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body: { first_name: 'x'.repeat(5000), last_name: 'y', email: 'big@example.com', password: 'password123' } });
      assert.equal(huge.status, 413);
      assert.equal(huge.body.status, 'error');
    });

    test('GraphiQL is served from this server, with no CDN', async () => {
      const page = await fetch(`${t.baseUrl}/graphiql`);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /graphiql\.js/);
      assert.doesNotMatch(html, /https?:\/\//);
      for (const asset of ['react.js', 'react-dom.js', 'graphiql.js', 'graphiql.css', 'start.js']) {
        const res = await fetch(`${t.baseUrl}/graphiql/${asset}`);
        assert.equal(res.status, 200, asset);
        assert.ok((await res.arrayBuffer()).byteLength > 100, asset);
      }
    });

    test('GraphQL syntax and validation errors are 400 with a message, no stack', async () => {
      const syntax = await t.gql('{ viewer { id ');
      assert.equal(syntax.status, 400);
      assert.doesNotMatch(JSON.stringify(syntax.body), /stacktrace|at .*\.js/);
      const unknown = await t.gql('{ nope }');
      assert.equal(unknown.status, 400);
    });
  });
}
