import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's security headers on every answer. Without CSP nonces they do not depend on the request, so
 * helmet runs once, here, into a recorder, and each request only sets the recorded headers (the Fastify
 * plugin rebuilt helmet's middleware on every request). Set on the raw response in onRequest, as helmet
 * does, so answers written past Fastify (the MCP SDK's) carry them too.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: HelmetOptions): void {
  const headers = securityHeaders(options);
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
}

/** The headers helmet sets with these options, as [name, value] pairs. */
export function securityHeaders(options: HelmetOptions): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.push([name.toLowerCase(), String(value)]);
    },
    removeHeader() {},
  };
  let done = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => (done = true));
  // helmet's middleware is synchronous; if a version ever is not, the headers above would be incomplete.
  if (!done) throw new Error('helmet did not finish synchronously');
  return headers;
}
