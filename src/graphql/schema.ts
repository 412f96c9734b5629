import 'reflect-metadata';
import { join } from 'node:path';
import type { GraphQLInterfaceType, GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { AccountsResolver } from '../accounts/accounts.resolver';
import { AdminResolver } from '../admin/admin.resolver';
import { AgentResolver, TaskResolver, UserTasksResolver } from '../agent/agent.resolver';
import { ApiKeysResolver } from '../api-keys/api-keys.resolver';
import { CreditsResolver, TransactionResolver, UserCreditsResolver } from '../credits/credits.resolver';
import { SessionsResolver } from '../accounts/sessions.resolver';
import { SecurityLogResolver } from '../security-log/security-log.resolver';
import { SystemResolver } from '../system/system.resolver';
import { NodeResolver } from './node.resolver';
import { nodeTypeName } from './pagination';
import { applyPermissions } from './permissions';
import { RateLimitResolver } from './rate-limit.resolver';

export const resolvers = [
  AccountsResolver, SessionsResolver, SecurityLogResolver, NodeResolver, ApiKeysResolver, CreditsResolver, UserCreditsResolver, TransactionResolver, SystemResolver,
  AgentResolver, UserTasksResolver, TaskResolver, RateLimitResolver, AdminResolver,
] as const;

/** The checked-in SDL lives here; `npm run schema:emit` rewrites it and a test fails when it is stale. */
export const SCHEMA_FILE = join(__dirname, '..', '..', '..', 'schema', 'schema.graphql');

/**
 * type-graphql wants a PubSub once there are subscriptions, but ours have their own subscribe functions over
 * the change events the database announces (src/events): nothing is published from code.
 */
export const noPubSub: PubSub = {
  publish() {
    throw new Error('Nothing is published from code: change events come from database triggers (src/events).');
  },
  subscribe() {
    throw new Error('Every subscription has its own subscribe function (src/events/latest-state.ts).');
  },
};

/** The executable schema: type-graphql's schema with the permission rules applied (shared by GraphQL and REST). */
export async function buildExecutableSchema(options: { emitSchemaFile?: boolean } = {}): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    validate: { forbidUnknownValues: false },
    pubSub: noPubSub,
    emitSchemaFile: options.emitSchemaFile ? { path: SCHEMA_FILE, sortedSchema: true } : false,
  });
  // type-graphql wraps resolveType in an async function; graphql-jit (compiled-execution.ts) needs the name at once.
  (schema.getType('Node') as GraphQLInterfaceType).resolveType = nodeTypeName;
  return applyPermissions(schema);
}
