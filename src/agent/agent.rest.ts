import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { badRequest, DomainError, notFound } from '../core/errors';
import { toRestShape } from '../http/envelope';
import { arrayOf, integer, nullable, object, optionalNumber, restDate, restId, str, wholeNumber, type RestOperation } from '../http/rest-operation';
import { MAX_FILES } from './tasks.service';
import { TASK_STATUSES } from './task.entity';

/** The task's REST fields: the documented ones plus its inputs, cost and error. */
export const TASK_FIELDS = 'id userId status report { raw } error cost inputs { fileName sizeBytes category mimeType } createdAt updatedAt';
const PROMPT_FIELDS = ['prompt', 'text', 'message', 'query'];

type Req = FastifyRequest<{ Params: { user_id: string; task_id: string }; Querystring: Record<string, string | undefined> }>;
interface MultipartBody { files: { name: string; content: Buffer }[]; fields: Record<string, string> }

/** The task as REST shows it (the task events stream leaves out `inputs`). */
export const restTask = object({
  id: restId('task'), user_id: restId('user'), status: { enum: [...TASK_STATUSES] },
  result: { description: "The analysis report (JSON), null until the task is completed." }, error: nullable(str()), cost: integer,
  inputs: arrayOf(object({ file_name: str(), size_bytes: integer, category: str(), mime_type: str() })),
  created_at: restDate, updated_at: restDate,
}, ['id', 'user_id', 'status', 'result', 'error', 'cost', 'created_at', 'updated_at']);
/** A multipart part named by its file name is a file. */
export const filePart = { type: 'string', contentMediaType: 'application/octet-stream' };
const ownTask = [403, 404];

export interface TaskResult { status: string; report: { raw: unknown } | null }

/**
 * A task in REST form: REST field names, the report's stored JSON as `result` (null until done), and the status as
 * the reference writes it (`queued`, not `QUEUED`). Null (not the caller's, or no such task) is the documented 404.
 */
export function presentTask({ report, ...task }: TaskResult) {
  return { ...(toRestShape({ ...task, result: report?.raw ?? null }) as object), status: task.status.toLowerCase() };
}
export function presentFoundTask(user: { task: TaskResult | null }) {
  if (!user.task) throw notFound('Task not found.');
  return presentTask(user.task);
}

/**
 * multipart/form-data: each file part's field name is its file name (as documented); text parts are the
 * prompt (`prompt`, or `text`/`message`/`query`) and any other fields, which are added to it as context.
 */
async function readAnalysisForm(request: FastifyRequest): Promise<MultipartBody> {
  if (!request.isMultipart()) throw badRequest('Send the analysis as multipart/form-data: one part per file, named by its file name, and a prompt field.');
  const body: MultipartBody = { files: [], fields: {} };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const file = part as MultipartFile;
        body.files.push({ name: file.fieldname || file.filename, content: await file.toBuffer() });
      } else if (typeof part.value === 'string') {
        body.fields[part.fieldname] = part.value;
      }
    }
  } catch (error) {
    const tooManyParts = 'The form has too many parts.';
    throw multipartError(error, { FST_FILES_LIMIT: `At most ${MAX_FILES} files can be analysed at once.`, FST_PARTS_LIMIT: tooManyParts, FST_FIELDS_LIMIT: tooManyParts });
  }
  return body;
}

type MultipartLimit = 'FST_FILES_LIMIT' | 'FST_PARTS_LIMIT' | 'FST_FIELDS_LIMIT';

/**
 * A multipart body that could not be read, as a 400 (the analysis form and POST /uploads): `limits` words the
 * form's own part limits; an error we threw ourselves passes through.
 */
export function multipartError(error: unknown, limits: Partial<Record<MultipartLimit, string>>): DomainError {
  if (error instanceof DomainError) return error;
  const code = (error as { code?: string }).code;
  const limit = limits[code as MultipartLimit];
  if (limit) return badRequest(limit);
  if (code === 'FST_REQ_FILE_TOO_LARGE') return badRequest('A file is larger than the upload limit.');
  return badRequest('The multipart body could not be read.');
}

function promptOf(fields: Record<string, string>): string {
  const main = PROMPT_FIELDS.map((name) => fields[name]).find((value) => value?.trim()) ?? '';
  const context = Object.entries(fields).filter(([name]) => !PROMPT_FIELDS.includes(name));
  return [main, ...context.map(([name, value]) => `${name}: ${value}`)].filter(Boolean).join('\n');
}

export const agentRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/agent/supported_attachments',
    summary: 'File types the analysis accepts, by category',
    auth: ['userToken', 'apiKey'],
    // `user` applies the path's ownership rule (403/404); the list itself is the same for everyone.
    graphql: 'query ($userId: ID!) { user(id: $userId) { id } supportedAttachments { category extensions } }',
    variables: (r: Req) => ({ userId: r.params.user_id }),
    status: 200,
    message: 'Supported attachments fetched successfully.',
    data: { type: 'object', additionalProperties: arrayOf(str({ pattern: '^\\.' })) },
    errors: ownTask,
    present: ({ supportedAttachments }: { supportedAttachments: { category: string; extensions: string[] }[] }) => Object.fromEntries(supportedAttachments.map((c) => [c.category, c.extensions])),
  },
  {
    method: 'POST',
    url: '/users/:user_id/agent/analysis',
    summary: 'Start a paid analysis of up to 5 files and a prompt: a queued task',
    auth: ['userToken', 'apiKey'],
    graphql: `mutation ($input: StartAnalysisInput!) { startAnalysis(input: $input) { task { ${TASK_FIELDS} } } }`,
    readBody: readAnalysisForm,
    form: {
      type: 'object',
      properties: { prompt: str({ description: 'What to do with the files (or `text`, `message`, `query`).' }) },
      additionalProperties: { anyOf: [filePart, str()], description: 'A file part named by its file name (up to 5 files), or a text field added to the prompt as context.' },
    },
    variables: (r: Req, body: MultipartBody) => ({
      input: { userId: r.params.user_id, prompt: promptOf(body.fields), files: body.files.map((file) => ({ name: file.name, contentBase64: file.content.toString('base64') })) },
    }),
    acceptsIdempotencyKey: true,
    status: 201,
    message: 'Analysis task created successfully.',
    data: restTask,
    errors: [403, 404, 409],
    present: ({ task }: { task: TaskResult }) => presentTask(task),
  },
  {
    method: 'GET',
    url: '/users/:user_id/tasks',
    summary: "The account's analysis tasks, newest first (limit/offset, status)",
    auth: ['userToken', 'apiKey'],
    graphql: `query ($userId: ID!, $limit: Int, $offset: Int, $status: TaskStatus) {
      user(id: $userId) { tasks(first: $limit, offset: $offset, status: $status) { edges { node { ${TASK_FIELDS} } } } } }`,
    querystring: object({ limit: wholeNumber, offset: wholeNumber, status: { enum: [...TASK_STATUSES] } }, []),
    variables: (r: Req) => ({
      userId: r.params.user_id,
      limit: optionalNumber(r.query.limit),
      offset: optionalNumber(r.query.offset) ?? 0,
      status: r.query.status?.toUpperCase() ?? null,
    }),
    status: 200,
    message: 'Tasks fetched successfully.',
    data: arrayOf(restTask),
    errors: ownTask,
    present: (user: { tasks: { edges: { node: TaskResult }[] } }) => user.tasks.edges.map((edge) => presentTask(edge.node)),
  },
  {
    method: 'GET',
    url: '/users/:user_id/tasks/:task_id',
    summary: 'One analysis task',
    auth: ['userToken', 'apiKey'],
    graphql: `query ($userId: ID!, $id: ID!) { user(id: $userId) { task(id: $id) { ${TASK_FIELDS} } } }`,
    variables: (r: Req) => ({ userId: r.params.user_id, id: r.params.task_id }),
    status: 200,
    message: 'Task fetched successfully.',
    data: restTask,
    errors: ownTask,
    present: presentFoundTask,
  },
];
