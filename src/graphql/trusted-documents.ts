import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerOptionsWithSchema } from '@apollo/server';
import { InMemoryLRUCache, PrefixingKeyValueCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { TrustedDocumentsConfig } from '../core/config';
import { DomainError } from '../core/errors';
import type { Context } from './context';

/** One operation of a manifest in Apollo's persisted-query format (the SDK's sdk/persisted-query-manifest.json). */
interface ManifestOperation { id: string; name: string; type: string; body: string }

/** What /graphql checks every document against (src/graphql/limits.ts). */
type DocumentLimits = Pick<ApolloServerOptionsWithSchema<Context>, 'parseOptions' | 'validationRules'>;

/**
 * Trusted documents (GRAPHQL_TRUSTED_DOCUMENTS), on Apollo Server's own persisted queries: a client sends an
 * operation by id (`extensions.persistedQuery.sha256Hash`, as Apollo clients do) and Apollo reads its text from
 * the cache given here, which answers the manifest's operations first.
 *   off:   no persisted queries at all (PERSISTED_QUERY_NOT_SUPPORTED);
 *   allow: the manifest's ids, any text, and automatic persisted queries (APQ) registering other documents in a
 *          bounded in-memory cache, as Apollo does by default;
 *   only:  the manifest's operations only, by id or as their exact text; anything else is refused with
 *          TRUSTED_DOCUMENT_REQUIRED (400) before it is parsed, and APQ registers nothing. REST and MCP run their own
 *          prepared documents in-process (prepared-operation.ts) and never come through here.
 * The id is the SHA-256 of the text, the key Apollo's document store (and so compiled-execution.ts's plans) already
 * uses for a text query: an operation sent by id and the same text share one parsed, validated, compiled document.
 */
export function trustedDocuments(config: TrustedDocumentsConfig, schema: GraphQLSchema, limits: DocumentLimits = {}): { server: Pick<ApolloServerOptionsWithSchema<Context>, 'persistedQueries'>; preHandler?: preHandlerAsyncHookHandler; socketDocument: SocketDocument } {
  if (config.mode === 'off') return { server: { persistedQueries: false }, socketDocument: textOf };
  // The SDK's manifest and, listed beside it, those Apollo Kotlin or Apollo iOS generate for a native app.
  const manifest = new Map(config.manifestPaths.flatMap((path) => [...loadManifest(path, schema, limits)]));
  const registered = config.mode === 'allow' ? new InMemoryLRUCache<string>() : undefined;
  // The ids are SHA-256 hashes of the text: no other cache user can collide with them, so no 'apq:' prefix.
  const cache = PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(new ManifestFirstCache(manifest, registered));
  return { server: { persistedQueries: { cache } }, preHandler: config.mode === 'only' ? onlyManifestOperations(manifest) : undefined, socketDocument: manifestDocument(manifest, config.mode === 'only') };
}

/**
 * The text of a subscription sent over the WebSocket (graphql-ws `subscribe` payload), under the same mode as
 * POST /graphql: a manifest id is its text; in `only` anything else is TRUSTED_DOCUMENT_REQUIRED before parsing.
 */
export type SocketDocument = (payload: { query?: unknown; extensions?: unknown }) => string;

const textOf: SocketDocument = (payload) => (typeof payload.query === 'string' ? payload.query : '');

function manifestDocument(manifest: ReadonlyMap<string, string>, only: boolean): SocketDocument {
  return (payload) => {
    const requested = requestedOperation(payload);
    const body = requested?.id != null ? manifest.get(requested.id) : undefined;
    if (body !== undefined) return body;
    if (!only && textOf(payload)) return textOf(payload); // allow: an unknown id with its text runs the text
    if (only) throw new DomainError('TRUSTED_DOCUMENT_REQUIRED', 'This server runs only the operations of its trusted-documents manifest: send one by its id (extensions.persistedQuery.sha256Hash).');
    throw new DomainError('BAD_REQUEST', 'This id is not in the trusted-documents manifest: send the subscription as text.');
  };
}

/**
 * The manifest's operations by id; refuses to start on a malformed manifest, an id that is not its text's hash, or
 * an operation that would be refused anyway: not valid against the schema, or over the /graphql limits (tokens,
 * depth, aliases...) given in `limits`.
 */
export function loadManifest(path: string, schema: GraphQLSchema, limits: DocumentLimits = {}): ReadonlyMap<string, string> {
  let manifest: { format?: unknown; version?: unknown; operations?: unknown };
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST: cannot read ${path}: ${(error as Error).message}`);
  }
  if (manifest?.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1 || !Array.isArray(manifest.operations)) {
    throw new Error(`GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST: ${path} is not an apollo-persisted-query-manifest, version 1`);
  }
  const operations = new Map<string, string>();
  for (const operation of manifest.operations as ManifestOperation[]) {
    const label = `${path}: operation ${String(operation?.name)}`;
    if (typeof operation?.id !== 'string' || typeof operation.body !== 'string') throw new Error(`${label} needs an id and a body`);
    if (sha256(operation.body) !== operation.id) throw new Error(`${label}: its id is not the SHA-256 of its body`);
    let problems: readonly { message: string }[];
    try {
      problems = validate(schema, parse(operation.body, limits.parseOptions), [...specifiedRules, ...((limits.validationRules ?? []) as ValidationRule[])]);
    } catch (error) {
      problems = [error as Error];
    }
    if (problems.length) throw new Error(`${label} does not validate against the schema and the /graphql limits: ${problems.map((p) => p.message).join('; ')}`);
    operations.set(operation.id, operation.body);
  }
  return operations;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Apollo's APQ cache: the manifest's texts, then (allow) what clients registered; in `only` nothing is ever added. */
class ManifestFirstCache implements KeyValueCache<string> {
  constructor(
    private readonly manifest: ReadonlyMap<string, string>,
    private readonly registered: KeyValueCache<string> | undefined,
  ) {}

  async get(id: string): Promise<string | undefined> {
    return this.manifest.get(id) ?? this.registered?.get(id);
  }

  async set(id: string, text: string, options?: KeyValueCacheSetOptions): Promise<void> {
    if (!this.manifest.has(id)) await this.registered?.set(id, text, options);
  }

  async delete(id: string): Promise<boolean | void> {
    return this.registered?.delete(id);
  }
}

/**
 * GRAPHQL_TRUSTED_DOCUMENTS=only, as the /graphql route's preHandler: a request names a manifest operation, by id
 * or by its exact text, or it is refused here, before the caller is looked up and before Apollo reads, parses or
 * validates anything (a refusal costs a hash, no database work). Apollo's own plugin hooks cannot answer a 400
 * this early: what they throw before parsing becomes a 500.
 */
function onlyManifestOperations(manifest: ReadonlyMap<string, string>): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    const body: unknown = request.method === 'GET' ? request.query : request.body;
    for (const params of Array.isArray(body) ? body : [body]) {
      const requested = requestedOperation(params);
      // Neither an id nor a text: Apollo's own "must contain a query" refusal follows.
      if (!requested || (requested.id !== null && manifest.has(requested.id))) continue;
      const message = requested.byId
        ? 'This server runs only the operations of its trusted-documents manifest, and this id is not one of them.'
        : 'This server runs only the operations of its trusted-documents manifest: send one by its id (extensions.persistedQuery.sha256Hash).';
      const error = new DomainError('TRUSTED_DOCUMENT_REQUIRED', message);
      return reply.code(error.status).send({ errors: [{ message, extensions: { code: error.code, status: error.status } }] });
    }
  };
}

/** The operation a request names: by its persisted-query id (null when malformed) or by its text's hash; undefined for neither. */
function requestedOperation(params: unknown): { id: string | null; byId: boolean } | undefined {
  if (params === null || typeof params !== 'object') return undefined;
  let { extensions, query } = params as { extensions?: unknown; query?: unknown };
  if (typeof extensions === 'string') extensions = parseJson(extensions); // GET sends it as JSON text
  const persisted = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
  if (persisted !== undefined) return { id: typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : null, byId: true };
  return typeof query === 'string' ? { id: sha256(query), byId: false } : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
