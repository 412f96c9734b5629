import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BalanceChangedDocument, ClaraClient, ClaraError, DashboardDocument, ViewerDocument } from '../../sdk/src';
import { loadConfig } from '../../src/core/config';
import { operationLimits } from '../../src/graphql/limits';
import { buildExecutableSchema } from '../../src/graphql/schema';
import { loadManifest } from '../../src/graphql/trusted-documents';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';
import { subscriptionClient, Watch } from '../helpers/subscriptions';

const root = join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'sdk', 'persisted-query-manifest.json'), 'utf8'));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const byId = (id: string, extra: Record<string, unknown> = {}) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } }, ...extra });

/** A POST to /graphql with this body, as any client could send it. */
async function post(t: TestApp, body: Record<string, unknown>, auth?: string) {
  const response = await fetch(`${t.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}
const codeOf = (result: Awaited<ReturnType<typeof post>>) => result.body.errors?.[0]?.extensions?.code;

describe('the trusted-documents manifest', () => {
  test('every id is the SHA-256 of its body, as the SDK sends it', () => {
    assert.equal(manifest.format, 'apollo-persisted-query-manifest');
    assert.equal(manifest.version, 1);
    for (const operation of manifest.operations) assert.equal(operation.id, sha256(operation.body), operation.name);
    const viewer = manifest.operations.find((operation: { name: string }) => operation.name === 'Viewer');
    assert.deepEqual(viewer, { id: ViewerDocument.id, name: 'Viewer', type: 'query', body: ViewerDocument.body });
  });

  test('the server refuses to start on a tampered manifest or an operation the schema does not have', async () => {
    const schema = await buildExecutableSchema();
    const dir = mkdtempSync(join(tmpdir(), 'clara-manifest-'));
    try {
      const write = (operations: unknown[]) => {
        const path = join(dir, `${Math.random()}.json`);
        writeFileSync(path, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }));
        return path;
      };
      const body = 'query Viewer { viewer { id } }';
      assert.equal(loadManifest(write([{ id: sha256(body), name: 'Viewer', type: 'query', body }]), schema).get(sha256(body)), body);
      const tampered = 'query Viewer { viewer { id email } }';
      assert.throws(() => loadManifest(write([{ id: sha256(body), name: 'Viewer', type: 'query', body: tampered }]), schema), /its id is not the SHA-256 of its body/);
      const unknownField = 'query Gone { viewer { gone } }';
      assert.throws(() => loadManifest(write([{ id: sha256(unknownField), name: 'Gone', type: 'query', body: unknownField }]), schema), /does not validate against the schema/);
      assert.throws(() => loadManifest(join(dir, 'missing.json'), schema), /cannot read/);
      // Over the /graphql limits the server runs with: refused at start rather than at every request.
      const deep = 'query Deep { viewer { tasks { edges { node { report { files { image { camera } } } } } } } }';
      const limits = operationLimits(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), GRAPHQL_MAX_DEPTH: '4' }).graphqlLimits).server;
      assert.throws(() => loadManifest(write([{ id: sha256(deep), name: 'Deep', type: 'query', body: deep }]), schema, limits), /too deep/);
      assert.equal(loadManifest(write([{ id: sha256(body), name: 'Viewer', type: 'query', body }]), schema, limits).size, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const db of testDatabases()) {
  describe(`GRAPHQL_TRUSTED_DOCUMENTS (${db})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'clara-manifest-'));
    // The allow instance knows only Viewer: the SDK's other operations are ids it has never seen.
    const viewerOnly = join(dir, 'viewer-only.json');
    writeFileSync(viewerOnly, JSON.stringify({ ...manifest, operations: manifest.operations.filter((o: { name: string }) => o.name === 'Viewer') }));
    // A native app's manifest, as Apollo Kotlin generates it from the same operations: its own text, its own ids.
    const nativeViewer = 'query Viewer { viewer { __typename id email firstName } }';
    const nativeApp = join(dir, 'android.json');
    writeFileSync(nativeApp, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256(nativeViewer), name: 'Viewer', type: 'query', body: nativeViewer }] }));
    const only = new TestApp(db, { GRAPHQL_TRUSTED_DOCUMENTS: 'only', GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST: `${join(root, 'sdk', 'persisted-query-manifest.json')}, ${nativeApp}` });
    const allow = new TestApp(db, { GRAPHQL_TRUSTED_DOCUMENTS: 'allow', GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST: viewerOnly }, { sharing: only });
    const off = new TestApp(db, { GRAPHQL_TRUSTED_DOCUMENTS: 'off' }, { sharing: only });
    let user: Awaited<ReturnType<TestApp['activeUser']>>;
    before(async () => {
      await only.start();
      await allow.start();
      await off.start();
      user = await only.activeUser();
    });
    after(async () => {
      await off.stop();
      await allow.stop();
      await only.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('only: a document that is not in the manifest is refused before it is parsed', async () => {
      for (const query of ['{ viewer { id email } }', '{ viewer { id', '{ __schema { types { name } } }']) {
        const refused = await post(only, { query }, user.token);
        assert.equal(refused.status, 400, query);
        assert.equal(codeOf(refused), 'TRUSTED_DOCUMENT_REQUIRED', query);
        assert.equal(refused.body.data, undefined);
      }
    });

    test('only: on the WebSocket too, a subscription runs by its manifest id and is refused as text before parsing', async () => {
      const socket = subscriptionClient(only, user.token);
      try {
        const asText = socket.watch('subscription { balanceChanged { id credits } }');
        await asText.until((watch) => watch.ended, 'the refusal');
        assert.equal((asText.failure as { extensions?: { code?: string } }[])[0]?.extensions?.code, 'TRUSTED_DOCUMENT_REQUIRED');
        assert.deepEqual(asText.results, []);
        // By id (and a text the server ignores): the manifest's operation runs.
        const byManifest = new Watch(socket.client, 'subscription { viewer_is_ignored }', {}, byId(BalanceChangedDocument.id).extensions);
        await byManifest.until((watch) => watch.results.length > 0, 'the current balance');
        assert.deepEqual(byManifest.results[0].data, { balanceChanged: { id: user.id, credits: 0 } });
        byManifest.unsubscribe();
      } finally {
        await socket.dispose();
      }
    });

    test('only: automatic persisted queries register nothing', async () => {
      const query = '{ viewer { id email credits } }';
      const registering = await post(only, { query, ...byId(sha256(query)) }, user.token);
      assert.equal(registering.status, 400);
      assert.equal(codeOf(registering), 'TRUSTED_DOCUMENT_REQUIRED');
      const hashAlone = await post(only, byId(sha256(query)), user.token);
      assert.equal(codeOf(hashAlone), 'TRUSTED_DOCUMENT_REQUIRED', 'still unknown');
      assert.equal(hashAlone.body.data, undefined);
      assert.equal(codeOf(await post(only, { extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } }, user.token)), 'TRUSTED_DOCUMENT_REQUIRED', 'a malformed id');

      // The same two requests on an allow instance: registered, then run by its hash alone.
      assert.equal(codeOf(await post(allow, byId(sha256(query)), user.token)), 'PERSISTED_QUERY_NOT_FOUND');
      assert.equal((await post(allow, { query, ...byId(sha256(query)) }, user.token)).body.data?.viewer.email, user.email);
      assert.equal((await post(allow, byId(sha256(query)), user.token)).body.data?.viewer.email, user.email);
    });

    test("only: the manifest's operations run by id, by their exact text, and over GET; a manifest id with other text does not", async () => {
      const asId = await post(only, { operationName: 'Viewer', ...byId(ViewerDocument.id) }, user.token);
      assert.equal(asId.status, 200, JSON.stringify(asId.body));
      assert.equal(asId.body.data.viewer.id, user.id);
      const asText = await post(only, { query: ViewerDocument.body }, user.token);
      assert.equal(asText.body.data.viewer.email, user.email);
      const native = await post(only, byId(sha256(nativeViewer)), user.token);
      assert.deepEqual(native.body.data, { viewer: { __typename: 'User', id: user.id, email: user.email, firstName: 'Ada' } }, "a second manifest's operations run too");

      const other = '{ viewer { id apiKey { token } } }';
      const mismatch = await post(only, { query: other, ...byId(ViewerDocument.id) }, user.token);
      assert.equal(mismatch.status, 400);
      assert.equal(mismatch.body.data, undefined);
      assert.match(mismatch.body.errors![0].message, /does not match/);
      assert.equal(codeOf(mismatch), 'BAD_REQUEST', "the client's fault, not an internal error");

      // Apollo Kotlin and iOS may send persisted queries with GET (and a preflight header against CSRF).
      const url = new URL(`${only.baseUrl}/graphql`);
      url.searchParams.set('operationName', 'Viewer');
      url.searchParams.set('extensions', JSON.stringify(byId(ViewerDocument.id).extensions));
      const got = await fetch(url, { headers: { authorization: user.token, 'apollo-require-preflight': 'true' } });
      assert.equal(got.status, 200);
      assert.equal(((await got.json()) as any).data.viewer.id, user.id);
    });

    test('only: REST and MCP, which run their own documents in-process, keep working', async () => {
      const rest = await only.rest('GET', `/users/${user.id}`, { auth: user.token });
      assert.equal(rest.status, 200);
      assert.equal(rest.body.data.email, user.email);
      const key = (await only.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token as string;
      const client = new Client({ name: 'clara-tests', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${only.baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}`, 'user-id': user.id } } }));
      try {
        const viewed = await client.callTool({ name: 'user_view', arguments: {} });
        assert.equal((viewed.structuredContent as { email: string }).email, user.email);
      } finally {
        await client.close();
      }
    });

    test('allow: an unknown id is PERSISTED_QUERY_NOT_FOUND, and the SDK then sends the text (unless told not to)', async () => {
      const unknown = await post(allow, { operationName: 'Dashboard', ...byId(DashboardDocument.id) }, user.token);
      assert.equal(unknown.status, 200);
      assert.equal(codeOf(unknown), 'PERSISTED_QUERY_NOT_FOUND');
      const version2 = await post(allow, { query: ViewerDocument.body, extensions: { persistedQuery: { version: 2, sha256Hash: ViewerDocument.id } } }, user.token);
      assert.deepEqual([version2.status, codeOf(version2)], [400, 'BAD_REQUEST']);

      const sent: Record<string, any>[] = [];
      const recording: typeof fetch = (input, init) => {
        sent.push(JSON.parse(String(init?.body)));
        return fetch(input, init);
      };
      const clara = new ClaraClient({ baseUrl: allow.baseUrl, token: user.token.replace(/^Bearer /, ''), fetch: recording });
      assert.equal((await clara.viewer()).id, user.id);
      assert.deepEqual(sent.map((body) => [body.operationName, 'query' in body]), [['Viewer', false]], 'a known id: no text');
      sent.length = 0;
      const dashboard = await clara.dashboard();
      assert.equal(dashboard.id, user.id);
      assert.deepEqual(sent.map((body) => [body.operationName, 'query' in body]), [['Dashboard', false], ['Dashboard', true]]);
      assert.equal(sent[1].query, DashboardDocument.body);

      const strict = new ClaraClient({ baseUrl: allow.baseUrl, token: clara.currentToken, textFallback: false });
      await assert.rejects(strict.tasks(), (error: unknown) => error instanceof ClaraError && error.code === 'PERSISTED_QUERY_NOT_FOUND');
    });

    test('off: ids are PERSISTED_QUERY_NOT_SUPPORTED; the SDK sends text from then on', async () => {
      assert.equal(codeOf(await post(off, byId(ViewerDocument.id), user.token)), 'PERSISTED_QUERY_NOT_SUPPORTED');
      const sent: Record<string, any>[] = [];
      const clara = new ClaraClient({
        baseUrl: off.baseUrl,
        token: user.token.replace(/^Bearer /, ''),
        fetch: (input, init) => {
          sent.push(JSON.parse(String(init?.body)));
          return fetch(input, init);
        },
      });
      assert.equal((await clara.viewer()).id, user.id);
      assert.equal((await clara.viewer()).id, user.id);
      assert.deepEqual(sent.map((body) => 'query' in body), [false, true, true]);
    });
  });
}
