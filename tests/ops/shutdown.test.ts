import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { grantCredits } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { mcpHeaders } from '../helpers/mcp';
import { ServiceOnFreshDatabase } from '../helpers/service-process';
import { until } from '../helpers/until';

type Outcome = { status: number; body: string } | { error: string };

/** One request on a connection of its own; the body may be held back until `release` resolves. */
function send(baseUrl: string, path: string, headers: Record<string, string>, body: string, release?: Promise<void>): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(`${baseUrl}${path}`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    if (!release) return void req.end(body);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    void release.then(() => req.end(body.slice(half)));
  });
}

for (const db of testDatabases()) {
  describe(`graceful shutdown of a real process (${db})`, () => {
    // No worker in the API process: the task stays queued, so its SSE stream is still open at SIGTERM.
    const service = new ServiceOnFreshDatabase(db, { AGENT_WORKER_IN_PROCESS: 'false', SHUTDOWN_GRACE_SECONDS: '20' });
    before(() => service.start());
    after(() => service.stop());

    test('SIGTERM under load: every accepted request is answered, SSE streams get a reconnect hint, MCP SSE sessions end, exit 0 within the grace period', async () => {
      const { baseUrl, process: child } = service;
      const user = await service.activeUser({ email: 'shutdown@example.com' });
      await grantCredits(service, user.id, 100);
      const form = new FormData();
      form.append('prompt', 'The Eiffel Tower is in Paris.');
      const started = await fetch(`${baseUrl}/api/v1/users/${user.id}/agent/analysis`, { method: 'POST', headers: { authorization: user.token }, body: form });
      assert.equal(started.status, 201);
      const taskId = ((await started.json()) as { data: { id: string } }).data.id;

      // An open SSE stream.
      const stream = await fetch(`${baseUrl}/api/v1/users/${user.id}/tasks/${taskId}/events`, { headers: { authorization: user.token } });
      assert.equal(stream.status, 200);
      const streamText = stream.text();
      // An open MCP SSE session (legacy transport): it must not hold the shutdown for the grace period.
      const mcpSse = await fetch(`${baseUrl}/sse`, { headers: await mcpHeaders(service, user) });
      assert.equal(mcpSse.status, 200);
      const mcpSseText = mcpSse.text();

      // Load: four clients sending queries back to back, each on a new connection, each with its own request id.
      const results = new Map<string, Outcome>();
      const query = JSON.stringify({ query: 'query Load($id: ID!) { user(id: $id) { credits } }', variables: { id: user.id } });
      let refused = false;
      const client = async (n: number) => {
        for (let i = 0; !refused; i++) {
          const id = `load-${n}-${i}`;
          const outcome = await send(baseUrl, '/graphql', { authorization: user.token, 'x-request-id': id }, query);
          results.set(id, outcome);
          if ('error' in outcome && outcome.error === 'ECONNREFUSED') refused = true; // the listener is closed
        }
      };
      const clients = [0, 1, 2, 3].map(client);
      // A request in flight across the signal: headers and half its body now, the rest once shutdown has begun.
      let releaseBody!: () => void;
      const inFlight = send(baseUrl, '/graphql', { authorization: user.token, 'x-request-id': 'in-flight' }, query, new Promise<void>((resolve) => (releaseBody = resolve)));
      await child.waitForLine((line) => line.requestId === 'in-flight' && line.msg === 'incoming request');
      await until(() => results.size >= 40, 'forty load requests answered before the signal', { timeoutMs: 30_000, intervalMs: 20 });

      child.signal('SIGTERM');
      await child.waitForLine((line) => line.msg === 'shutting down');
      releaseBody();
      const late = await inFlight;
      assert.ok('status' in late && late.status === 200, `the in-flight request was answered: ${JSON.stringify(late)}`);
      assert.ok(JSON.parse((late as { body: string }).body).data.user.credits >= 0);

      const sse = await streamText;
      assert.match(sse, /event: task\n/);
      assert.match(sse, /retry: 5000\nevent: shutdown\n/);

      assert.match(await mcpSseText, /event: endpoint\n/, 'the MCP SSE stream ended');
      assert.equal(await child.exited, 0);
      assert.ok(!child.logs.some((line) => String(line.msg).startsWith('shutdown grace period over')), 'nothing held the shutdown until the grace period ran out');
      await Promise.all(clients);
      // Accepted: the service logged the request as incoming. Each of those got its 200.
      const accepted = new Set(child.logs.filter((line) => line.msg === 'incoming request' && String(line.requestId).startsWith('load-')).map((line) => line.requestId as string));
      assert.ok(accepted.size >= 40, `${accepted.size} requests accepted`);
      for (const id of accepted) {
        const outcome = results.get(id);
        assert.ok(outcome && 'status' in outcome && outcome.status === 200, `${id}: ${JSON.stringify(outcome)}`);
      }
      // Refused ones were refused cleanly (no connection, or Fastify's 503 while closing), never a 500.
      for (const [id, outcome] of results) {
        if (accepted.has(id)) continue;
        assert.ok('error' in outcome ? ['ECONNREFUSED', 'ECONNRESET'].includes(outcome.error) : outcome.status === 503, `${id}: ${JSON.stringify(outcome)}`);
      }
      assert.ok(child.logs.some((line) => line.msg === 'stopped'));
    });
  });
}
