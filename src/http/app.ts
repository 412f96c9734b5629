import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { GraphQLError, type ValidationRule } from 'graphql';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { accountsRest } from '../accounts/accounts.rest';
import { adminRest } from '../admin/admin.rest';
import { sessionsRest } from '../accounts/sessions.rest';
import { agentRest } from '../agent/agent.rest';
import { startAnalysisWorker } from '../agent/analysis-worker';
import { registerTaskEvents, type TaskEventStreams } from '../agent/task-events';
import { registerUploadRoute } from '../agent/uploads.rest';
import { MAX_FILES } from '../agent/tasks.service';
import { apiKeysRest } from '../api-keys/api-keys.rest';
import { createServices, type Services } from '../app/services';
import type { Config } from '../core/config';
import { creditsRest } from '../credits/credits.rest';
import { stripeWebhookRoutes } from '../credits/credits.webhook';
import { DomainError } from '../core/errors';
import { asDomainError } from '../database/connection-errors';
import { compiledGateway } from '../graphql/compiled-execution';
import { createContext, type Context } from '../graphql/context';
import { formatGraphQLError, serviceUnavailableStatus } from '../graphql/errors';
import { operationLimits } from '../graphql/limits';
import { buildExecutableSchema } from '../graphql/schema';
import { trustedDocuments } from '../graphql/trusted-documents';
import { registerSubscriptions } from '../graphql/subscription-server';
import { accountsMcp } from '../accounts/accounts.mcp';
import { agentMcp } from '../agent/agent.mcp';
import { creditsMcp } from '../credits/credits.mcp';
import { MCP_PATH, registerMcpEndpoint } from '../mcp/mcp-endpoint';
import { MCP_SSE_MESSAGES_PATH } from '../mcp/mcp-sse';
import type { McpTool } from '../mcp/mcp-tool';
import { systemMcp } from '../system/system.mcp';
import { securityLogRest } from '../security-log/security-log.rest';
import { systemRest } from '../system/system.rest';
import { sendError } from './envelope';
import { registerGraphiQL } from './graphiql';
import { registerOpenApi } from './openapi';
import { registerRestOperations, type RestOperation } from './rest-operation';
import { registerSecurityHeaders } from './security-headers';
import { serverOptions } from './server-options';
import { registerProbes } from '../observability/lifecycle';
import { registerMetricsRoute, registerRequestMetrics } from '../observability/metrics';
import { currentObservation, registerRequestContext } from '../observability/request-context';
import { rawQuery } from '../database/shared-pool';
import type { ApolloServerPlugin } from '@apollo/server';
import type { EntityManager } from '@mikro-orm/postgresql';

export const REST_PREFIX = '/api/v1' as const;
/** The REST operations by their tag in the OpenAPI document. */
const restTags: Record<string, RestOperation[]> = {
  System: systemRest,
  Accounts: [...accountsRest, ...sessionsRest, ...securityLogRest],
  'API keys': apiKeysRest,
  Credits: creditsRest,
  Agent: agentRest,
  Admin: adminRest,
};
const restOperations = Object.values(restTags).flat();
const mcpTools: McpTool[] = [...systemMcp, ...accountsMcp, ...creditsMcp, ...agentMcp];

export interface App {
  http: FastifyInstance;
  services: Services;
  /** Ends every live connection (subscription sockets, SSE task streams); also runs when `http` closes. */
  closeLiveConnections(): Promise<void>;
}

/** Builds the HTTP service: GraphQL at /graphql, the REST shim at /api/v1, MCP at /mcp, GraphiQL at /graphiql. */
export async function buildApp(config: Config, orm: MikroORM, log: Logger): Promise<App> {
  const services = createServices(config, orm, log);
  await services.events.start();
  const http = Fastify({
    ...serverOptions(config, log), // proxies, timeouts, logged URLs
    bodyLimit: config.bodyLimitBytes,
    // Types are checked as sent: "yes" is not a boolean here. Unknown fields stay, so they can be refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  registerSecurityHeaders(http, { contentSecurityPolicy: false });
  // Before any route: the document is generated from the routes' schemas as they are added.
  await registerOpenApi(http, REST_PREFIX, services.system.version);
  registerRequestContext(http);
  // MCP messages (Streamable HTTP and the SSE transport's POSTs) are labelled by the tool they call.
  registerRequestMetrics(http, services.metrics, { restPrefix: REST_PREFIX, mcp: [MCP_PATH, MCP_SSE_MESSAGES_PATH] });
  registerProbes(http, { lifecycle: services.lifecycle, queueStarted: () => services.queue.isRunning, database: databaseReady(orm) });
  // /metrics on the main port only behind METRICS_TOKEN; with METRICS_PORT it has a listener of its own (main.ts).
  if (config.metricsToken && config.metricsPort === undefined) registerMetricsRoute(http, services.metrics, config.metricsToken);

  http.setErrorHandler((thrown: FastifyError | DomainError, request, reply) => {
    const known = asDomainError(thrown);
    if (known) return sendError(reply, known);
    const error = thrown as FastifyError;
    if (error.validation) return sendError(reply, new DomainError('BAD_REQUEST', describeValidation(error)));
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'BAD_REQUEST' : status === 429 ? 'RATE_LIMITED' : 'BAD_REQUEST';
      return sendError(reply, new DomainError(code, publicMessage(error)));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, new DomainError('INTERNAL', 'Internal server error.'));
  });

  http.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = restOperations.filter((op) => routePattern(REST_PREFIX + op.url).test(path)).map((op) => op.method);
    if (allowed.length) {
      reply.header('allow', [...new Set(allowed)].join(', '));
      return sendError(reply, new DomainError('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed here.`));
    }
    return sendError(reply, new DomainError('NOT_FOUND', 'The requested URL was not found.'));
  });


  const schema = await buildExecutableSchema();
  const limits = operationLimits(config.graphqlLimits);
  const trusted = trustedDocuments(config.trustedDocuments, schema, limits.server);
  const apollo = new ApolloServer<Context>({
    // The schema through a gateway: Apollo's hook for our executor (graphql-jit, see compiled-execution.ts).
    gateway: compiledGateway(schema),
    formatError: formatGraphQLError(log, { suggestions: config.graphqlLimits.suggestions }),
    includeStacktraceInErrorResponses: false,
    ...limits.server,
    ...trusted.server,
    // Cache-control hints are unused, and the plugin wraps every field resolver to compute them.
    plugins: [fastifyApolloDrainPlugin(http), ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), operationLabel(services), serviceUnavailableStatus(), ...limits.plugins],
  });
  await apollo.start();
  http.route({
    method: ['GET', 'POST', 'OPTIONS'],
    url: '/graphql',
    // GRAPHQL_TRUSTED_DOCUMENTS=only: documents outside the manifest are refused before anything else.
    ...(trusted.preHandler ? { preHandler: trusted.preHandler } : {}),
    handler: fastifyApolloHandler(apollo, {
      context: async (request) => {
        try {
          return await createContext(services, request.headers.authorization, request.ip, request.headers['user-agent']);
        } catch (error) {
          // Apollo answers a failed context with the DomainError's status.
          const known = asDomainError(error);
          if (known) throw new GraphQLError(known.message, { originalError: known, extensions: { code: known.code, http: { status: known.status } } });
          throw error;
        }
      },
    }),
  });
  if (config.graphqlLimits.graphiql) registerGraphiQL(http);
  const subscriptions = registerSubscriptions(http, schema, services, {
    parseOptions: limits.server.parseOptions ?? {},
    validationRules: limits.server.validationRules as ValidationRule[],
    formatError: formatGraphQLError(log, { suggestions: config.graphqlLimits.suggestions }),
    socketDocument: trusted.socketDocument,
  });
  let taskEvents: TaskEventStreams | undefined;

  await http.register(
    async (api) => {
      // Analysis uploads; parts beyond these limits are refused with a 400 by the analysis route.
      await api.register(multipart, { limits: { files: MAX_FILES, fileSize: config.agentMaxFileBytes, fields: 20, fieldSize: 100_000, parts: MAX_FILES + 20 } });
      for (const [tag, operations] of Object.entries(restTags)) registerRestOperations(api, schema, services, operations, tag);
      taskEvents = registerTaskEvents(api, schema, services);
      registerUploadRoute(api, schema, services);
    },
    { prefix: REST_PREFIX },
  );
  await http.register(stripeWebhookRoutes(services), { prefix: REST_PREFIX });

  // The queue's tables exist before the first request; the worker runs here unless it runs elsewhere.
  // On a shared PostgreSQL several instances may start at once: pg-boss's schema and queue are made in turn.
  await services.queue.start();
  const stopWorker = config.agentWorkerInProcess ? await startAnalysisWorker(services) : undefined;

  const mcpSessions = registerMcpEndpoint(http, schema, services, mcpTools);

  const closeLiveConnections = async () => {
    taskEvents?.close();
    mcpSessions.close();
    await subscriptions.close();
  };
  // Before the server waits for its connections to end: these would otherwise stay open.
  http.addHook('preClose', closeLiveConnections);
  http.addHook('onClose', async () => {
    stopWorker?.();
    await services.close();
  });
  return { http, services, closeLiveConnections };
}

/** Names the request's GraphQL operation for the metrics, once Apollo has resolved it. */
function operationLabel(services: Services): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName }) {
          const observation = currentObservation();
          if (observation) observation.operation = services.metrics.graphqlOperation(operationName);
        },
      };
    },
  };
}

/**
 * Readiness of the database: it answers within 2 s. (Migrations need no check: every process applies them
 * before it builds the app, so one that serves has none pending.)
 */
function databaseReady(orm: MikroORM): () => Promise<boolean> {
  return () => {
    const answered = rawQuery(orm.em as EntityManager, 'select 1').then(() => true, () => false);
    const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref());
    return Promise.race([answered, timeout]);
  };
}

function routePattern(url: string): RegExp {
  return new RegExp(`^${url.replace(/:[a-z_]+/g, '[^/]+')}/?$`);
}

function describeValidation(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return 'The request is not valid.';
  const where = (first.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'additionalProperties') return `The field '${String(params.additionalProperty)}' is not accepted here.`;
  if (first.keyword === 'required') return `The field '${String(params.missingProperty)}' is required.`;
  if (first.keyword === 'minProperties') return 'The request body is empty.';
  return where ? `The field '${where}' ${first.message}.` : `The request body ${first.message}.`;
}

function publicMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is not valid JSON.';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is too large.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported Content-Type; send application/json.';
    default:
      return error.message;
  }
}
