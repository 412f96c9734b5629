import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../app/services';
import { notFound } from '../core/errors';
import type { Context } from '../graphql/context';
import { heartbeatMs, StreamSlots } from '../http/stream-slots';
import { authenticateMcpRequest, refuseBatch } from './mcp-credentials';
import { createMcpServer, type PreparedMcpTool } from './mcp-server';

export const MCP_SSE_PATH = '/sse';
export const MCP_SSE_MESSAGES_PATH = '/messages';

interface SseSession {
  transport: SSEServerTransport;
  /** Who opened it: only the same API key, for the same user, may post to it. */
  apiKeyId: string;
  userId: string;
}

/**
 * The legacy MCP transport (HTTP+SSE, protocol 2024-11-05) that older clients are configured for, as the SDK's
 * SSEServerTransport implements it: GET /sse opens the stream and names a POST /messages?sessionId= URL, each
 * message is POSTed there (202) and answered on the stream. Same credentials, budget, body limit and tools as
 * /mcp; every POST is authenticated again and must come from the stream's own caller. Sessions live in this
 * process: behind a load balancer, route /sse and /messages stickily (or by sessionId).
 */
export function registerMcpSseEndpoint(app: FastifyInstance, services: Services, tools: PreparedMcpTool[], info: { name: string; version: string }, operationOf: (message: unknown) => string): { close(): void } {
  const { mcpSseMaxSessionsPerCaller, mcpSseMaxSessions, connectionTimeoutMs } = services.config;
  const sessions = new Map<string, SseSession>();
  const slots = new StreamSlots(
    { perOwner: mcpSseMaxSessionsPerCaller, total: mcpSseMaxSessions },
    { perOwner: (open) => `This API key already has ${open} MCP SSE sessions open; close one first.`, total: 'Too many MCP SSE sessions are open right now; use the Streamable HTTP endpoint (/mcp), or retry shortly.' },
    { onRefused: () => services.metrics.refusedByRateLimit('mcp-sse-sessions'), closing: services.lifecycle.signal },
  );
  const heartbeatEvery = heartbeatMs(connectionTimeoutMs);

  app.get(MCP_SSE_PATH, async (request, reply) => {
    const { userId, apiKeyId } = await authenticateMcpRequest(services, request, reply);
    const release = slots.take(apiKeyId); // over a cap: 429 before the stream opens; shutting down: 503
    const transport = new SSEServerTransport(MCP_SSE_MESSAGES_PATH, reply.raw);
    // Each call runs with the context of the POST that carried it (set below as the request's auth).
    const server = createMcpServer(info, tools, (extra) => extra.authInfo?.extra?.context as Context, userId);
    sessions.set(transport.sessionId, { transport, apiKeyId, userId });
    const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), heartbeatEvery);
    reply.raw.on('close', () => {
      clearInterval(heartbeat);
      sessions.delete(transport.sessionId);
      release();
      void server.close();
    });
    reply.hijack();
    reply.raw.setHeader('x-accel-buffering', 'no');
    await server.connect(transport); // writes the 200 and the `endpoint` event
  });

  app.post<{ Querystring: { sessionId?: string } }>(MCP_SSE_MESSAGES_PATH, async (request, reply) => {
    refuseBatch(request.body);
    request.observation.operation = operationOf(request.body);
    const { context, userId, apiKeyId } = await authenticateMcpRequest(services, request, reply);
    const session = sessions.get(String(request.query.sessionId ?? ''));
    // Another caller that learned the id (even with valid credentials of its own) gets what an unknown id gets.
    if (!session || session.apiKeyId !== apiKeyId || session.userId !== userId) throw notFound('No such MCP session: open one with GET /sse.');
    (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = { token: '', clientId: session.apiKeyId, scopes: [], extra: { context } };
    reply.hijack();
    try {
      await session.transport.handlePostMessage(request.raw, reply.raw, request.body);
    } catch (error) {
      // The stream closed meanwhile: the SDK has already answered.
      request.log.warn({ err: error }, 'MCP SSE message after its stream closed');
    }
  });

  // At shutdown: open streams would otherwise hold the server for its whole grace period. A client reconnects.
  return {
    close() {
      for (const { transport } of sessions.values()) void transport.close();
    },
  };
}
