import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { GraphQLSchema } from 'graphql';
import { z } from 'zod';
import type { Config } from '../core/config';
import { DomainError } from '../core/errors';
import { spendBudget } from '../graphql/budget';
import type { Context } from '../graphql/context';
import { prepareOperation, type PreparedOperation } from '../graphql/prepared-operation';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../idempotency/idempotency.service';
import { withIdempotencyKey } from '../idempotency/key-variable';
import type { McpTool } from './mcp-tool';
import { rootFieldSchema } from './output-schema';

/** The names assistants accept (Claude Desktop, OpenAI-based clients and others refuse the whole list otherwise). */
export const MCP_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The argument of the tools that create or spend: the same key as REST's Idempotency-Key header. */
const IDEMPOTENCY_KEY_ARGUMENT = z
  .string()
  .min(1)
  .max(MAX_IDEMPOTENCY_KEY_LENGTH)
  .optional()
  .describe('A unique key for this call (e.g. a UUID): retrying with the same key and arguments returns the first result instead of running again (the key is kept 24 hours unless the service is configured otherwise).');

export interface PreparedMcpTool {
  tool: McpTool;
  /** The tool's arguments, with `idempotencyKey` for the tools that take one. */
  inputSchema: McpTool['input'];
  operation: PreparedOperation;
  /** What the tool declares and the SDK checks every structured result against. */
  outputSchema: z.ZodObject;
  description: string;
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
  _meta?: Record<string, unknown>;
}

/** Parses and validates every tool's GraphQL document and derives its output schema once, at startup. */
export function prepareMcpTools(schema: GraphQLSchema, tools: McpTool[], config: Config): PreparedMcpTool[] {
  const names = new Set<string>();
  return tools.map((tool) => {
    const label = `MCP tool ${tool.name}`;
    if (!MCP_TOOL_NAME.test(tool.name)) throw new Error(`${label}: the name must match ${MCP_TOOL_NAME}`);
    if (names.has(tool.name)) throw new Error(`${label} is defined twice`);
    names.add(tool.name);
    const operation = prepareOperation(schema, tool.graphql, label);
    const root = rootFieldSchema(schema, tool.graphql);
    const outputSchema = tool.output ? tool.output(root) : root;
    if (!(outputSchema instanceof z.ZodObject)) throw new Error(`${label}: the result is not an object; give it \`present\` and \`output\``);
    if (!operation.readOnly && !tool.effects) throw new Error(`${label}: a mutation must declare its effects`);
    const effects = tool.effects ?? { destructive: false, idempotent: true, openWorld: false };
    const cost = tool.cost?.(config);
    return {
      tool,
      inputSchema: tool.acceptsIdempotencyKey ? { ...tool.input, idempotencyKey: IDEMPOTENCY_KEY_ARGUMENT } : tool.input,
      operation,
      outputSchema,
      description: cost ? `${tool.description} Costs ${cost} credits per call.` : tool.description,
      annotations: { readOnlyHint: operation.readOnly, destructiveHint: effects.destructive, idempotentHint: effects.idempotent, openWorldHint: effects.openWorld },
      ...(cost ? { _meta: { 'clara/costCredits': cost } } : {}),
    };
  });
}

/** What a tool call runs with: the context (caller, EntityManager) of the HTTP request that carried it. */
export type ContextOfCall = (extra: { authInfo?: AuthInfo }) => Context;

/**
 * An MCP server: for one HTTP request (Streamable HTTP, stateless) or for one SSE session, whose messages each
 * arrive in their own POST. Its tools run with the context of the request that carried the call, which already
 * holds the caller.
 */
export function createMcpServer(info: { name: string; version: string }, tools: PreparedMcpTool[], contextOf: ContextOfCall, userId: string): McpServer {
  const server = new McpServer(info);
  for (const { tool, inputSchema, operation, outputSchema, description, annotations, _meta } of tools) {
    server.registerTool(
      tool.name,
      { description, inputSchema, outputSchema, annotations, ...(_meta ? { _meta } : {}) },
      async (input: Record<string, unknown>, extra: { authInfo?: AuthInfo }) => {
        const context = contextOf(extra);
        return toolResult(context, async () => {
          const variables = withIdempotencyKey(tool.variables?.(input, userId) ?? {}, input.idempotencyKey);
          await spendBudget(context, operation.cost(variables));
          const result = await operation.run(context, variables);
          return tool.present ? tool.present(result) : result;
        });
      },
    );
  }
  return server;
}

/** The value as JSON text and as structuredContent (checked by the SDK against the output schema); a DomainError as a tool error. */
async function toolResult(context: Context, produce: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    const value = (await produce()) as Record<string, unknown>;
    return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
  } catch (thrown) {
    const error = thrown instanceof DomainError ? thrown : unexpected(context, thrown);
    const problem = { code: error.code, message: error.message, ...(error.data ? { data: error.data } : {}) };
    // No structuredContent: clients check it against the tool's output schema, which describes success.
    return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: problem }) }] };
  }
}

/** A bug in a tool's own mapping: logged, never shown (the SDK would otherwise send its message). */
function unexpected(context: Context, thrown: unknown): DomainError {
  context.services.log.error({ err: thrown }, 'unexpected error in an MCP tool');
  return new DomainError('INTERNAL', 'Internal server error.');
}
