import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import { LogController, type FastifyBaseLogger, type FastifyHttpOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../core/config';
import { BOUND_TO_REQUEST } from '../core/logger';
import { requestIdOf } from '../observability/request-context';
import type { Envelope } from './envelope';

/**
 * The Fastify options that protect the server itself: which proxy hops to believe, how long a client may
 * take to send a request (a trickled or stalled body is answered 408 and closed), and request logs that
 * never carry an email address.
 */
export function serverOptions(config: Config, log: Logger): FastifyHttpOptions<Server> {
  return {
    // Fastify merges the logger's own serializers over its defaults, so this `req` replaces the URL it logs.
    loggerInstance: log.child({}, { serializers: { req: loggedRequest } }) as FastifyBaseLogger,
    // A request's lines carry `requestId` (the caller's sane X-Request-Id, or a new one; see request-context.ts).
    genReqId: requestIdOf,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    childLoggerFactory(logger, bindings, options) {
      const child = logger.child(bindings, options);
      (child as unknown as Record<symbol, boolean>)[BOUND_TO_REQUEST] = true;
      return child;
    },
    trustProxy: trustedHops(config.trustProxy),
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    // Clients are told (Keep-Alive: timeout=) to drop an idle connection before the idle limit cuts it; a
    // longer promise (Fastify's 72 s) would have them reuse sockets the server is about to close.
    keepAliveTimeout: config.connectionTimeoutMs > 0 ? Math.min(72_000, Math.max(1, Math.floor(config.connectionTimeoutMs / 2))) : 72_000,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      // Node enforces both timeouts by sweeping its connections this often (30 s by default).
      connectionsCheckingInterval: checkingInterval(config),
    },
    clientErrorHandler: answerClientError,
  };
}

/**
 * Fastify 5.12 ignores a numeric trustProxy (a client that bypasses the proxies could pick its address), so a
 * hop count is the equivalent proxy-addr function: the nearest `hops` addresses are proxies, the next is the
 * client. It is only sound when the service is reachable through those proxies alone; else list their addresses.
 */
function trustedHops(trustProxy: Config['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trustProxy !== 'number') return trustProxy;
  const hops = trustProxy;
  return (_address, hop) => hop < hops;
}

function checkingInterval(config: Config): number {
  const limits = [config.requestTimeoutMs, config.headersTimeoutMs].filter((ms) => ms > 0);
  return limits.length ? Math.min(30_000, Math.max(10, Math.floor(Math.min(...limits) / 4))) : 30_000;
}

/** Timeouts and malformed requests, answered in the documented envelope before Fastify sees a request. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] = error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, 'Request Timeout', 'The request took too long to arrive.']
    : error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
      : [400, 'Bad Request', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ data: null, message, status: 'error' } satisfies Envelope);
  // As Node does: never write into a response that has already started on this connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** Fastify's request serializer, with email addresses (`/users/{email}/otp/...`, `?email=`) replaced. */
function loggedRequest(request: { method: string; url: string; ip?: string; host?: string; socket?: Socket }) {
  return { method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}

const EMAIL_LIKE = /@|%40/i;

export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const redactedPath = path.split('/').map((segment) => (EMAIL_LIKE.test(segment) ? '[email]' : segment)).join('/');
  if (queryAt === -1) return redactedPath;
  const query = url.slice(queryAt + 1).split('&').map((pair) => {
    const equals = pair.indexOf('=');
    return equals !== -1 && EMAIL_LIKE.test(pair.slice(equals + 1)) ? `${pair.slice(0, equals)}=[email]` : pair;
  });
  return `${redactedPath}?${query.join('&')}`;
}
