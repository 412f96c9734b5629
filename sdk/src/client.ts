import { createClient, type Client as SocketClient } from 'graphql-ws';
import { ClaraError, codeOfStatus, knownCode, type ClaraUserError } from './errors';
import { operationMethods, type OperationMethods } from './generated/operations';
import type { ClaraOperation, SubscriptionHandlers } from './operation';

export interface ClaraClientOptions {
  /** Where the service runs, e.g. `https://api.clara.example` (the client adds `/graphql` and `/api/v1/...`). */
  baseUrl: string;
  /** The app's public API key: sign-up and activation are sent with it, and calls made before signing in. */
  publicApiKey?: string;
  /** A saved user token (or an API key token) to start with. */
  token?: string | null;
  /** Called whenever the token changes (sign-up, sign-in, logout): keep it in the platform's secure storage. */
  onTokenChange?: (token: string | null) => void;
  /**
   * Operations are sent by id (their trusted-document hash) as Apollo clients send them. When the server does not
   * know the id (PERSISTED_QUERY_NOT_FOUND: an older manifest; PERSISTED_QUERY_NOT_SUPPORTED: persisted queries off),
   * the text is sent instead, unless this is false. A server in GRAPHQL_TRUSTED_DOCUMENTS=only never runs text.
   */
  textFallback?: boolean;
  /** Another fetch (a test double, a platform's own); the global one by default. */
  fetch?: typeof fetch;
  /**
   * The WebSocket class subscriptions use: the global one by default (browsers, React Native, Node 22+); on Node 20
   * pass the `ws` package's.
   */
  webSocketImpl?: unknown;
}

/** A file to upload; `data` as a Blob (browsers, React Native) or bytes (Node). */
export interface UploadFile {
  name: string;
  data: Blob | ArrayBuffer | Uint8Array;
  /** Its media type; the server checks the content itself either way. */
  type?: string;
}

/** An uploaded file, to pass to `startAnalysis({ input: { uploadIds } })`. */
export interface Upload {
  id: string;
  fileName: string;
  sizeBytes: number;
  category: string;
  mimeType: string;
}

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: unknown; status?: number; data?: unknown } }[];
}

/** Root fields the server takes from the public key only (permissions.ts): sign-up and activation. */
const PUBLIC_KEY_FIELDS: ReadonlySet<string> = new Set(['register', 'activate']);

/** Every operation of sdk/operations is a method of the client (`clara.login(...)`, `clara.dashboard()`...). */
export interface ClaraClient extends OperationMethods {}

/**
 * The Clara client: typed operations over `POST /graphql` sent by trusted-document id, the user token kept
 * from sign-up and sign-in (and dropped at logout), typed errors (ClaraError), and file uploads.
 */
export class ClaraClient {
  private token: string | null;
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  /** Set once the server answered PERSISTED_QUERY_NOT_SUPPORTED: then the text is sent straight away. */
  private textOnly = false;
  /** The graphql-ws connection subscriptions share, opened with the first one (and again after a token change). */
  private socket?: SocketClient;

  constructor(private readonly options: ClaraClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token ?? null;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    Object.assign(this, operationMethods((operation, variables) => this.run(operation, variables), (operation, variables, handlers) => this.subscribe(operation, variables, handlers)));
  }

  /** The user token (or API key token) sent as `Authorization: Bearer`, or null when signed out. */
  get currentToken(): string | null {
    return this.token;
  }

  setToken(token: string | null): void {
    if (token === this.token) return;
    this.token = token;
    // The socket authenticated with the old credentials: the next subscription opens one with the new.
    this.closeSubscriptions();
    this.options.onTokenChange?.(token);
  }

  /**
   * Runs one operation and answers its root field (a mutation's payload), typed. A mutation's userErrors are
   * thrown as a ClaraError; a mutation answering a token (sign-up, sign-in) keeps it, a logout drops it.
   */
  async run<TResult, TVariables>(operation: ClaraOperation<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    const data = await this.execute(operation, variables);
    const result = (operation.rootField ? data[operation.rootField] : data) as TResult;
    if (operation.type === 'mutation') this.afterMutation(operation, result as Record<string, unknown> | null);
    return result;
  }

  /**
   * Starts a subscription over graphql-ws on `/graphql`, sent by its trusted-document id (with its text, which a
   * server in `only` mode ignores): each value is the operation's root field, typed. Answers the function that ends it.
   */
  subscribe<TResult, TVariables>(operation: ClaraOperation<TResult, TVariables>, variables: TVariables, handlers: SubscriptionHandlers<TResult>): () => void {
    this.socket ??= createClient({
      url: `${this.baseUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: this.options.webSocketImpl,
      connectionParams: () => (this.token ? { authorization: `Bearer ${this.token}` } : {}),
      retryAttempts: 0,
    });
    const payload = { operationName: operation.name, query: operation.body, variables: variables as Record<string, unknown>, extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } } };
    return this.socket.subscribe<Record<string, unknown>>(payload, {
      next: (result) => {
        const [error] = result.errors ?? [];
        if (error) return handlers.error?.(new ClaraError(knownCode(error.extensions?.code), error.message, { operation: operation.name }));
        if (result.data) handlers.next((operation.rootField ? result.data[operation.rootField] : result.data) as TResult);
      },
      error: (error) => handlers.error?.(socketError(error, operation.name)),
      complete: () => handlers.complete?.(),
    });
  }

  /** Ends every subscription and closes their socket (e.g. when the app goes to the background). */
  closeSubscriptions(): void {
    void this.socket?.dispose();
    this.socket = undefined;
  }

  /** Uploads one to five files (`POST /api/v1/uploads`), for `startAnalysis({ input: { uploadIds } })`. */
  async upload(files: readonly UploadFile[]): Promise<Upload[]> {
    const form = new FormData();
    for (const file of files) {
      const blob = file.data instanceof Blob ? file.data : new Blob([file.data as BlobPart], file.type ? { type: file.type } : {});
      // Each part is named by its file name, as the REST path asks.
      form.append(file.name, blob, file.name);
    }
    const label = 'POST /api/v1/uploads';
    const response = await this.send(label, `${this.baseUrl}/api/v1/uploads`, { method: 'POST', headers: this.authorization(false), body: form });
    const envelope = (await readJson(response, label)) as { data?: unknown; message?: string } | null;
    if (!response.ok) throw new ClaraError(codeOfStatus(response.status), envelope?.message ?? `HTTP ${response.status}`, { status: response.status, operation: label, data: envelope?.data });
    const uploads = envelope?.data as { id: string; file_name: string; size_bytes: number; category: string; mime_type: string }[];
    return uploads.map((u) => ({ id: u.id, fileName: u.file_name, sizeBytes: u.size_bytes, category: u.category, mimeType: u.mime_type }));
  }

  private async execute(operation: ClaraOperation<unknown, unknown>, variables: unknown): Promise<Record<string, unknown>> {
    const byId = { operationName: operation.name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } } };
    const asText = { operationName: operation.name, variables, query: operation.body };
    const fallback = this.options.textFallback ?? true;
    let answer = await this.post(operation, this.textOnly && fallback ? asText : byId);
    const code = answer.body.errors?.[0]?.extensions?.code;
    if (fallback && (code === 'PERSISTED_QUERY_NOT_FOUND' || code === 'PERSISTED_QUERY_NOT_SUPPORTED')) {
      // As Apollo's persisted-query link does: the text with its hash (an APQ server keeps it), or the text alone.
      if (code === 'PERSISTED_QUERY_NOT_SUPPORTED') this.textOnly = true;
      answer = await this.post(operation, code === 'PERSISTED_QUERY_NOT_FOUND' ? { ...byId, query: operation.body } : asText);
    }
    const [error] = answer.body.errors ?? [];
    if (error) {
      const extensions = error.extensions ?? {};
      throw new ClaraError(knownCode(extensions.code), error.message, { status: extensions.status ?? answer.status, operation: operation.name, data: extensions.data });
    }
    if (!answer.body.data) throw new ClaraError('INTERNAL', 'The answer held no data.', { status: answer.status, operation: operation.name });
    return answer.body.data;
  }

  private async post(operation: ClaraOperation<unknown, unknown>, body: object): Promise<{ status: number; body: GraphQLAnswer }> {
    const publicOnly = operation.rootField !== null && PUBLIC_KEY_FIELDS.has(operation.rootField);
    const response = await this.send(operation.name, `${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...this.authorization(publicOnly) },
      body: JSON.stringify(body),
    });
    const answer = (await readJson(response, operation.name)) as GraphQLAnswer | null;
    if (!answer || typeof answer !== 'object') throw new ClaraError(codeOfStatus(response.status), `HTTP ${response.status} without a GraphQL answer.`, { status: response.status, operation: operation.name });
    return { status: response.status, body: answer };
  }

  private async send(label: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetch(url, init);
    } catch (error) {
      throw new ClaraError('NETWORK_ERROR', `${label}: ${(error as Error).message}`, { operation: label });
    }
  }

  private authorization(publicKeyOnly: boolean): Record<string, string> {
    if (this.token && !publicKeyOnly) return { authorization: `Bearer ${this.token}` };
    return this.options.publicApiKey ? { authorization: this.options.publicApiKey } : {};
  }

  private afterMutation(operation: ClaraOperation<unknown, unknown>, payload: Record<string, unknown> | null): void {
    const userErrors = (payload?.userErrors ?? []) as ClaraUserError[];
    if (userErrors.length) {
      const [first] = userErrors;
      throw new ClaraError(first.code, first.message, { operation: operation.name, field: first.field, userErrors });
    }
    if (typeof payload?.token === 'string') this.setToken(payload.token);
    if (operation.rootField === 'logout' && payload?.done) this.setToken(null);
  }
}

async function readJson(response: Response, label: string): Promise<unknown> {
  const text = await response.text().catch((error: Error) => {
    throw new ClaraError('NETWORK_ERROR', `${label}: ${error.message}`, { status: response.status, operation: label });
  });
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** What graphql-ws hands to `error`: the server's refusal (GraphQL errors) or the close event that ended the socket. */
function socketError(error: unknown, operation: string): ClaraError {
  if (Array.isArray(error)) {
    const [first] = error as { message: string; extensions?: { code?: unknown } }[];
    return new ClaraError(knownCode(first?.extensions?.code), first?.message ?? 'The subscription was refused.', { operation });
  }
  const { code, reason } = (error ?? {}) as { code?: number; reason?: string };
  // graphql-ws close codes: 4401 no credentials, 4403 refused (or ended: logout, key reset), 4429 too many.
  const byClose: Record<number, ClaraError['code']> = { 4401: 'UNAUTHENTICATED', 4403: 'UNAUTHENTICATED', 4429: 'RATE_LIMITED' };
  return new ClaraError(code !== undefined ? (byClose[code] ?? 'NETWORK_ERROR') : 'NETWORK_ERROR', reason || 'The subscription connection closed.', { operation });
}
