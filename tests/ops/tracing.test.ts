import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { grantCredits } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { ServiceOnFreshDatabase } from '../helpers/service-process';
import { until } from '../helpers/until';

interface ReceivedSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }

/** A local OTLP/HTTP trace receiver: decodes the JSON export (POST /v1/traces) into spans. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        if (request.url === '/v1/traces' && String(request.headers['content-type']).startsWith('application/json')) {
          for (const resource of JSON.parse(body).resourceSpans ?? []) {
            for (const scope of resource.scopeSpans ?? []) this.spans.push(...scope.spans);
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async waitFor(match: (span: ReceivedSpan) => boolean, timeoutMs = 30_000): Promise<ReceivedSpan> {
    return until(() => this.spans.find(match), () => `a matching span (received: ${[...new Set(this.spans.map((span) => span.name))].join(', ')})`, { timeoutMs });
  }

  close(): void {
    this.server.close();
  }
}

const SERVER = 2;
const CONSUMER = 5;

for (const db of testDatabases()) {
  describe(`tracing over OTLP/HTTP (${db})`, () => {
    const receiver = new OtlpReceiver();
    let service: ServiceOnFreshDatabase;
    before(async () => {
      await receiver.start();
      service = await new ServiceOnFreshDatabase(db, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' }).start();
    });
    after(async () => {
      await service?.stop();
      receiver.close();
    });

    test('one trace spans an analysis: HTTP request → GraphQL execution → the queued job in the worker', async () => {
      const user = await service.activeUser({ email: 'traced@example.com' });
      await grantCredits(service, user.id, 100);
      const form = new FormData();
      form.append('prompt', 'The Eiffel Tower is in Paris.');
      const res = await fetch(`${service.baseUrl}/api/v1/users/${user.id}/agent/analysis`, { method: 'POST', headers: { authorization: user.token }, body: form });
      assert.equal(res.status, 201);
      const taskId = ((await res.json()) as { data: { id: string } }).data.id;

      const job = await receiver.waitFor((span) => span.name === 'analysis job');
      assert.equal(job.kind, CONSUMER);
      // Walk up from the job to the root, each parent received in the same trace.
      const chain: ReceivedSpan[] = [job];
      for (let span = job; span.parentSpanId; ) {
        const parentId = span.parentSpanId;
        span = await receiver.waitFor((candidate) => candidate.spanId === parentId);
        assert.equal(span.traceId, job.traceId);
        chain.push(span);
      }
      const names = chain.map((span) => span.name);
      const graphql = names.indexOf('graphql.execute');
      assert.ok(graphql > 0, `the job's ancestors include the GraphQL execution: ${names.join(' ← ')}`);
      const root = chain[chain.length - 1];
      assert.equal(root.kind, SERVER, `the root is the HTTP server span: ${names.join(' ← ')}`);
      assert.match(root.name, /POST/);
      // The task's database writes are traced in the same request (pg instrumentation).
      assert.ok(receiver.spans.some((span) => span.traceId === job.traceId && /^(pg\.query|insert|update|select)/i.test(span.name)), 'pg spans in the trace');
      assert.ok(taskId);
    });
  });
}
