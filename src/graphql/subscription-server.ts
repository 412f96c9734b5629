import type { FastifyInstance } from 'fastify';
import { getOperationAST, GraphQLError, parse, specifiedRules, validate, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';
import { CloseCode, type Context as SocketContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Services } from '../app/services';
import { callerUser } from '../auth/caller';
import { DomainError } from '../core/errors';
import { StreamSlots } from '../http/stream-slots';
import type { SocketDocument } from './trusted-documents';
import { BudgetExceeded } from '../auth/rate-limits';
import { admitOperation, spendBudget } from './budget';
import { createContext } from './context';
import { domainErrorIn } from './errors';
import { tokenLimitError } from './limits';

export const SUBSCRIPTIONS_PATH = '/graphql';
/** A subscribe message is a document and its variables: far below this. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Not one of graphql-ws's codes: the 4xxx twin of HTTP 429, as 4401 and 4403 are of 401 and 403. */
export const TOO_MANY_REQUESTS = 4429;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long closing waits for clients to answer the close before their sockets are cut. */
const CLOSE_GRACE_MS = 1_000;

export interface SubscriptionServer {
  /** Closes every socket (1001 Going away) and stops accepting new ones. */
  close(): Promise<void>;
}

interface Connection {
  authorization: string;
  ip: string;
  userAgent?: string;
  /** Slots of this socket's open subscriptions, by operation id. */
  slots: Map<string, () => void>;
  stopWatching: () => void;
}

/**
 * GraphQL subscriptions over WebSocket (graphql-ws's `graphql-transport-ws` protocol) on the same path as
 * HTTP GraphQL. The connection_init payload carries the credential (`{"authorization": "Bearer …"}`, as the
 * HTTP header); no credential closes the socket with 4401, one that is not a user token or API key with 4403,
 * and so does one that ends later (logout, key reset): `caller` events re-check it. Every subscribe runs the
 * HTTP path's checks: token and validation limits, cost, the caller's rate budget, then the permission rules
 * (they guard the subscribe step itself, src/graphql/permissions.ts), and a cap on open subscriptions.
 */
export function registerSubscriptions(
  http: FastifyInstance,
  schema: GraphQLSchema,
  services: Services,
  options: { parseOptions: ParseOptions; validationRules: readonly ValidationRule[]; formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError; socketDocument: SocketDocument },
): SubscriptionServer {
  const { config, log } = services;
  const slots = new StreamSlots(
    { perOwner: config.subscriptionsMaxPerUser, total: config.subscriptionsMax },
    { perOwner: (open) => `You already have ${open} subscriptions open; complete one first.`, total: 'Too many subscriptions are open right now; retry shortly.' },
    { closing: services.lifecycle.signal },
  );
  const rules = [...specifiedRules, ...options.validationRules];
  const connections = new WeakMap<SocketContext, Connection>();
  const format = (errors: readonly GraphQLError[]) => errors.map((error) => options.formatError(error.toJSON(), error));
  const refusal = (error: DomainError) => [new GraphQLError(error.message, { originalError: error })];

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  http.server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== SUBSCRIPTIONS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  });

  const server = useServer<Record<string, unknown> | undefined>(
    {
      async onConnect(ctx) {
        const { socket, request } = ctx.extra;
        const authorization = ctx.connectionParams?.authorization;
        if (typeof authorization !== 'string' || !authorization.trim()) {
          socket.close(CloseCode.Unauthorized, 'Unauthorized: send {"authorization": "Bearer <token>"} in connection_init');
          return false;
        }
        const ip = request.socket.remoteAddress ?? '';
        const context = await createContext(services, authorization, ip, request.headers['user-agent']);
        const user = callerUser(context.caller);
        if (!user || socket.readyState !== socket.OPEN) return false;
        // Opening a socket costs a point, so sockets cannot be opened faster than requests can be sent.
        try {
          await spendBudget(context, 1);
        } catch (error) {
          if (!(error instanceof BudgetExceeded)) throw error;
          socket.close(TOO_MANY_REQUESTS, 'Too many requests: the rate limit is spent; retry later');
          return false;
        }
        const recheck = coalesced(async () => {
          const caller = await services.callers.resolve(services.orm.em.fork(), authorization);
          if (!callerUser(caller)) socket.close(CloseCode.Forbidden, 'Forbidden: the session or API key is no longer valid');
        }, (error) => log.warn({ err: error }, 'subscriptions: re-checking a socket’s credentials failed'));
        const stopCaller = services.events.on('caller', recheck, user.id);
        const stopResync = services.events.on('resync', recheck);
        // A user token also ends at its expiry, which no event announces: closed then, without asking the database.
        const expiry = expiryTimer(services.tokens.expiresAtMs(authorization.trim().split(/\s+/).slice(1).join(' ')), () =>
          socket.close(CloseCode.Forbidden, 'Forbidden: the token expired'),
        );
        const connection: Connection = {
          authorization,
          ip,
          userAgent: request.headers['user-agent'],
          slots: new Map(),
          stopWatching: () => {
            stopCaller();
            stopResync();
            expiry.stop();
          },
        };
        if (socket.readyState !== socket.OPEN) {
          connection.stopWatching(); // it closed while the credential was read
          return false;
        }
        connections.set(ctx, connection);
        return true;
      },

      async onSubscribe(ctx, id, payload) {
        const connection = connections.get(ctx);
        if (!connection) return refusal(new DomainError('UNAUTHENTICATED', 'The connection is not authenticated.'));
        try {
          const text = options.socketDocument(payload); // trusted documents: refused before parsing
          let document: DocumentNode;
          try {
            document = parse(text, options.parseOptions);
          } catch (error) {
            // Worded and coded as over HTTP (Apollo): the token limit has its own code, other syntax errors this one.
            const limit = tokenLimitError(error);
            return limit ? refusal(limit) : [withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
          }
          const problems = validate(schema, document, rules);
          if (problems.length) return problems.map((problem) => (domainErrorIn(problem) ? problem : withCode(problem, 'GRAPHQL_VALIDATION_FAILED')));
          const operation = getOperationAST(document, payload.operationName);
          if (!operation) return refusal(new DomainError('BAD_REQUEST', 'The operation to run is unclear: name it with operationName.'));
          if (operation.operation !== 'subscription') {
            return refusal(new DomainError('BAD_REQUEST', 'This socket carries subscriptions; send queries and mutations to POST /graphql.'));
          }
          const context = await createContext(services, connection.authorization, connection.ip, connection.userAgent);
          await admitOperation(context, config.graphqlLimits, schema, document, payload.operationName, payload.variables ?? undefined);
          const user = callerUser(context.caller);
          if (!user) return refusal(new DomainError('UNAUTHENTICATED', 'The session or API key is no longer valid.'));
          connection.slots.set(id, slots.take(user.id));
          return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: context };
        } catch (error) {
          if (error instanceof DomainError) return refusal(error);
          throw error;
        }
      },

      onNext(_ctx, _id, _payload, _args, result: ExecutionResult) {
        return result.errors?.length ? { ...result, errors: format(result.errors) } : undefined;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onComplete(ctx, id) {
        const connection = connections.get(ctx);
        connection?.slots.get(id)?.();
        connection?.slots.delete(id);
      },
      // Internal errors close a socket with a generic reason, never the error's message.
      isProd: true,
      onClose(ctx) {
        const connection = connections.get(ctx);
        if (!connection) return;
        connection.stopWatching();
        for (const release of connection.slots.values()) release();
        connections.delete(ctx);
      },
    },
    sockets,
  );

  return {
    async close() {
      const open = [...sockets.clients];
      await server.dispose();
      // Clients normally answer the close at once; a socket that does not is cut, so shutdown never waits on it.
      const deadline = Date.now() + CLOSE_GRACE_MS;
      while (open.some((ws) => ws.readyState !== ws.CLOSED) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const ws of open) if (ws.readyState !== ws.CLOSED) ws.terminate();
    },
  };
}

/**
 * Calls `expired` once the wall clock has reached the expiry. Timers run on another clock than Date.now and
 * may fire a little early (and are capped at ~24 days): until the time has come, it waits again.
 */
function expiryTimer(expiresAtMs: number | null, expired: () => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (expiresAtMs === null || !Number.isFinite(expiresAtMs)) return;
    const wait = expiresAtMs - Date.now();
    if (wait <= 0) return expired();
    timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return { stop: () => clearTimeout(timer) };
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code } });
}

/** Runs `task` now, or once more after the run in progress when called meanwhile: calls never pile up. */
function coalesced(task: () => Promise<void>, onError: (error: unknown) => void): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    running = true;
    do {
      again = false;
      await task().catch(onError);
    } while (again);
    running = false;
  };
  return () => {
    if (running) again = true;
    else void run();
  };
}
