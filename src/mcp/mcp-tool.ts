import type { z } from 'zod';
import type { Config } from '../core/config';

export type McpToolInput = Record<string, z.ZodType>;

/**
 * One MCP tool: a GraphQL document run for the caller, against the same permission-wrapped schema as
 * /graphql and REST. Like a RestOperation it holds no logic and no rules, only the mapping of tool
 * arguments to GraphQL variables and of the result back.
 */
export interface McpTool<Input extends McpToolInput = McpToolInput> {
  /** `capability_action`, e.g. `user_view`: assistants accept only `^[a-zA-Z0-9_-]{1,64}$`. */
  name: string;
  /** What the assistant reads to decide when to call the tool. */
  description: string;
  /** The tool's arguments as zod fields (`{}` for none): the SDK validates them and advertises the JSON Schema. */
  input: Input;
  graphql: string;
  /**
   * Arguments and the caller's User-Id → GraphQL variables (default: none). Pass the user id as the
   * operation's `userId`/`id` argument: the ownership rules then refuse another user's id (403).
   */
  variables?: (input: z.infer<z.ZodObject<Input>>, userId: string) => Record<string, unknown>;
  /**
   * The operation's root field → the tool's result (default: as is). Return an object (e.g. `{ tasks }`
   * for a list): the result is sent as JSON text and as `structuredContent`.
   */
  present?: (result: any) => Record<string, unknown>;
  /**
   * The declared output (`outputSchema`) when `present` reshapes the root field: built from `root`, the schema
   * derived from the GraphQL selection (see output-schema.ts). Without `present`, the derived schema is the output.
   */
  output?: (root: z.ZodType) => z.ZodObject;
  /** What a mutation does to the world, for the MCP annotations (queries are read-only and idempotent). */
  effects?: { destructive: boolean; idempotent: boolean; openWorld: boolean };
  /** Takes an `idempotencyKey` argument into the mutation's `input.idempotencyKey` (a retried call then runs once). */
  acceptsIdempotencyKey?: boolean;
  /** Credits one call spends: announced in the description and in `_meta` before the tool is called. */
  cost?: (config: Config) => number;
}

/** Types `variables` by the tool's own input while tools with different inputs share one array. */
export const mcpTool = <Input extends McpToolInput>(tool: McpTool<Input>): McpTool => tool as unknown as McpTool;
