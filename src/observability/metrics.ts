import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../core/config';
import { unauthenticated } from '../core/errors';
import { sendError } from '../http/envelope';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Where a request came in: the label every request metric carries. */
export type Interface = 'graphql' | 'rest' | 'mcp' | 'other';
export type JobOutcome = 'completed' | 'retried' | 'gave_up';

const METRICS_TOKEN_REQUIRED = 'A valid metrics token is required.';

/** Distinct client-chosen names (GraphQL operation names) kept as labels; later ones share `other`. */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * The service's Prometheus metrics, one registry per process (per app in tests). Labels are bounded: route
 * patterns and tool names come from our own code; GraphQL operation names, which clients choose, are kept
 * for the first MAX_OPERATION_NAMES valid names and counted as `other` after that.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly operationNames = new Set<string>();
  private readonly requestDuration = new Histogram({
    name: 'clara_http_request_duration_seconds',
    help: 'Time to answer a request, by interface (graphql, rest, mcp, other) and operation (GraphQL operation, REST route pattern, MCP tool).',
    labelNames: ['interface', 'operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly requests = new Counter({
    name: 'clara_http_requests_total',
    help: 'Requests answered, by interface, operation and HTTP status code.',
    labelNames: ['interface', 'operation', 'status'] as const,
    registers: [this.registry],
  });
  private readonly rateLimitRefusals = new Counter({
    name: 'clara_rate_limit_refusals_total',
    help: 'Requests refused by a rate limit (429), by limiter.',
    labelNames: ['limiter'] as const,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'clara_job_duration_seconds',
    help: 'Time a job ran in this process, by queue and outcome (completed, retried: it threw and goes back to the queue, gave_up: out of retries).',
    labelNames: ['queue', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly webhookEvents = new Counter({
    name: 'clara_stripe_webhook_events_total',
    help: 'Stripe webhook deliveries, by outcome (granted, duplicate, ignored, unchanged, failed, expired, rejected, error).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly creditsGranted = new Counter({ name: 'clara_credits_granted_total', help: 'Credits added to balances (committed ledger rows), by kind (purchase, admin).', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly creditsSpent = new Counter({ name: 'clara_credits_spent_total', help: 'Credits taken from balances (committed ledger rows), by kind (analysis, admin).', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly creditsRefunded = new Counter({ name: 'clara_credits_refunded_total', help: 'Credits given back for failed analyses (committed ledger rows).', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(where: Interface, operation: string, status: number, seconds: number): void {
    this.requestDuration.observe({ interface: where, operation }, seconds);
    this.requests.inc({ interface: where, operation, status: String(status) });
  }

  /** A client-chosen GraphQL operation name as a label: anonymous, a kept name, or `other`. */
  graphqlOperation(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (!OPERATION_NAME.test(name) || this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }

  refusedByRateLimit(limiter: string): void {
    this.rateLimitRefusals.inc({ limiter });
  }

  observeJob(queue: string, outcome: JobOutcome, seconds: number): void {
    this.jobDuration.observe({ queue, outcome }, seconds);
  }

  webhookOutcome(outcome: string): void {
    this.webhookEvents.inc({ outcome });
  }

  /** Called once a ledger row's transaction has committed. */
  ledgerEntry(entry: { type: 'CREDIT' | 'DEBIT'; kind: string; valueInCredits: number }): void {
    if (entry.kind === 'refund') this.creditsRefunded.inc(entry.valueInCredits);
    else if (entry.type === 'CREDIT') this.creditsGranted.inc({ kind: entry.kind }, entry.valueInCredits);
    else this.creditsSpent.inc({ kind: entry.kind }, entry.valueInCredits);
  }

  /** Queue depth, read from the queue's tables when scraped (not on every job). */
  watchQueue(depth: () => Promise<{ queue: string; state: string; count: number }[]>): void {
    new Gauge({
      name: 'clara_queue_jobs',
      help: 'Jobs in the queue, by queue and state (created, retry, active, ...), when scraped.',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const row of await depth().catch(() => [])) this.set({ queue: row.queue, state: row.state }, row.count);
      },
    });
  }

  /** Database pool usage, read when scraped. */
  watchPool(usage: () => { used: number; free: number; pending: number; max: number }): void {
    new Gauge({
      name: 'clara_db_pool_connections',
      help: 'Database pool connections: used, free, pending (requests waiting for one) and max.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const now = usage();
        for (const state of ['used', 'free', 'pending', 'max'] as const) this.set({ state }, now[state]);
      },
    });
  }
}

/** A bearer token, compared in constant time. */
function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** /metrics on the main port, for holders of METRICS_TOKEN only (registered only when the token is set). */
export function registerMetricsRoute(http: FastifyInstance, metrics: Metrics, token: string): void {
  http.get('/metrics', async (request, reply) => {
    if (!bearerMatches(request.headers.authorization, token)) return sendError(reply.header('www-authenticate', 'Bearer'), unauthenticated(METRICS_TOKEN_REQUIRED));
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

/** /metrics on a listener of its own (METRICS_PORT), e.g. reachable only from the monitoring network; none without METRICS_PORT. */
export async function startMetricsListener(metrics: Metrics, { host, metricsPort: port, metricsToken: token }: Pick<Config, 'host' | 'metricsPort' | 'metricsToken'>): Promise<Server | undefined> {
  if (port === undefined) return undefined;
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') return void response.writeHead(404).end();
    if (token && !bearerMatches(request.headers.authorization, token)) {
      return void response.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'application/json' }).end(JSON.stringify({ data: null, message: METRICS_TOKEN_REQUIRED, status: 'error' }));
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  return server;
}

/**
 * Times every answered request by interface and operation: the GraphQL operation and the MCP tool come from
 * the request's observation (set by the adapter), REST and other routes are named by their route pattern
 * (never the raw URL), and unmatched URLs share one label.
 */
export function registerRequestMetrics(http: FastifyInstance, metrics: Metrics, routes: { restPrefix: string; mcp: string[] }): void {
  const { restPrefix } = routes;
  const mcpRoutes = new Set(routes.mcp);
  http.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    const adapted = request.observation?.operation ?? 'unresolved';
    const [where, operation]: [Interface, string] = route === '/graphql'
      ? ['graphql', adapted]
      : route !== undefined && mcpRoutes.has(route)
        ? ['mcp', adapted]
        : route === undefined
          ? ['other', 'unmatched']
          : [route.startsWith(restPrefix) ? 'rest' : 'other', `${request.method} ${route}`];
    metrics.observeRequest(where, operation, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
