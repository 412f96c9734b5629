import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Services } from '../app/services';
import { callerUser } from '../auth/caller';
import { badRequest } from '../core/errors';
import { spendBudget } from '../graphql/budget';
import { createContext } from '../graphql/context';
import { prepareOperation } from '../graphql/prepared-operation';
import { sendSuccess } from '../http/envelope';
import { routeSchema } from '../http/openapi';
import { arrayOf, integer, object, restId, str } from '../http/rest-operation';
import { filePart, multipartError } from './agent.rest';
import { MAX_FILES } from './tasks.service';
import type { IncomingFile } from './uploads.service';

export const UPLOADS_PATH = '/uploads';
const onlyFiles = 'Only file parts are accepted here; send the prompt with startAnalysis.';

/**
 * POST /api/v1/uploads, the first step of a two-step upload: multipart/form-data, one file part per file, each
 * named by its file name. The caller is checked before any part is read, through the same rule as the
 * analysis's file list (an active account's user token or API key, permissions.ts), so an unknown caller's
 * body is never buffered or stored. Answers the uploads' ids, which `startAnalysis(input: {uploadIds})` takes.
 */
const uploadSchema = routeSchema({
  method: 'POST',
  summary: 'Upload files for a later analysis (startAnalysis uploadIds): their ids',
  auth: ['userToken', 'apiKey'],
  form: { type: 'object', additionalProperties: filePart, description: 'One file part per file (up to 5), each named by its file name.' },
  status: 201,
  data: arrayOf(object({ id: restId('upload'), file_name: str(), size_bytes: integer, category: str(), mime_type: str() })),
  errors: [403],
}, 'Agent');

export function registerUploadRoute(api: FastifyInstance, schema: GraphQLSchema, services: Services): void {
  const gate = prepareOperation(schema, 'query { supportedAttachments { category } }', `REST POST ${UPLOADS_PATH}`);
  const maxFileBytes = services.config.agentMaxFileBytes;

  api.post(UPLOADS_PATH, { schema: uploadSchema }, async (request, reply) => {
    const context = await createContext(services, request.headers.authorization, request.ip, request.headers['user-agent']);
    await spendBudget(context, gate.cost({}));
    await gate.run(context, {}); // 401/403 here, before the body is read
    if (!request.isMultipart()) throw badRequest('Send the files as multipart/form-data: one part per file, named by its file name.');
    const uploads = await services.uploads.receive(context.em, callerUser(context.caller)!, fileParts(request, maxFileBytes));
    const data = uploads.map((upload) => ({ id: upload.id, file_name: upload.fileName, size_bytes: upload.sizeBytes, category: upload.category, mime_type: upload.mimeType }));
    return sendSuccess(reply, 201, 'Files uploaded successfully.', data);
  });
}

/** The form's file parts as streams; busboy's own limit is one byte over ours, so the storage sees the excess. */
async function* fileParts(request: FastifyRequest, maxFileBytes: number): AsyncGenerator<IncomingFile> {
  const parts = request.parts({ limits: { files: MAX_FILES, fileSize: maxFileBytes + 1, fields: 0, parts: MAX_FILES } });
  try {
    for await (const part of parts) {
      if (part.type !== 'file') throw badRequest(onlyFiles);
      const file = part as MultipartFile;
      yield { fileName: file.fieldname || file.filename, stream: file.file };
    }
  } catch (error) {
    const tooManyFiles = `At most ${MAX_FILES} files can be uploaded at once.`;
    throw multipartError(error, { FST_FILES_LIMIT: tooManyFiles, FST_PARTS_LIMIT: tooManyFiles, FST_FIELDS_LIMIT: onlyFiles });
  }
}
