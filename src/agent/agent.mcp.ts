import { z } from 'zod';
import { notFound } from '../core/errors';
import { mcpTool, type McpTool } from '../mcp/mcp-tool';
import { at } from '../mcp/output-schema';
import { ATTACHMENT_CATEGORIES } from './supported-attachments';
import { MAX_FILES } from './tasks.service';

const REPORT = `report { kind summary confidence reasoning sources claims { text source assessment confidence reasoning }
  findings { kind severity message evidence fileName } disclaimer }`;
const TASK_FIELDS = `id status ${REPORT} error cost attempts inputs { fileName sizeBytes category mimeType } createdAt updatedAt`;

export const agentMcp: McpTool[] = [
  mcpTool({
    name: 'agent_supported_attachments',
    description: 'The file types the agent reads, by category.',
    input: {},
    graphql: 'query ($userId: ID!) { user(id: $userId) { id } supportedAttachments { category extensions } }',
    variables: (_input, userId) => ({ userId }),
    present: ({ supportedAttachments }) => Object.fromEntries(supportedAttachments.map((c: { category: string; extensions: string[] }) => [c.category, c.extensions])),
    output: () => z.object(Object.fromEntries(ATTACHMENT_CATEGORIES.map((category) => [category, z.array(z.string())]))),
  }),
  mcpTool({
    name: 'agent_analysis',
    description: `Start an analysis of a claim and up to ${MAX_FILES} files (small ones inline as base64, or uploadIds from POST /api/v1/uploads); poll tasks_view for the report. Refunded if it finally fails.`,
    input: {
      prompt: z.string().describe('What to check'),
      files: z.array(z.object({ name: z.string().describe('File name with extension'), contentBase64: z.string() })).max(MAX_FILES).optional(),
      uploadIds: z.array(z.string()).max(MAX_FILES).optional().describe('Ids of files uploaded before with POST /api/v1/uploads'),
    },
    graphql: `mutation ($input: StartAnalysisInput!) { startAnalysis(input: $input) { task { ${TASK_FIELDS} } } }`,
    variables: (input, userId) => ({ input: { userId, prompt: input.prompt, files: input.files ?? [], uploadIds: input.uploadIds ?? [] } }),
    present: (payload) => payload.task,
    output: (payload) => at(payload, 'task') as z.ZodObject,
    // Spends credits from the balance (taken back only by a refund), so clients should ask first.
    effects: { destructive: true, idempotent: false, openWorld: true },
    acceptsIdempotencyKey: true,
    cost: (config) => config.agentTaskCost,
  }),
  mcpTool({
    name: 'tasks_list',
    description: 'Your analysis tasks, newest first.',
    input: { limit: z.number().int().min(1).max(100).optional(), offset: z.number().int().min(0).optional(), status: z.enum(['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED']).optional() },
    graphql: `query ($userId: ID!, $limit: Int, $offset: Int, $status: TaskStatus) {
      user(id: $userId) { tasks(first: $limit, offset: $offset, status: $status) { edges { node { ${TASK_FIELDS} } } pageInfo { hasNextPage } } } }`,
    variables: (input, userId) => ({ userId, limit: input.limit ?? null, offset: input.offset ?? 0, status: input.status ?? null }),
    present: ({ tasks }) => ({ tasks: tasks.edges.map((edge: { node: unknown }) => edge.node), hasNextPage: tasks.pageInfo.hasNextPage }),
    output: (user) => z.object({ tasks: z.array(at(user, 'tasks', 'edges', 'node')), hasNextPage: z.boolean() }),
  }),
  mcpTool({
    name: 'tasks_view',
    description: 'One analysis task; `report` is null until it is completed.',
    input: { id: z.string() },
    graphql: `query ($id: ID!, $userId: ID!) { user(id: $userId) { task(id: $id) { ${TASK_FIELDS} } } }`,
    variables: (input, userId) => ({ id: input.id, userId }),
    present: ({ task }) => {
      if (!task) throw notFound('Task not found.');
      return task;
    },
    output: (user) => at(user, 'task') as z.ZodObject,
  }),
];
