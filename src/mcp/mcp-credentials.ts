import type { FastifyRequest } from 'fastify';
import type { Services } from '../app/services';
import { unauthenticated } from '../core/errors';
import { spendBudget } from '../graphql/budget';
import { createContext, type Context } from '../graphql/context';

const HOW_TO_AUTHENTICATE = 'MCP needs an API key: send Authorization: Bearer <api_key_token> and User-Id: <user_id>.';

/**
 * The credentials of an MCP request: its own `Authorization` and `User-Id` headers, or, when it sends no
 * Authorization header, the configured pair (MCP_API_KEY_TOKEN, MCP_USER_ID: a local single-user
 * deployment). Each POST spends a point of the API key's budget (over it: 429). Only checked here: that an
 * API key and a user id were given; whether that user id is the key's is the GraphQL ownership rules' job.
 */
export async function authenticateMcpRequest(services: Services, request: FastifyRequest): Promise<{ context: Context; userId: string }> {
  const { mcpApiKeyToken, mcpUserId } = services.config;
  const fromHeaders = request.headers.authorization !== undefined || !mcpApiKeyToken;
  const authorization = fromHeaders ? request.headers.authorization : `Bearer ${mcpApiKeyToken}`;
  const userIdHeader = request.headers['user-id'];
  const userId = fromHeaders ? (typeof userIdHeader === 'string' ? userIdHeader.trim() : undefined) : mcpUserId;

  const context = await createContext(services, authorization, request.ip);
  if (context.caller.kind === 'rejected') throw unauthenticated(context.caller.reason);
  if (context.caller.kind !== 'apiKey' || !userId) throw unauthenticated(HOW_TO_AUTHENTICATE);
  // A point per POST (initialize, tools/list cost something too); a tool call spends its operation's cost.
  await spendBudget(context, 1);
  return { context, userId };
}
