import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { grantCredits, postAnalysis } from './helpers/agent';
import { testDatabases } from './helpers/database';
import { basic, TestApp } from './helpers/harness';

/** Every log line the service writes, parsed. */
class LogCapture extends Writable {
  readonly lines: Record<string, any>[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) this.lines.push(JSON.parse(line));
    done();
  }
}

/** A raw HTTP client: writes `head` (and later whatever the test sends), collects the answer until the server closes. */
function rawRequest(baseUrl: string, head: string): { socket: Socket; answer: Promise<string> } {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  socket.write(head);
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('utf8')));
  const answer = new Promise<string>((resolve, reject) => {
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
  return { socket, answer };
}

const SSE_PER_USER = 2;
const SSE_TOTAL = 3;
const AUTH_PER_IP = 20;

for (const db of testDatabases()) {
  describe(`HTTP hardening (${db})`, () => {
    const logs = new LogCapture();
    const t = new TestApp(db, {
      TRUST_PROXY: '1',
      AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: String(AUTH_PER_IP),
      // Small, but roomy enough that the other tests' requests (sent by this same busy process) never hit them.
      REQUEST_TIMEOUT_MS: '2000',
      HEADERS_TIMEOUT_MS: '1000',
      // Longer than the request timeout, so a stalled body meets the 408 first.
      CONNECTION_TIMEOUT_MS: '3000',
      SSE_MAX_STREAMS_PER_USER: String(SSE_PER_USER),
      SSE_MAX_STREAMS: String(SSE_TOTAL),
      // Tasks stay queued, so their streams stay open for as long as a test needs.
      AGENT_WORKER_IN_PROCESS: 'false',
    }, { log: pino({ level: 'info' }, logs) });
    before(() => t.start());
    after(() => t.stop());

    test('TRUST_PROXY=1: a forged X-Forwarded-For hop does not escape the per-IP limit of the proxy-reported address', async () => {
      const login = (forwardedFor: string) =>
        t.rest('POST', '/auth/session', { auth: basic('nobody@example.com', 'wrong-password'), headers: { 'x-forwarded-for': forwardedFor } });
      // The proxy appends the address it saw (198.51.100.7); the client forges a new first hop every time.
      const statuses: number[] = [];
      for (let i = 0; i <= AUTH_PER_IP; i++) statuses.push((await login(`10.0.${i}.1, 198.51.100.7`)).status);
      assert.deepEqual(statuses, [...Array(AUTH_PER_IP).fill(401), 429]);
      assert.equal((await login('1.2.3.4, 198.51.100.7')).status, 429, 'forged hop, same real address: still limited');
      // Another client behind the same proxy has its own budget (so the limit is the reported address, not the proxy's).
      assert.equal((await login('1.2.3.4, 198.51.100.8')).status, 401);
    });

    test("helmet's security headers on every kind of answer: GraphQL, REST, 404, and MCP (written by its SDK)", async () => {
      const user = await t.activeUser();
      const key = await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token });
      const mcp = await fetch(`${t.baseUrl}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key.body.data.token}`, 'user-id': user.id },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
      });
      assert.equal(mcp.status, 200);
      await mcp.text();
      const answers = { graphql: (await t.gql('{ viewer { id } }', {}, user.token)).headers, rest: key.headers, notFound: (await t.rest('GET', '/no-such-path')).headers, mcp: mcp.headers };
      for (const [kind, headers] of Object.entries(answers)) {
        assert.equal(headers.get('x-content-type-options'), 'nosniff', kind);
        assert.equal(headers.get('x-frame-options'), 'SAMEORIGIN', kind);
        assert.match(headers.get('strict-transport-security') ?? '', /^max-age=\d+/, kind);
        assert.equal(headers.get('cross-origin-opener-policy'), 'same-origin', kind);
        // Off: the API answers JSON, and GraphiQL's page needs its inline script.
        assert.equal(headers.get('content-security-policy'), null, kind);
      }
    });

    test('emails in request URLs are not logged', async () => {
      const user = await t.activeUser(); // POST /users/{email}/activate
      await t.otp(user.email, 'CHANGE_PASSWORD'); // POST /users/{email}/otp/CHANGE_PASSWORD
      const urls = logs.lines.filter((line) => line.msg === 'incoming request').map((line) => line.req.url as string);
      assert.ok(urls.includes('/api/v1/users/[email]/activate'), urls.join('\n'));
      assert.ok(urls.includes('/api/v1/users/[email]/otp/CHANGE_PASSWORD'), urls.join('\n'));
      const everything = logs.lines.map((line) => JSON.stringify(line)).join('\n');
      const [local] = user.email.split('@');
      assert.ok(everything.length > 0);
      assert.doesNotMatch(everything, new RegExp(local), 'no log line carries the email, raw or encoded');
    });

    test('a body that stalls or trickles is answered 408 and the connection closed', async () => {
      const head = (length: number) => `POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
      // Stalls: half the body, then nothing.
      const stalled = rawRequest(t.baseUrl, `${head(100)}{"first_name":`);
      // Trickles: a byte now and then, each well inside any idle timeout, never the whole body.
      const trickled = rawRequest(t.baseUrl, head(10_000));
      const drip = setInterval(() => trickled.socket.writable && trickled.socket.write(' '), 100);
      try {
        for (const answer of [await stalled.answer, await trickled.answer]) {
          assert.match(answer, /^HTTP\/1\.1 408 /);
          assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { data: null, message: 'The request took too long to arrive.', status: 'error' });
        }
      } finally {
        clearInterval(drip);
      }
    });

    test('headers that never finish are answered 408 and the connection closed', async () => {
      const slowloris = rawRequest(t.baseUrl, 'GET /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      assert.match(await slowloris.answer, /^HTTP\/1\.1 408 /);
    });

    test('a task stream whose task does not change stays open past the idle limit, on its keep-alive comments', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const task = (await postAnalysis(t, user, {}, { prompt: 'Queued, so nothing changes.' })).body.data;
      const controller = new AbortController();
      const response = await fetch(`${t.baseUrl}/api/v1/users/${user.id}/tasks/${task.id}/events`, { headers: { authorization: user.token }, signal: controller.signal });
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      let text = '';
      // A comment every CONNECTION_TIMEOUT_MS / 2: three of them span longer than the idle limit.
      while ((text.match(/^: keep-alive$/gm) ?? []).length < 3) {
        const { value, done } = await reader.read();
        assert.equal(done, false, `the stream ended early: ${text}`);
        text += Buffer.from(value!).toString('utf8');
      }
      assert.match(text, /^event: task\ndata: .*"status":"queued"/);
      controller.abort();
    });

    test('open task streams are capped per user and in total (429); closing one frees its slot', async () => {
      const watcher = async () => {
        const user = await t.activeUser();
        await grantCredits(t, user.id, 20);
        const task = (await postAnalysis(t, user, {}, { prompt: 'Queued for as long as this test runs.' })).body.data;
        return { user, url: `${t.baseUrl}/api/v1/users/${user.id}/tasks/${task.id}/events` };
      };
      const [a, b] = [await watcher(), await watcher()];
      const opened: AbortController[] = [];
      const open = async (who: { user: { token: string }; url: string }) => {
        const controller = new AbortController();
        const response = await fetch(who.url, { headers: { authorization: who.user.token }, signal: controller.signal });
        if (response.status === 200) opened.push(controller);
        return { response, controller };
      };
      try {
        for (let i = 0; i < SSE_PER_USER; i++) assert.equal((await open(a)).response.status, 200);
        const overUser = (await open(a)).response;
        assert.equal(overUser.status, 429);
        assert.ok(Number(overUser.headers.get('retry-after')) > 0);
        assert.deepEqual({ ...(await overUser.json()) as object, message: '' }, { data: { retry_after_seconds: 5 }, message: '', status: 'error', request_id: overUser.headers.get('x-request-id') });

        const first = await open(b); // the third stream in all
        assert.equal(first.response.status, 200);
        const overTotal = (await open(b)).response;
        assert.equal(overTotal.status, 429, 'b is under its own cap, but the instance is full');
        assert.equal(((await overTotal.json()) as { status: string }).status, 'error');

        // b closes its stream: the server sees the connection end and frees the slot (no waiting for the next poll).
        first.controller.abort();
        let reopened = await open(b);
        for (let attempt = 0; reopened.response.status === 429 && attempt < 200; attempt++) {
          await reopened.response.arrayBuffer();
          await new Promise((resolve) => setTimeout(resolve, 10));
          reopened = await open(b);
        }
        assert.equal(reopened.response.status, 200, 'the closed stream gave its slot back');
      } finally {
        for (const controller of opened) controller.abort();
      }
    });
  });
}
