import { z } from 'zod';
import { mcpTool, type McpTool } from '../mcp/mcp-tool';
import { ATTACHMENT_CATEGORIES } from './supported-attachments';
import { MAX_FILES } from './tasks.service';

const TASK_FIELDS = 'id status result error cost attempts inputs { fileName sizeBytes category mimeType } createdAt updatedAt';

export const agentMcp: McpTool[] = [
  mcpTool({
    name: 'agent_supported_attachments',
    description: 'The file types the agent reads, by category.',
    input: {},
    graphql: 'query ($userId: ID!) { supportedAttachments(userId: $userId) { category extensions } }',
    variables: (_input, userId) => ({ userId }),
    present: (categories) => Object.fromEntries(categories.map((c: { category: string; extensions: string[] }) => [c.category, c.extensions])),
    output: () => z.object(Object.fromEntries(ATTACHMENT_CATEGORIES.map((category) => [category, z.array(z.string())]))),
  }),
  mcpTool({
    name: 'agent_analysis',
    description: `Start an analysis of a claim and up to ${MAX_FILES} files (base64); poll tasks_view for the result. Refunded if it finally fails.`,
    input: {
      prompt: z.string().describe('What to check'),
      files: z.array(z.object({ name: z.string().describe('File name with extension'), contentBase64: z.string() })).max(MAX_FILES).optional(),
    },
    graphql: `mutation ($userId: ID!, $input: AnalysisInput!) { startAnalysis(userId: $userId, input: $input) { ${TASK_FIELDS} } }`,
    variables: (input, userId) => ({ userId, input: { prompt: input.prompt, files: input.files ?? [] } }),
    // Spends credits from the balance (taken back only by a refund), so clients should ask first.
    effects: { destructive: true, idempotent: false, openWorld: true },
    cost: (config) => config.agentTaskCost,
  }),
  mcpTool({
    name: 'tasks_list',
    description: 'Your analysis tasks, newest first.',
    input: { limit: z.number().int().min(1).max(100).optional(), offset: z.number().int().min(0).optional(), status: z.enum(['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED']).optional() },
    graphql: `query ($userId: ID!, $limit: Int, $offset: Int, $status: TaskStatus) { tasks(userId: $userId, limit: $limit, offset: $offset, status: $status) { tasks { ${TASK_FIELDS} } hasNextPage } }`,
    variables: (input, userId) => ({ userId, limit: input.limit ?? null, offset: input.offset ?? null, status: input.status ?? null }),
  }),
  mcpTool({
    name: 'tasks_view',
    description: 'One analysis task; `result` is null until it is completed.',
    input: { id: z.string() },
    graphql: `query ($id: ID!, $userId: ID!) { task(id: $id, userId: $userId) { ${TASK_FIELDS} } }`,
    variables: (input, userId) => ({ id: input.id, userId }),
  }),
];
