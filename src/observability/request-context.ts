import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** What one request (or one job) carries through its async calls: its id, and what the metrics label it by. */
export interface RequestObservation {
  requestId: string;
  /** The GraphQL operation, REST route or MCP tool, set by the adapter that runs it (bounded; see metrics.ts). */
  operation?: string;
}

const storage = new AsyncLocalStorage<RequestObservation>();

/** A client's id is kept when it is short and plain (so it cannot forge log lines or grow labels); else a new one. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

/** Fastify's genReqId: the caller's X-Request-Id when sane, else a UUID. */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

export function currentObservation(): RequestObservation | undefined {
  return storage.getStore();
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Runs `fn` as the work of one request or job: its log lines carry `requestId` (see logger.ts). */
export function runObserved<T>(observation: RequestObservation, fn: () => T): T {
  return storage.run(observation, fn);
}

declare module 'fastify' {
  interface FastifyRequest {
    observation: RequestObservation;
  }
}

const resumeScope = Symbol('request scope');

/**
 * Every request runs in its own observation scope, and answers with its id. The body arrives on socket
 * events outside that scope, so the scope is entered again once the body is read (as @fastify/request-context
 * does) before the handler runs.
 */
export function registerRequestContext(http: FastifyInstance): void {
  http.decorateRequest('observation', undefined as unknown as RequestObservation);
  http.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    const observation: RequestObservation = { requestId: request.id };
    request.observation = observation;
    storage.run(observation, () => {
      (request as FastifyRequest & { [resumeScope]?: AsyncResource })[resumeScope] = new AsyncResource('clara-request');
      done();
    });
  });
  http.addHook('preValidation', (request, _reply, done) => {
    const scope = (request as FastifyRequest & { [resumeScope]?: AsyncResource })[resumeScope];
    if (scope) scope.runInAsyncScope(done, undefined);
    else done();
  });
}
