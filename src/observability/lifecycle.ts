import type { FastifyInstance } from 'fastify';

/**
 * The process's shutdown state. `signal` aborts as soon as shutdown starts: readiness turns false and
 * long-lived streams (SSE task streams today; WebSockets can join the same way) end with a reconnect hint.
 */
export class Lifecycle {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;

  get shuttingDown(): boolean {
    return this.signal.aborted;
  }

  beginShutdown(): void {
    this.controller.abort();
  }
}

export interface ReadinessChecks {
  lifecycle: Lifecycle;
  /** The database answers. */
  database(): Promise<boolean>;
  queueStarted(): boolean;
}

/**
 * /livez: the process answers. /readyz: it can serve (database reachable, queue
 * started) and is not shutting down; 503 otherwise, so a load balancer stops sending it requests.
 * Neither is rate limited nor authenticated, and neither says more than which check failed.
 */
export function registerProbes(http: FastifyInstance, checks: ReadinessChecks): void {
  http.get('/livez', async () => ({ status: 'ok' }));
  http.get('/readyz', async (_request, reply) => {
    const failed: string[] = [];
    if (checks.lifecycle.shuttingDown) failed.push('shutting_down');
    else {
      if (!checks.queueStarted()) failed.push('queue');
      if (!(await checks.database().catch(() => false))) failed.push('database');
    }
    return reply.code(failed.length ? 503 : 200).send({ status: failed.length ? 'unavailable' : 'ok', ...(failed.length ? { failed } : {}) });
  });
}
