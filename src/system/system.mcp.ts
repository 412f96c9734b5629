import { mcpTool, type McpTool } from '../mcp/mcp-tool';

export const systemMcp: McpTool[] = [
  mcpTool({ name: 'system.version', description: "The running version of Clara's API.", input: {}, graphql: 'query { version }', present: (version: string) => ({ version }) }),
];
