import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

type OpenApiDocument = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };

/** A REST answer as the test received it. */
export interface RestAnswer { method: string; path: string; status: number; contentType: string | null; body: unknown }

/** The answer to a path or method the document does not list: only the documented error envelope. */
const UNROUTED_STATUSES = new Set([404, 405]);
const unroutedError = {
  type: 'object',
  properties: { data: { type: 'null' }, message: { type: 'string' }, status: { const: 'error' }, request_id: { type: 'string' } },
  required: ['data', 'message', 'status'],
  additionalProperties: false,
};

/**
 * Checks REST answers against the service's own OpenAPI document: the path and method must be documented
 * (else the answer must be the 404/405 envelope), the status must be one the operation lists, and a JSON
 * body must match that status's schema. `problem()` says what does not match, or null.
 */
export class RestContract {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: { path: string; pattern: RegExp; literals: number }[];

  constructor(readonly document: OpenApiDocument) {
    this.templates = Object.keys(document.paths)
      .map((path) => ({
        path,
        pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
        literals: path.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
      }))
      // `/users/{user_id}/tasks` before `/users/{user_id}/{x}`: the most literal template wins.
      .sort((a, b) => b.literals - a.literals);
  }

  problem(answer: RestAnswer): string | null {
    const where = `${answer.method} ${answer.path} → ${answer.status}`;
    const path = answer.path.split('?')[0];
    const template = this.templates.find((candidate) => candidate.pattern.test(path));
    const operation = template && this.document.paths[template.path][answer.method.toLowerCase()];
    if (!template || !operation) {
      if (!UNROUTED_STATUSES.has(answer.status)) return `${where}: the path or method is not in the OpenAPI document`;
      return this.mismatch(where, `unrouted`, unroutedError, answer.body);
    }
    const response = operation.responses[String(answer.status)];
    if (!response) return `${where}: status ${answer.status} is not documented for ${answer.method} ${template.path} (documented: ${Object.keys(operation.responses).join(', ')})`;
    if (!response.content) return answer.body === null ? null : `${where}: documented without a body, but one was sent`;
    const [mediaType, media] = Object.entries(response.content)[0];
    if (!answer.contentType?.startsWith(mediaType)) return `${where}: content type ${answer.contentType}, documented ${mediaType}`;
    if (mediaType !== 'application/json') return null;
    return this.mismatch(where, `${answer.method} ${template.path} ${answer.status}`, media.schema, answer.body);
  }

  private mismatch(where: string, key: string, schema: object, body: unknown): string | null {
    let validate = this.validators.get(key);
    if (!validate) this.validators.set(key, (validate = this.ajv.compile(schema)));
    if (validate(body)) return null;
    return `${where}: the body does not match the OpenAPI document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`;
  }
}

/** One contract per document text: suites start many TestApps serving the same document. */
const contracts = new Map<string, RestContract>();
export function contractFor(documentText: string): RestContract {
  let contract = contracts.get(documentText);
  if (!contract) contracts.set(documentText, (contract = new RestContract(JSON.parse(documentText) as OpenApiDocument)));
  return contract;
}
