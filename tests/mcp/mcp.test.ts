import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pino from 'pino';
import { buildApp } from '../../src/http/app';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

const { version: packageVersion } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
const USER_FIELDS = ['createdAt', 'credits', 'email', 'firstName', 'id', 'is2faEnabled', 'isActive', 'isDarkMode', 'lastName', 'updatedAt'];

/** An MCP client as an assistant runs it: the SDK's own, over Streamable HTTP. */
async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'clara-tests', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** An active user with its API key, and the MCP headers that carry them. */
async function apiKeyUser(t: TestApp) {
  const user = await t.activeUser();
  const key = await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token });
  assert.equal(key.status, 200);
  const apiKey: string = key.body.data.token;
  return { ...user, apiKey, headers: { authorization: `Bearer ${apiKey}`, 'user-id': user.id } };
}

/** A bare MCP `initialize` POST, to see the HTTP answer itself. */
async function initialize(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const viewedUserId = async (client: Client) => ((await client.callTool({ name: 'user_view', arguments: {} })).structuredContent as { id: string }).id;
const httpStatusOf = (error: unknown) => (error instanceof StreamableHTTPError ? error.code : error);

for (const db of testDatabases()) {
  describe(`MCP server (${db})`, () => {
    const t = new TestApp(db);
    let mcpUrl = '';
    before(async () => {
      await t.start();
      mcpUrl = `${t.baseUrl}/mcp`;
    });
    after(() => t.stop());

    test('lists the tools with names every assistant accepts, input and output schemas, truthful annotations and the cost of paid tools', async () => {
      const user = await apiKeyUser(t);
      const client = await connect(mcpUrl, user.headers);
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), [
        'agent_analysis', 'agent_supported_attachments', 'stripe_buy', 'stripe_rate', 'system_version',
        'tasks_list', 'tasks_view', 'transactions_list', 'transactions_view', 'user_view',
      ]);
      for (const tool of tools) {
        assert.match(tool.name, /^[a-zA-Z0-9_-]{1,64}$/, 'a name every assistant accepts');
        assert.equal(tool.outputSchema?.type, 'object', `${tool.name} declares its output`);
        assert.ok(Object.keys(tool.outputSchema?.properties ?? {}).length > 0, `${tool.name} output has properties`);
      }
      const analysis = tools.find((tool) => tool.name === 'agent_analysis')!;
      assert.deepEqual(analysis.annotations, { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
      assert.match(analysis.description!, /Costs 20 credits per call\./);
      assert.deepEqual(analysis._meta, { 'clara/costCredits': 20 });
      assert.deepEqual(tools.find((tool) => tool.name === 'stripe_buy')!.annotations, { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
      assert.deepEqual(tools.find((tool) => tool.name === 'transactions_list')!.annotations, { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
      assert.deepEqual(Object.keys(tools.find((tool) => tool.name === 'user_view')!.outputSchema!.properties!).sort(), USER_FIELDS);
      const view = tools.find((tool) => tool.name === 'user_view')!;
      assert.ok(view.description);
      assert.equal(view.inputSchema.type, 'object');
      assert.equal(view.annotations?.readOnlyHint, true);
      await client.close();
    });

    test("user_view returns the caller's user as JSON text and structuredContent", async () => {
      const user = await apiKeyUser(t);
      const client = await connect(mcpUrl, user.headers);
      const result = await client.callTool({ name: 'user_view', arguments: {} });
      assert.equal(result.isError, undefined);
      const viewed = result.structuredContent as Record<string, unknown>;
      assert.deepEqual(Object.keys(viewed).sort(), USER_FIELDS);
      assert.equal(viewed.id, user.id);
      assert.equal(viewed.email, user.email);
      assert.equal(viewed.isActive, true);
      const [text] = result.content as { type: string; text: string }[];
      assert.equal(text.type, 'text');
      assert.deepEqual(JSON.parse(text.text), viewed);
      await client.close();
    });

    test('system.version is the package version', async () => {
      const user = await apiKeyUser(t);
      const client = await connect(mcpUrl, user.headers);
      const result = await client.callTool({ name: 'system_version', arguments: {} });
      assert.deepEqual(result.structuredContent, { version: packageVersion });
      await client.close();
    });

    test("another user's User-Id is a FORBIDDEN tool error, an unknown one NOT_FOUND (the GraphQL ownership rules)", async () => {
      const me = await apiKeyUser(t);
      const other = await t.activeUser();
      for (const [userId, code] of [[other.id, 'FORBIDDEN'], ['usr_unknown', 'NOT_FOUND']]) {
        const client = await connect(mcpUrl, { ...me.headers, 'user-id': userId });
        const result = await client.callTool({ name: 'user_view', arguments: {} });
        assert.equal(result.isError, true);
        assert.equal(result.structuredContent, undefined, 'the output schema describes success only');
        const [text] = result.content as { text: string }[];
        const { error } = JSON.parse(text.text) as { error: { code: string; message: string } };
        assert.equal(error.code, code);
        assert.ok(error.message);
        assert.doesNotMatch(text.text, /at .*\.js:\d+/);
        await client.close();
      }
    });

    test('no credentials, a user token instead of an API key, or no User-Id: 401 before any MCP processing', async () => {
      const user = await apiKeyUser(t);
      const attempts: Record<string, string>[] = [
        {},
        { authorization: user.token, 'user-id': user.id },
        { authorization: `Bearer ${user.apiKey}` },
        { authorization: 'Bearer clara_api_not-a-token', 'user-id': user.id },
      ];
      for (const headers of attempts) {
        const response = await initialize(mcpUrl, headers);
        assert.equal(response.status, 401, JSON.stringify(headers));
        assert.equal(response.body.status, 'error');
        assert.ok(response.body.message);
      }
      await assert.rejects(connect(mcpUrl), (error) => httpStatusOf(error) === 401);
    });

    test('a reset API key is refused at once with 401, also for a client that is already connected', async () => {
      const user = await apiKeyUser(t);
      const client = await connect(mcpUrl, user.headers);
      assert.equal((await client.callTool({ name: 'user_view', arguments: {} })).isError, undefined);
      const reset = await t.rest('POST', `/users/${user.id}/api_key`, { auth: user.token });
      assert.equal(reset.status, 201);
      await assert.rejects(client.callTool({ name: 'user_view', arguments: {} }), (error) => httpStatusOf(error) === 401);
      const refused = await initialize(mcpUrl, user.headers);
      assert.equal(refused.status, 401);
      assert.equal(refused.body.message, 'The API key is no longer valid.');
      const renewed = await connect(mcpUrl, { ...user.headers, authorization: `Bearer ${reset.body.data.token}` });
      assert.equal((await renewed.callTool({ name: 'user_view', arguments: {} })).isError, undefined);
      await Promise.all([client.close(), renewed.close()]);
    });

    test('a JSON-RPC batch is refused with 400 (the rate limit counts one message per POST)', async () => {
      const user = await apiKeyUser(t);
      const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'system_version', arguments: {} } });
      const response = await fetch(mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...user.headers },
        body: JSON.stringify([call(1), call(2)]),
      });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { status: string }).status, 'error');
    });

    test('stateless: GET and DELETE are 405, and no session id is handed out', async () => {
      const user = await apiKeyUser(t);
      const initialized = await initialize(mcpUrl, user.headers);
      assert.equal(initialized.status, 200);
      assert.equal(initialized.headers.get('mcp-session-id'), null);
      assert.equal(initialized.body.result.serverInfo.version, packageVersion);
      for (const method of ['GET', 'DELETE']) {
        const response = await fetch(mcpUrl, { method, headers: { ...user.headers, accept: 'text/event-stream' } });
        assert.equal(response.status, 405, method);
        assert.equal(response.headers.get('allow'), 'POST');
      }
    });

    test('MCP_API_KEY_TOKEN and MCP_USER_ID serve requests without headers; a request with its own headers uses those', async () => {
      const configured = await apiKeyUser(t);
      const other = await apiKeyUser(t);
      // A second instance on the same database, as a local single-user deployment would configure it.
      const local = await buildApp({ ...t.config, mcpApiKeyToken: configured.apiKey, mcpUserId: configured.id }, t.orm, pino({ level: 'silent' }));
      const localUrl = `${await local.http.listen({ host: '127.0.0.1', port: 0 })}/mcp`;
      try {
        const client = await connect(localUrl);
        assert.equal(await viewedUserId(client), configured.id);
        const withHeaders = await connect(localUrl, other.headers);
        assert.equal(await viewedUserId(withHeaders), other.id);
        await Promise.all([client.close(), withHeaders.close()]);
      } finally {
        await local.http.close();
      }
    });

    test('the default credentials serve only local requests: a foreign Host or Origin, or a remote client behind the proxy, gets 401', async () => {
      const configured = await apiKeyUser(t);
      // One proxy in front (TRUST_PROXY=1): the proxy-reported client address counts, not the proxy's own loopback one.
      const local = await buildApp({ ...t.config, mcpApiKeyToken: configured.apiKey, mcpUserId: configured.id, trustProxy: 1 }, t.orm, pino({ level: 'silent' }));
      const port = new URL(await local.http.listen({ host: '127.0.0.1', port: 0 })).port;
      try {
        const attempts: [string, Record<string, string>, number][] = [
          ['the service as a local client names it', { host: `127.0.0.1:${port}` }, 200],
          ['localhost, with a local page as Origin', { host: `localhost:${port}`, origin: `http://localhost:${port}` }, 200],
          ['[::1]', { host: `[::1]:${port}` }, 200],
          ['DNS rebinding: the attacker\'s name resolved to 127.0.0.1', { host: `rebind.attacker.example:${port}` }, 401],
          ['a name that merely starts like a loopback one', { host: `127.0.0.1.attacker.example:${port}` }, 401],
          ['a foreign page posting to the local port', { host: `127.0.0.1:${port}`, origin: 'https://attacker.example' }, 401],
          ['a sandboxed page (Origin: null)', { host: `localhost:${port}`, origin: 'null' }, 401],
          ['a remote client, as the proxy reports it', { host: `localhost:${port}`, 'x-forwarded-for': '203.0.113.9' }, 401],
        ];
        for (const [what, headers, status] of attempts) {
          const answer = await rawInitialize(Number(port), headers);
          assert.equal(answer.status, status, what);
          if (status === 401) {
            assert.equal(answer.body.status, 'error', what);
            assert.equal(answer.body.data, null, what);
            assert.match(answer.body.message, /only local requests/, what);
          } else {
            assert.equal(answer.body.result.serverInfo.name, 'clara', what);
          }
        }
      } finally {
        await local.http.close();
      }
    });
  });

  describe(`MCP rate limit (${db})`, () => {
    const t = new TestApp(db, { RATE_LIMIT_POINTS: '20', RATE_LIMIT_WINDOW_SECONDS: '3600', RATE_LIMIT_ANONYMOUS_POINTS: '100000' });
    before(() => t.start());
    after(() => t.stop());

    test('each POST costs a point and each tool call its operation\'s cost; over the budget: HTTP 429', async () => {
      const user = await apiKeyUser(t);
      const client = await connect(`${t.baseUrl}/mcp`, user.headers);
      const outcomes: string[] = [];
      for (let i = 0; i < 15; i++) {
        try {
          const result = await client.callTool({ name: 'system_version', arguments: {} });
          outcomes.push(result.isError ? JSON.parse((result.content as { text: string }[])[0].text).error.code : 'ok');
        } catch (error) {
          outcomes.push(String(httpStatusOf(error)));
        }
      }
      // A call is 2 points (the POST, and `version`): at most 9 fit in 20 after connecting; then 429s,
      // with at most one call whose POST fit but whose operation did not.
      const answered = outcomes.filter((outcome) => outcome === 'ok').length;
      assert.ok(answered > 0 && answered <= 9, outcomes.join(','));
      assert.deepEqual(outcomes.slice(0, answered), Array(answered).fill('ok'));
      const rest = outcomes.slice(answered);
      if (rest[0] === 'RATE_LIMITED') rest.shift();
      assert.ok(rest.length >= 5);
      assert.deepEqual(rest, Array(rest.length).fill('429'), outcomes.join(','));
      await client.close();
    });
  });
}

/** An MCP `initialize` POST with headers fetch would not let a test forge (Host, Origin). */
function rawInitialize(port: number, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
    });
    request.on('error', reject);
    request.end(body);
  });
}
