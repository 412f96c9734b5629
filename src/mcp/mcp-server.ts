import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { GraphQLSchema } from 'graphql';
import { DomainError } from '../core/errors';
import { spendBudget } from '../graphql/budget';
import type { Context } from '../graphql/context';
import { prepareOperation, type PreparedOperation } from '../graphql/prepared-operation';
import type { McpTool } from './mcp-tool';

export interface PreparedMcpTool { tool: McpTool; operation: PreparedOperation }

/** Parses and validates every tool's GraphQL document once, at startup. */
export function prepareMcpTools(schema: GraphQLSchema, tools: McpTool[]): PreparedMcpTool[] {
  const names = new Set<string>();
  return tools.map((tool) => {
    if (names.has(tool.name)) throw new Error(`MCP tool ${tool.name} is defined twice`);
    names.add(tool.name);
    return { tool, operation: prepareOperation(schema, tool.graphql, `MCP tool ${tool.name}`) };
  });
}

/**
 * The MCP server for one HTTP request (stateless: nothing outlives the request, so instances can run
 * side by side). Its tools run with the request's context, which already holds the caller.
 */
export function createMcpServer(info: { name: string; version: string }, tools: PreparedMcpTool[], context: Context, userId: string): McpServer {
  const server = new McpServer(info);
  for (const { tool, operation } of tools) {
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: tool.input, annotations: { readOnlyHint: operation.readOnly } },
      async (input: Record<string, unknown>) =>
        toolResult(context, async () => {
          const variables = tool.variables?.(input, userId) ?? {};
          await spendBudget(context, operation.cost(variables));
          const result = await operation.run(context, variables);
          return tool.present ? tool.present(result) : result;
        }),
    );
  }
  return server;
}

/** The value as JSON text (and as structuredContent when it is an object); a DomainError as a tool error. */
async function toolResult(context: Context, produce: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    const value = await produce();
    return { content: [{ type: 'text', text: JSON.stringify(value) }], ...(isPlainObject(value) ? { structuredContent: value } : {}) };
  } catch (thrown) {
    const error = thrown instanceof DomainError ? thrown : unexpected(context, thrown);
    const problem = { code: error.code, message: error.message, ...(error.data ? { data: error.data } : {}) };
    return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: problem }) }], structuredContent: { error: problem } };
  }
}

/** A bug in a tool's own mapping: logged, never shown (the SDK would otherwise send its message). */
function unexpected(context: Context, thrown: unknown): DomainError {
  context.services.log.error({ err: thrown }, 'unexpected error in an MCP tool');
  return new DomainError('INTERNAL', 'Internal server error.');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
