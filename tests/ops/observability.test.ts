import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/core/logger';
import { startMetricsListener } from '../../src/observability/metrics';
import { grantCredits, postAnalysis, waitForTask } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { ADMIN_KEY, TestApp } from '../helpers/harness';
import { mcpHeaders, openStream } from '../helpers/mcp';

const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef';

/** The service's log lines, as JSON, written to memory. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('info', destination) };
}

/** One sample's value from Prometheus text, by metric name and exact labels (in the order written). */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

for (const db of testDatabases()) {
  describe(`request ids, metrics and probes (${db})`, () => {
    const log = capturedLog();
    const t = new TestApp(db, { METRICS_TOKEN }, { log: log.logger });
    before(() => t.start());
    after(() => t.stop());

    const scrape = async (auth = `Bearer ${METRICS_TOKEN}`) => fetch(`${t.baseUrl}/metrics`, { headers: { authorization: auth } });

    test('a sane X-Request-Id is echoed; a missing or unsafe one is replaced by a generated id', async () => {
      const given = await fetch(`${t.baseUrl}/livez`, { headers: { 'x-request-id': 'lb-7f3a.42:abc_DEF' } });
      assert.equal(given.headers.get('x-request-id'), 'lb-7f3a.42:abc_DEF');
      const generated = await fetch(`${t.baseUrl}/livez`);
      assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      for (const unsafe of ['a'.repeat(129), 'has space', 'new\u2028line', '{"json":1}']) {
        const res = await fetch(`${t.baseUrl}/livez`, { headers: { 'x-request-id': unsafe } }).catch(() => null);
        if (!res) continue; // a header fetch itself refuses to send
        assert.notEqual(res.headers.get('x-request-id'), unsafe);
        assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      }
    });

    test('error bodies carry the request id: REST `request_id`, GraphQL `extensions.requestId`', async () => {
      const rest = await t.rest('GET', '/users/usr_nope', { headers: { 'x-request-id': 'rest-error-1' } });
      assert.ok(rest.status >= 400 && rest.status < 500);
      assert.equal(rest.body.status, 'error');
      assert.equal(rest.body.request_id, 'rest-error-1');
      const notFound = await t.rest('GET', '/no/such/path');
      assert.equal(notFound.body.request_id, notFound.headers.get('x-request-id'));
      const gql = await fetch(`${t.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'gql-error-1' }, body: JSON.stringify({ query: '{ user(id: "usr_x") { id } }' }) });
      const body = (await gql.json()) as { errors: { extensions: Record<string, unknown> }[] };
      assert.equal(body.errors[0].extensions.requestId, 'gql-error-1');
    });

    test("every log line of a request carries its id, a domain service's lines included", async () => {
      const res = await fetch(`${t.baseUrl}/api/v1/stripe/settle`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=bad', 'x-request-id': 'webhook-log-1' }, body: '{}' });
      assert.equal(res.status, 400);
      const mine = log.lines.filter((line) => line.requestId === 'webhook-log-1');
      assert.ok(mine.some((line) => line.msg === 'incoming request'), 'Fastify logged the request with its id');
      assert.ok(mine.some((line) => line.msg === 'Stripe webhook refused: bad signature'), "the Stripe service's warning carries the id");
      assert.ok(mine.some((line) => line.msg === 'request completed'));
      for (const line of log.lines) assert.ok(!JSON.stringify(line).includes('"requestId":"webhook-log-1","requestId"'), 'the id is written once per line');
      // The refused delivery is counted as a webhook outcome.
      assert.ok(sample(await (await scrape()).text(), 'clara_stripe_webhook_events_total', 'outcome="rejected"')! >= 1);
    });

    test('the job a request queues carries its request id', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 100);
      const form = new FormData();
      form.append('prompt', 'The Eiffel Tower is in Paris.');
      const res = await fetch(`${t.baseUrl}/api/v1/users/${user.id}/agent/analysis`, { method: 'POST', headers: { authorization: user.token, 'x-request-id': 'analysis-req-1' }, body: form });
      assert.equal(res.status, 201);
      const task = ((await res.json()) as { data: { id: string } }).data;
      const rows = await t.orm.em.getConnection().execute(`select data from pgboss.job where name = 'analysis' and data->>'taskId' = ?`, [task.id]);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].data.requestId, 'analysis-req-1');
      assert.equal((await waitForTask(t, user, task.id)).status, 'completed');
    });

    test('/metrics: 401 without the token, the Prometheus text with it', async () => {
      const anonymous = await fetch(`${t.baseUrl}/metrics`, { headers: { 'x-request-id': 'metrics-401' } });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
      assert.deepEqual(await anonymous.json(), { data: null, message: 'A valid metrics token is required.', status: 'error', request_id: 'metrics-401' }, 'the documented error body');
      assert.equal((await scrape('Bearer wrong')).status, 401);
      const res = await scrape();
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'clara_db_pool_connections', 'clara_queue_jobs', 'clara_http_request_duration_seconds_bucket']) {
        assert.ok(text.includes(`${name}`), `${name} is exported`);
      }
      assert.ok(sample(text, 'clara_db_pool_connections', 'state="max"')! >= 1);
    });

    test('requests are labelled by interface and operation: GraphQL operation, REST route pattern (not the URL), MCP tool', async () => {
      const user = await t.activeUser();
      assert.equal((await t.gql('query MyBalance($id: ID!) { user(id: $id) { credits } }', { id: user.id }, user.token)).status, 200);
      await t.rest('GET', `/users/${user.id}`, { auth: user.token });
      await fetch(`${t.baseUrl}/mcp`, {
        method: 'POST',
        headers: { authorization: user.token, 'user-id': user.id, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'system_version', arguments: {} } }),
      });
      // The legacy SSE transport: its message POSTs are labelled by tool too.
      const headers = await mcpHeaders(t, user);
      const sse = await openStream(t, headers);
      const posted = await fetch(sse.messages, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'system_version', arguments: {} } }),
      });
      assert.equal(posted.status, 202);
      sse.abort.abort();
      const text = await (await scrape()).text();
      assert.equal(sample(text, 'clara_http_requests_total', 'interface="mcp",operation="system_version",status="202"'), 1, 'the SSE message, by its tool');
      assert.ok(sample(text, 'clara_http_requests_total', 'interface="graphql",operation="MyBalance",status="200"')! >= 1);
      assert.ok(sample(text, 'clara_http_requests_total', 'interface="rest",operation="GET /api/v1/users/:user_id",status="200"')! >= 1);
      assert.ok(!text.includes(user.id), 'no raw URL (user id) in any label');
      assert.match(text, /clara_http_requests_total\{interface="mcp",operation="(system_version|unknown_tool)",status="\d+"\}/);
      assert.ok(sample(text, 'clara_http_request_duration_seconds_count', 'interface="graphql",operation="MyBalance"')! >= 1);
    });

    test('GraphQL operation names, chosen by clients, are bounded: past the first 200, `other`', async () => {
      const user = await t.activeUser();
      await Promise.all(Array.from({ length: 230 }, (_, i) => t.gql(`query Flood${i}($id: ID!) { user(id: $id) { id } }`, { id: user.id }, user.token)));
      const text = await (await scrape()).text();
      const names = new Set([...text.matchAll(/clara_http_requests_total\{interface="graphql",operation="([^"]+)"/g)].map((m) => m[1]));
      assert.ok(names.size <= 200 + 3, `${names.size} operation labels`);
      assert.ok(names.has('other'));
    });

    test('credits granted and spent are counted once committed, and a refused change not at all', async () => {
      const before = await (await scrape()).text();
      const user = await t.activeUser();
      await grantCredits(t, user.id, 70);
      const removed = await t.gql('mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { userErrors { code } } }', { input: { userId: user.id, amount: -30, reason: 'test' } }, ADMIN_KEY);
      assert.equal(removed.status, 200);
      // Refused by the ledger (balance below zero): nothing committed, nothing counted.
      await t.gql('mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { userErrors { code } } }', { input: { userId: user.id, amount: -1000, reason: 'too much' } }, ADMIN_KEY);
      const text = await (await scrape()).text();
      const delta = (name: string, labels: string) => (sample(text, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
      assert.equal(delta('clara_credits_granted_total', 'kind="admin"'), 70);
      assert.equal(delta('clara_credits_spent_total', 'kind="admin"'), 30);
    });

    test('/livez and /readyz answer 200 while serving; readiness turns 503 and no new stream opens as soon as shutdown starts', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const task = (await postAnalysis(t, user, { 'note.txt': 'The bridge opened in 1932.' }, { prompt: 'Check it.' })).body.data;
      const headers = await mcpHeaders(t, user);
      assert.deepEqual(await (await fetch(`${t.baseUrl}/livez`)).json(), { status: 'ok' });
      const ready = await fetch(`${t.baseUrl}/readyz`);
      assert.equal(ready.status, 200);
      t.app.services.lifecycle.beginShutdown();
      const stopping = await fetch(`${t.baseUrl}/readyz`);
      assert.equal(stopping.status, 503);
      assert.deepEqual(await stopping.json(), { status: 'unavailable', failed: ['shutting_down'] });
      // A stream opened now would outlive the ones shutdown has ended, and hold it for the grace period.
      const taskStream = await t.rest('GET', `/users/${user.id}/tasks/${task.id}/events`, { auth: user.token });
      assert.equal(taskStream.status, 503);
      assert.equal(taskStream.headers.get('retry-after'), '5');
      assert.match(taskStream.body.message, /shutting down/);
      const mcpSse = await openStream(t, headers);
      assert.equal(mcpSse.response.status, 503);
      assert.match(((await mcpSse.response.json()) as { message: string }).message, /shutting down/);
      assert.equal((await fetch(`${t.baseUrl}/livez`)).status, 200);
    });
  });
}

describe('metrics exposure', () => {
  test('never public by default: no METRICS_TOKEN and no METRICS_PORT → /metrics is 404', async () => {
    const t = await new TestApp('embedded').start();
    try {
      assert.equal((await fetch(`${t.baseUrl}/metrics`)).status, 404);
      assert.equal((await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: 'Bearer anything' } })).status, 404);
    } finally {
      await t.stop();
    }
  });

  test('rate-limit refusals are counted by limiter', async () => {
    const t = await new TestApp('embedded', { METRICS_TOKEN, RATE_LIMIT_PER_SECOND: '', RATE_LIMIT_POINTS: '1000', RATE_LIMIT_ANONYMOUS_POINTS: '33', RATE_LIMIT_WINDOW_SECONDS: '60' }).start();
    try {
      const statuses = [];
      // `health` costs 11 points: three fit in the anonymous budget of 33.
      for (let i = 0; i < 5; i++) statuses.push((await t.gql('{ health { status } }')).status);
      assert.deepEqual(statuses.filter((status) => status === 429).length, 2);
      const text = await (await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      assert.equal(sample(text, 'clara_rate_limit_refusals_total', 'limiter="anonymous"'), 2);
      assert.equal(sample(text, 'clara_http_requests_total', 'interface="graphql",operation="anonymous",status="429"'), 2);
    } finally {
      await t.stop();
    }
  });

  test('METRICS_PORT: a listener of its own; the main port does not serve /metrics', async () => {
    const t = await new TestApp('embedded', { METRICS_PORT: '0', METRICS_TOKEN }).start();
    const listener = (await startMetricsListener(t.app.services.metrics, { host: '127.0.0.1', metricsPort: 0 }))!;
    try {
      assert.equal((await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 404);
      const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
      const res = await fetch(`${url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /clara_queue_jobs/);
      assert.equal((await fetch(`${url}/other`)).status, 404);
    } finally {
      listener.close();
      await t.stop();
    }
  });
});
