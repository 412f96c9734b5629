import { z } from 'zod';
import { mcpTool, type McpTool } from '../mcp/mcp-tool';
import { MAX_FILES } from './tasks.service';

const TASK_FIELDS = 'id status result error cost attempts inputs { fileName sizeBytes category mimeType } createdAt updatedAt';

export const agentMcp: McpTool[] = [
  mcpTool({
    name: 'agent.supported_attachments',
    description: 'The file types the agent reads, by category.',
    input: {},
    graphql: 'query ($userId: ID!) { supportedAttachments(userId: $userId) { category extensions } }',
    variables: (_input, userId) => ({ userId }),
    present: (categories) => Object.fromEntries(categories.map((c: { category: string; extensions: string[] }) => [c.category, c.extensions])),
  }),
  mcpTool({
    name: 'agent.analysis',
    description: `Start an analysis of a claim and up to ${MAX_FILES} files (base64). Costs credits (needs at least 20); poll tasks.view for the result.`,
    input: {
      prompt: z.string().describe('What to check'),
      files: z.array(z.object({ name: z.string().describe('File name with extension'), contentBase64: z.string() })).max(MAX_FILES).optional(),
    },
    graphql: `mutation ($userId: ID!, $input: AnalysisInput!) { startAnalysis(userId: $userId, input: $input) { ${TASK_FIELDS} } }`,
    variables: (input, userId) => ({ userId, input: { prompt: input.prompt, files: input.files ?? [] } }),
  }),
  mcpTool({
    name: 'tasks.list',
    description: 'Your analysis tasks, newest first.',
    input: { limit: z.number().int().min(1).max(100).optional(), offset: z.number().int().min(0).optional(), status: z.enum(['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED']).optional() },
    graphql: `query ($userId: ID!, $limit: Int, $offset: Int, $status: TaskStatus) { tasks(userId: $userId, limit: $limit, offset: $offset, status: $status) { tasks { ${TASK_FIELDS} } hasNextPage } }`,
    variables: (input, userId) => ({ userId, limit: input.limit ?? null, offset: input.offset ?? null, status: input.status ?? null }),
  }),
  mcpTool({
    name: 'tasks.view',
    description: 'One analysis task; `result` is null until it is completed.',
    input: { id: z.string() },
    graphql: `query ($id: ID!, $userId: ID!) { task(id: $id, userId: $userId) { ${TASK_FIELDS} } }`,
    variables: (input, userId) => ({ id: input.id, userId }),
  }),
];
