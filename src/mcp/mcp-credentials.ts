import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../app/services';
import { DomainError, unauthenticated } from '../core/errors';
import { spendBudget } from '../graphql/budget';
import { createContext, type Context } from '../graphql/context';

const HOW_TO_AUTHENTICATE = 'MCP needs an API key: send Authorization: Bearer <api_key_token> and User-Id: <user_id>.';

/** The budget counts POSTs, so a POST must be one message (the MCP spec dropped JSON-RPC batches in 2025-06-18). */
export function refuseBatch(body: unknown): void {
  if (Array.isArray(body)) throw new DomainError('BAD_REQUEST', 'Send one JSON-RPC message per request; batches are not accepted.');
}

/** An MCP request's caller: always an API key, and the user id it acts for. */
export interface McpCredentials {
  context: Context;
  userId: string;
  apiKeyId: string;
}

/**
 * The credentials of an MCP request: its own `Authorization` and `User-Id` headers, or, when it sends no
 * Authorization header, the configured pair (MCP_API_KEY_TOKEN, MCP_USER_ID: a local single-user
 * deployment), and those only for a local request (see isLocalRequest). Each POST spends a point of the API key's
 * budget (over it: 429). Only checked here: that an API key and a user id were given; whether that user id is the
 * key's is the GraphQL ownership rules' job.
 */
export async function authenticateMcpRequest(services: Services, request: FastifyRequest, reply: FastifyReply): Promise<McpCredentials> {
  try {
    return await authenticate(services, request);
  } catch (error) {
    // RFC 6750's challenge, with no resource_metadata: Clara has no OAuth server for a client to discover (README: "MCP").
    if (error instanceof DomainError && error.code === 'UNAUTHENTICATED') reply.header('www-authenticate', `Bearer realm="clara-mcp", error="invalid_token", error_description="${HOW_TO_AUTHENTICATE}"`);
    throw error;
  }
}

async function authenticate(services: Services, request: FastifyRequest): Promise<McpCredentials> {
  const { mcpApiKeyToken, mcpUserId } = services.config;
  const fromHeaders = request.headers.authorization !== undefined || !mcpApiKeyToken;
  if (!fromHeaders && !isLocalRequest(request)) throw unauthenticated(`${HOW_TO_AUTHENTICATE} The configured default credentials serve only local requests.`);
  const authorization = fromHeaders ? request.headers.authorization : `Bearer ${mcpApiKeyToken}`;
  const userIdHeader = request.headers['user-id'];
  const userId = fromHeaders ? (typeof userIdHeader === 'string' ? userIdHeader.trim() : undefined) : mcpUserId;

  const context = await createContext(services, authorization, request.ip);
  if (context.caller.kind === 'rejected') throw unauthenticated(context.caller.reason);
  if (context.caller.kind !== 'apiKey' || !userId) throw unauthenticated(HOW_TO_AUTHENTICATE);
  // A point per POST (initialize, tools/list cost something too); a tool call spends its operation's cost.
  await spendBudget(context, 1);
  return { context, userId, apiKeyId: context.caller.apiKeyId };
}

/** Hostnames of this machine as a local client names it; the MCP SDK's localhostHostValidation allows the same. */
const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A request from a program on this machine, not from a web page or another host: the client address is
 * loopback, the Host header names loopback (a DNS-rebinding page's Host is its own domain), and an Origin,
 * when sent, is loopback too (a page elsewhere that reaches this port). The SDK's own checks (allowedHosts,
 * allowedOrigins) compare exact host:port strings and answer outside the envelope, hence these.
 */
export function isLocalRequest(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  return isLoopbackAddress(request.ip) && isLoopbackHostname(`http://${request.host}`) && (origin === undefined || isLoopbackHostname(origin));
}

function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(ip);
}

function isLoopbackHostname(url: string): boolean {
  try {
    return LOOPBACK_HOSTNAMES.has(new URL(url).hostname);
  } catch {
    return false; // not a URL (e.g. Origin: null from a sandboxed page)
  }
}
