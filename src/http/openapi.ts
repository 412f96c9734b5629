import { createHash } from 'node:crypto';
import swagger from '@fastify/swagger';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyInstance, FastifySchema, HTTPMethods } from 'fastify';

type JsonSchema = Record<string, unknown>;

/** The Authorization header's forms (README "Auth methods"); `none`: the path also answers without one. */
export const SECURITY_SCHEMES = {
  publicKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: "The app's public key, sent bare (no scheme): sign-up, activation and emailed codes." },
  userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user token (`clara_user_…`) from register, login or Google sign-in: `Authorization: Bearer <token>`.' },
  apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'clara_api_ + JWT', description: "The user's API key token (`clara_api_…`): acts for its user but cannot manage the account." },
  basicAuth: { type: 'http', scheme: 'basic', description: 'HTTP Basic with email:password: only to log in (POST /auth/session).' },
  adminKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'The server-to-server admin key (ADMIN_API_KEY), sent bare: operators only.' },
} as const;
export type Auth = keyof typeof SECURITY_SCHEMES | 'none';

/** What a REST path declares about itself beyond how it runs: the OpenAPI document is generated from it. */
export interface RouteDoc {
  method: HTTPMethods;
  /** One line for the document and its docs page. */
  summary: string;
  /** The credentials it accepts (OpenAPI `security`). */
  auth: Auth[];
  status: number;
  /** JSON Schema of the success answer's `data` (the envelope is added); not for a 204. */
  data?: JsonSchema;
  /** The error statuses it answers besides those of every path of its kind (see `commonErrors`). */
  errors: number[];
  /** JSON Schema of the body: the documented field names and types; unknown fields are refused. */
  body?: JsonSchema;
  querystring?: JsonSchema;
  /** A multipart/form-data body, documented only: the route reads the parts itself. */
  form?: JsonSchema;
  /** A success answer that is not the JSON envelope (e.g. an event stream): its media type and schema. */
  successContent?: Record<string, { schema: JsonSchema }>;
  /** Request headers beyond Authorization (e.g. Stripe-Signature). */
  headers?: JsonSchema;
}

export const nullSchema: JsonSchema = { type: 'null' };
const envelope = (data: JsonSchema, status: 'success' | 'error') => ({
  type: 'object',
  properties: {
    data,
    message: { type: 'string', description: 'A human sentence; its wording may change.' },
    status: { const: status },
    ...(status === 'error' ? { request_id: { type: 'string', description: 'The request id (X-Request-Id): quote it when reporting a problem.' } } : {}),
  },
  required: ['data', 'message', 'status'],
  additionalProperties: false,
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request: an empty or invalid body or query, a missing or invalid field, or a resource that already exists.',
  401: 'Missing, invalid or expired Authorization header or code, or an account not activated yet. A login that needs the second factor carries `data: {is_2fa_enabled: true}`.',
  403: "A valid caller touching someone else's resource, a credential that may not do this, or not enough credits.",
  404: 'No such resource (or no credit rate covering the amount).',
  409: 'The request conflicts with the current state (e.g. an upload already used, or a request with this idempotency key still running).',
  422: 'This idempotency key was used for a different request.',
  413: 'The request body is too large.',
  415: 'Unsupported Content-Type.',
  429: 'Rate limited: retry after the Retry-After seconds (`data.retry_after_seconds` when known).',
  503: 'A service this depends on (database, mail, payments) is unavailable: retry later (`Retry-After`, `data.retry_after_seconds` when known).',
};
const retryAfter: JsonSchema = { anyOf: [nullSchema, { type: 'object', properties: { retry_after_seconds: { type: 'integer', minimum: 1 } }, required: ['retry_after_seconds'], additionalProperties: false }] };
const errorData: Record<number, JsonSchema> = {
  401: { anyOf: [nullSchema, { type: 'object', properties: { is_2fa_enabled: { const: true } }, required: ['is_2fa_enabled'], additionalProperties: false }] },
  429: retryAfter,
  503: retryAfter,
};
/** The error answer's JSON Schema for a status: the envelope with `data` null (or the data that status carries). */
export const errorResponse = (status: number): JsonSchema => ({ description: ERROR_DESCRIPTIONS[status] ?? 'Error.', ...envelope(errorData[status] ?? nullSchema, 'error') });

/**
 * Statuses any path of its kind may answer before its operation runs: the rate limit; a body that is not
 * valid JSON, too large or of another type; an Authorization header that is not valid.
 */
function commonErrors(doc: RouteDoc): number[] {
  // 503: the database (or a service the path needs) cannot be reached right now; any path may meet it.
  const errors = [429, 503];
  if (doc.method !== 'GET') errors.push(400, 413, 415);
  if (doc.querystring) errors.push(400);
  if (!(doc.auth.length === 1 && doc.auth[0] === 'none')) errors.push(401);
  return errors;
}

/** The Fastify route schema of a REST path: its request schemas (validated) and its documentation. */
export function routeSchema(doc: RouteDoc, tag: string): FastifySchema {
  const response: Record<string, JsonSchema> = {};
  if (doc.status === 204) response[204] = { type: 'null', description: 'Done; no body.' };
  else if (doc.successContent) response[doc.status] = { description: doc.summary, content: doc.successContent };
  else response[doc.status] = { description: doc.summary, ...envelope(doc.data ?? nullSchema, 'success') };
  for (const status of [...new Set([...commonErrors(doc), ...doc.errors])].sort((a, b) => a - b)) response[status] = errorResponse(status);
  return {
    summary: doc.summary,
    tags: [tag],
    security: doc.auth.map((scheme) => (scheme === 'none' ? {} : { [scheme]: [] })),
    ...(doc.body ? { body: doc.body } : {}),
    ...(doc.querystring ? { querystring: doc.querystring } : {}),
    ...(doc.headers ? { headers: doc.headers } : {}),
    ...(doc.form ? { [FORM_KEY]: doc.form } : {}),
    response,
  } as FastifySchema;
}
/** Where a multipart body's documentation waits in the route schema: Fastify would validate a `body`. */
const FORM_KEY = 'x-multipart-form';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';
/** The docs page loads only what this server sends; its inline start script is allowed by its hash. */
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The OpenAPI 3.1 document of the REST paths under `prefix`, generated by @fastify/swagger from their route
 * schemas (so register this before them), at `${prefix}/openapi.json`, and a Scalar docs page at
 * `${prefix}/docs` whose script is served from the installed package (no CDN).
 *
 * The response schemas are documentation and a contract for tests, not a serializer: answers are sent with
 * JSON.stringify as before, so a schema can never drop or reshape a field of a documented body.
 */
export async function registerOpenApi(http: FastifyInstance, prefix: `/${string}`, version: string): Promise<void> {
  http.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await http.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Clara REST API',
        version,
        description: 'The REST shim of Clara, a credits-based AI-agent API. Every JSON answer is `{data, message, status}`; dates are RFC 1123 GMT; ids are `<kind>_<32 hex>`. The same operations are available over GraphQL at /graphql and as MCP tools at /mcp.',
      },
      servers: [{ url: prefix }],
      components: { securitySchemes: SECURITY_SCHEMES as never },
    },
    transform: ({ schema, url }) => {
      if (!url.startsWith(`${prefix}/`)) return { schema: { ...schema, hide: true }, url }; // /graphql, /mcp, /graphiql
      const form = (schema as Record<string, JsonSchema> | undefined)?.[FORM_KEY];
      if (!form) return { schema, url };
      const { [FORM_KEY]: _documented, ...rest } = schema as Record<string, unknown>;
      return { schema: { ...rest, body: form, consumes: ['multipart/form-data'] } as FastifySchema, url };
    },
  });
  http.get(`${prefix}${OPENAPI_PATH}`, { schema: { hide: true } }, (_request, reply) => reply.type('application/json; charset=utf-8').send(http.swagger()));

  await http.register(async (docs) => {
    // The page's inline script only changes with the configuration: allow exactly it, by its hash.
    docs.addHook('onSend', async (request, reply, payload) => {
      if (typeof payload !== 'string' || !String(reply.getHeader('content-type')).startsWith('text/html')) return payload;
      const hashes = [...payload.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`);
      reply.header('content-security-policy', `${DOCS_CSP}; script-src 'self' ${hashes.join(' ')}`);
      return payload;
    });
    await docs.register(scalar, {
      routePrefix: `${prefix}${DOCS_PATH}`,
      // The document above, not the plugin's own copies of it.
      configuration: {
        url: `${prefix}${OPENAPI_PATH}`,
        pageTitle: 'Clara REST API',
        // Nothing leaves this server: no web fonts, telemetry, hosted proxy or MCP/agent services.
        withDefaultFonts: false,
        telemetry: false,
        hideClientButton: true,
        mcp: { disabled: true },
      },
      logLevel: 'warn',
    });
  });
}
