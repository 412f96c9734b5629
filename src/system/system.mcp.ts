import { z } from 'zod';
import { mcpTool, type McpTool } from '../mcp/mcp-tool';

export const systemMcp: McpTool[] = [
  mcpTool({ name: 'system_version', description: "The running version of Clara's API.", input: {}, graphql: 'query { version }', present: (version: string) => ({ version }), output: (version) => z.object({ version }) }),
];
