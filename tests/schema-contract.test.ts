import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { buildExecutableSchema } from '../src/graphql/schema';

const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');
const baseline = () => buildSchema(readFileSync(join(SCHEMA_DIR, 'baseline.graphql'), 'utf8'));
/** Breaking changes made on purpose: `{ "message": <graphql-inspector's message>, "reason": <why> }`. */
const acknowledged = (): { message: string; reason: string }[] => JSON.parse(readFileSync(join(SCHEMA_DIR, 'acknowledged-breaking-changes.json'), 'utf8'));

async function breakingChanges(before: GraphQLSchema, after: GraphQLSchema): Promise<Change[]> {
  return (await diff(before, after)).filter((change) => change.criticality.level === CriticalityLevel.Breaking);
}

/*
 * The schema's contract with the apps that use it: the emitted SDL may grow, but a change that breaks a
 * client (a removed field, a type changed, an argument made required) fails here until it is acknowledged in
 * schema/acknowledged-breaking-changes.json, or the baseline is moved on with `npm run schema:baseline`.
 */
describe('GraphQL schema contract (graphql-inspector against schema/baseline.graphql)', () => {
  test('no unacknowledged breaking change against the baseline', async () => {
    const known = new Set(acknowledged().map((entry) => entry.message));
    const unacknowledged = (await breakingChanges(baseline(), await buildExecutableSchema())).filter((change) => !known.has(change.message));
    assert.deepEqual(unacknowledged.map((change) => change.message), [], 'breaking changes: acknowledge them with a reason or keep the old fields (e.g. @deprecated)');
  });

  test('the check sees a breaking change: a field removed, an argument made required', async () => {
    const before = buildSchema('type Query { viewer: User! } type User { id: ID! credits: Int! tasks(first: Int): [String!]! }');
    const after = buildSchema('type Query { viewer: User! } type User { id: ID! tasks(first: Int!): [String!]! }');
    const messages = (await breakingChanges(before, after)).map((change) => change.message);
    assert.equal(messages.length, 2, messages.join('\n'));
    assert.ok(messages.some((message) => message.includes("'credits'") && message.includes('removed')), messages.join('\n'));
    const additions = await breakingChanges(after, buildSchema('type Query { viewer: User! node(id: ID!): User } type User { id: ID! tasks(first: Int!): [String!]! }'));
    assert.deepEqual(additions, [], 'adding a field is not breaking');
  });
});
