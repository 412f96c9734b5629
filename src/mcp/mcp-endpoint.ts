import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Services } from '../app/services';
import { authenticateMcpRequest, refuseBatch } from './mcp-credentials';
import { createMcpServer, prepareMcpTools } from './mcp-server';
import { registerMcpSseEndpoint } from './mcp-sse';
import type { McpTool } from './mcp-tool';

export const MCP_PATH = '/mcp';

/**
 * MCP over Streamable HTTP, stateless: every POST gets its own McpServer and transport, so any instance
 * can answer any request. Credentials and the rate limit are settled first, as plain HTTP (401, 429 in
 * the REST envelope); only then does the SDK see the request. Also registers the legacy SSE transport, and
 * returns what ends its open sessions (at shutdown).
 */
export function registerMcpEndpoint(app: FastifyInstance, schema: GraphQLSchema, services: Services, tools: McpTool[]): { close(): void } {
  const prepared = prepareMcpTools(schema, tools, services.config);
  const info = { name: services.config.serviceName, version: services.system.version };
  const toolNames = new Set(tools.map((tool) => tool.name));

  app.post(MCP_PATH, async (request, reply) => {
    refuseBatch(request.body);
    request.observation.operation = operationOf(request.body, toolNames);
    const { context, userId } = await authenticateMcpRequest(services, request, reply);
    const server = createMcpServer(info, prepared, () => context, userId);
    // One JSON answer per POST: the tools are request/response, nothing to stream.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    // The SDK writes the response itself (headers set by hooks, e.g. helmet's, are already on reply.raw).
    reply.hijack();
    try {
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      request.log.error({ err: error }, 'MCP request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(jsonRpcError(-32603, 'Internal server error.')));
    }
  });

  // Stateless: no stream of server-initiated messages (GET) and no session to end (DELETE).
  const notAllowed = async (_request: unknown, reply: FastifyReply) => reply.code(405).header('allow', 'POST').send(jsonRpcError(-32000, 'Method not allowed: POST MCP messages.'));
  app.get(MCP_PATH, notAllowed);
  app.delete(MCP_PATH, notAllowed);

  return registerMcpSseEndpoint(app, services, prepared, info, (message) => operationOf(message, toolNames));
}

/** The metrics label of one MCP message: the tool called, or the protocol method; unknown names share one label. */
const MCP_METHODS = new Set(['initialize', 'notifications/initialized', 'ping', 'tools/list']);
function operationOf(body: unknown, toolNames: Set<string>): string {
  const { method, params } = (body ?? {}) as { method?: unknown; params?: { name?: unknown } };
  if (method === 'tools/call') return typeof params?.name === 'string' && toolNames.has(params.name) ? params.name : 'unknown_tool';
  return typeof method === 'string' && MCP_METHODS.has(method) ? method : 'other';
}

function jsonRpcError(code: number, message: string) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}
