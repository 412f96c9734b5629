import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { grantCredits } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';
import { mcpHeaders, openStream } from '../helpers/mcp';
import { until } from '../helpers/until';

type Transport = 'sse' | 'streamable-http';
const NOTE = { name: 'note.txt', contentBase64: Buffer.from('The bridge opened in 1932.').toString('base64') };

/** An active user with the MCP headers of its API key. */
async function apiKeyUser(t: TestApp) {
  const user = await t.activeUser();
  return { ...user, headers: await mcpHeaders(t, user) };
}

/** The official SDK client, over either transport, as an assistant configured for it runs it. */
async function connect(t: TestApp, kind: Transport, headers: Record<string, string>) {
  const transport =
    kind === 'sse'
      ? new SSEClientTransport(new URL(`${t.baseUrl}/sse`), { requestInit: { headers } })
      : new StreamableHTTPClientTransport(new URL(`${t.baseUrl}/mcp`), { requestInit: { headers } });
  const client = new Client({ name: 'clara-transport-tests', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const post = (url: string, headers: Record<string, string>, message: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(message) });

const callAnalysis = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'agent_analysis', arguments: { prompt: 'Spend it.', files: [NOTE] } } });

for (const db of testDatabases()) {
  describe(`MCP transports (${db})`, () => {
    const t = new TestApp(db, { MCP_SSE_MAX_SESSIONS_PER_CALLER: '2', BODY_LIMIT_BYTES: String(64 * 1024) });
    before(() => t.start());
    after(() => t.stop());

    for (const kind of ['sse', 'streamable-http'] as const) {
      test(`${kind}: lists the tools and runs a paid tool with the SDK client (one charge)`, async () => {
        const user = await apiKeyUser(t);
        await grantCredits(t, user.id, 100);
        const { client } = await connect(t, kind, user.headers);
        const { tools } = await client.listTools();
        assert.ok(tools.some((tool) => tool.name === 'agent_analysis'));
        assert.ok(tools.every((tool) => /^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)));
        const result = await client.callTool({ name: 'agent_analysis', arguments: { prompt: 'Check: the bridge opened in 1932.', files: [NOTE], idempotencyKey: `${kind}-1` } });
        assert.equal(result.isError, undefined, JSON.stringify(result.content));
        assert.equal((result.structuredContent as { status: string }).status, 'QUEUED');
        const again = await client.callTool({ name: 'agent_analysis', arguments: { prompt: 'Check: the bridge opened in 1932.', files: [NOTE], idempotencyKey: `${kind}-1` } });
        assert.deepEqual(again.structuredContent, result.structuredContent);
        const viewed = await client.callTool({ name: 'user_view', arguments: {} });
        assert.equal((viewed.structuredContent as { credits: number }).credits, 80, 'charged once');
        await client.close();
      });
    }

    test('sse: a session id is no key: another caller, or none, cannot post to it; its owner still can', async () => {
      const victim = await apiKeyUser(t);
      await grantCredits(t, victim.id, 100);
      const attacker = await apiKeyUser(t);
      const stream = await openStream(t, victim.headers);
      try {
        const noCredentials = await post(stream.messages, {}, callAnalysis(1));
        assert.equal(noCredentials.status, 401);
        assert.match(noCredentials.headers.get('www-authenticate') ?? '', /^Bearer realm="clara-mcp", error="invalid_token"/);
        assert.doesNotMatch(noCredentials.headers.get('www-authenticate') ?? '', /resource_metadata/, 'no OAuth server to discover');
        const ownKey = await post(stream.messages, attacker.headers, callAnalysis(2));
        assert.equal(ownKey.status, 404);
        assert.equal(((await ownKey.json()) as { status: string }).status, 'error');
        const victimsUserId = await post(stream.messages, { ...attacker.headers, 'user-id': victim.id }, callAnalysis(3));
        assert.equal(victimsUserId.status, 404);

        // The owner's own messages are answered on the stream (initialize first, as the protocol wants).
        const init = await post(stream.messages, victim.headers, { jsonrpc: '2.0', id: 10, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
        assert.equal(init.status, 202);
        assert.match(await stream.next(), /"id":10/);
        await post(stream.messages, victim.headers, { jsonrpc: '2.0', method: 'notifications/initialized' });
        assert.equal((await post(stream.messages, victim.headers, { jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'user_view', arguments: {} } })).status, 202);
        const answer = await stream.next();
        assert.match(answer, /"id":11/);
        assert.match(answer, /"credits":100/, 'none of the attacker\'s calls ran');
      } finally {
        stream.abort.abort();
      }
    });

    test('sse: open sessions are capped per API key (429 before the stream opens); a closed one frees its slot', async () => {
      const user = await apiKeyUser(t);
      const [first, second] = [await openStream(t, user.headers), await openStream(t, user.headers)];
      const third = await openStream(t, user.headers);
      assert.equal(third.response.status, 429);
      assert.ok(third.response.headers.get('retry-after'));
      const other = await openStream(t, (await apiKeyUser(t)).headers);
      assert.equal(other.response.status, 200, 'another caller has its own slots');
      other.abort.abort();
      first.abort.abort();
      // The server sees the close asynchronously: poll (bounded) until the slot is free.
      const reopened = await until(async () => {
        const attempt = await openStream(t, user.headers);
        return attempt.response.status === 429 ? null : attempt;
      }, 'a closed session frees its slot', { timeoutMs: 5_000, intervalMs: 100 });
      assert.equal(reopened.response.status, 200);
      reopened.abort.abort();
      second.abort.abort();
    });

    test('sse: a message over the body limit is refused with 413, as on /mcp; a batch with 400', async () => {
      const user = await apiKeyUser(t);
      const stream = await openStream(t, user.headers);
      try {
        const big = await post(stream.messages, user.headers, { ...callAnalysis(1), params: { name: 'agent_analysis', arguments: { prompt: 'x'.repeat(100 * 1024) } } });
        assert.equal(big.status, 413);
        const batch = await post(stream.messages, user.headers, [callAnalysis(2)]);
        assert.equal(batch.status, 400);
      } finally {
        stream.abort.abort();
      }
    });

    test('a 401 on either transport says how to authenticate and points to no OAuth server', async () => {
      for (const path of ['/sse', '/mcp']) {
        const response = await fetch(`${t.baseUrl}${path}`, { method: path === '/sse' ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, body: path === '/sse' ? undefined : '{}' });
        assert.equal(response.status, 401, path);
        const challenge = response.headers.get('www-authenticate') ?? '';
        assert.match(challenge, /^Bearer realm="clara-mcp"/);
        assert.match(challenge, /User-Id/);
        assert.match(((await response.json()) as { message: string }).message, /API key/);
      }
      for (const discovery of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-authorization-server']) assert.equal((await fetch(`${t.baseUrl}${discovery}`)).status, 404, discovery);
    });
  });
}
