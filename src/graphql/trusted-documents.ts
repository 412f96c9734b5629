import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerOptionsWithSchema, ApolloServerPlugin } from '@apollo/server';
import { InMemoryLRUCache, PrefixingKeyValueCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { parse, validate, type GraphQLSchema } from 'graphql';
import type { TrustedDocumentsConfig } from '../core/config';
import { DomainError } from '../core/errors';
import { asHttpError, spendBudget } from './budget';
import type { Context } from './context';

/** One operation of a manifest in Apollo's persisted-query format (the SDK's sdk/persisted-query-manifest.json). */
interface ManifestOperation { id: string; name: string; type: string; body: string }

/**
 * Trusted documents (GRAPHQL_TRUSTED_DOCUMENTS), on Apollo Server's own persisted queries: a client sends an
 * operation by id (`extensions.persistedQuery.sha256Hash`, as Apollo clients do) and Apollo reads its text from
 * the cache given here, which answers the manifest's operations first.
 *   off:   no persisted queries at all (PERSISTED_QUERY_NOT_SUPPORTED);
 *   allow: the manifest's ids, any text, and automatic persisted queries (APQ) registering other documents in a
 *          bounded in-memory cache, as Apollo does by default;
 *   only:  the manifest's operations only, by id or as their exact text; anything else is refused with
 *          TRUSTED_DOCUMENT_REQUIRED before it is parsed, and APQ registers nothing. REST and MCP run their own
 *          prepared documents in-process (prepared-operation.ts) and never come through here.
 * The id is the SHA-256 of the text, the key Apollo's document store (and so compiled-execution.ts's plans) already
 * uses for a text query: an operation sent by id and the same text share one parsed, validated, compiled document.
 */
export function trustedDocuments(config: TrustedDocumentsConfig, schema: GraphQLSchema): { server: Pick<ApolloServerOptionsWithSchema<Context>, 'persistedQueries'>; plugins: ApolloServerPlugin<Context>[] } {
  if (config.mode === 'off') return { server: { persistedQueries: false }, plugins: [] };
  const manifest = loadManifest(config.manifestPath, schema);
  const registered = config.mode === 'allow' ? new InMemoryLRUCache<string>() : undefined;
  // The ids are SHA-256 hashes of the text: no other cache user can collide with them, so no 'apq:' prefix.
  const cache = PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(new ManifestFirstCache(manifest, registered));
  return { server: { persistedQueries: { cache } }, plugins: config.mode === 'only' ? [onlyManifestOperations(manifest)] : [] };
}

/** The manifest's operations by id; refuses to start on a malformed manifest, an id that is not its text's hash, or an operation the schema does not validate. */
export function loadManifest(path: string, schema: GraphQLSchema): ReadonlyMap<string, string> {
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
    const problems = validate(schema, parse(operation.body));
    if (problems.length) throw new Error(`${label} does not validate against the schema: ${problems.map((p) => p.message).join('; ')}`);
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
 * GRAPHQL_TRUSTED_DOCUMENTS=only: the request names a manifest operation, by id or by its exact text, or it is
 * refused here, before Apollo looks the id up, parses or validates anything. Like any refused document it costs
 * one point of the caller's budget.
 */
function onlyManifestOperations(manifest: ReadonlyMap<string, string>): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request, contextValue }) {
      const byId = request.extensions?.persistedQuery !== undefined;
      const id: unknown = byId ? request.extensions?.persistedQuery?.sha256Hash : typeof request.query === 'string' ? sha256(request.query) : undefined;
      // Neither an id nor a text: Apollo's own "must contain a query" refusal.
      if ((!byId && id === undefined) || (typeof id === 'string' && manifest.has(id))) return;
      await spendBudget(contextValue, 1).catch(() => undefined);
      throw asHttpError(new DomainError('TRUSTED_DOCUMENT_REQUIRED', byId
        ? 'This server runs only the operations of its trusted-documents manifest, and this id is not one of them.'
        : 'This server runs only the operations of its trusted-documents manifest: send one by its id (extensions.persistedQuery.sha256Hash).'));
    },
  };
}
