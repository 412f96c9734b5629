import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { graphql, parse, subscribe } from 'graphql';
import { buildSchema, Query, Resolver, Root, Subscription } from 'type-graphql';
import { noPubSub, resolvers } from '../src/graphql/schema';
import { applyPermissions, ruleTree } from '../src/graphql/permissions';

@Resolver()
class UnlistedResolver {
  @Query(() => String)
  unlistedSecret(): string {
    return 'should never be returned';
  }
}

let unlistedSubscribeRan = false;

@Resolver()
class UnlistedSubscriptionResolver {
  @Subscription(() => String, {
    subscribe: () => {
      unlistedSubscribeRan = true;
      return (async function* () {
        yield 'should never be sent';
      })();
    },
  })
  unlistedFeed(@Root() value: string): string {
    return value;
  }
}

describe('permission rules', () => {
  test('every query, mutation and subscription has its own rule', async () => {
    const schema = await buildSchema({ resolvers: [...resolvers], pubSub: noPubSub });
    for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
      const fields = Object.keys(schema.getType(root) && (schema.getType(root) as any).getFields());
      const ruled = Object.keys((ruleTree as any)[root]).filter((name) => name !== '*');
      assert.deepEqual(fields.filter((f) => !ruled.includes(f)), [], `${root} fields without a rule`);
    }
  });

  test('deny by default: a field without a rule is refused, its resolver never runs', async () => {
    const schema = applyPermissions(await buildSchema({ resolvers: [...resolvers, UnlistedResolver], pubSub: noPubSub }));
    const log = { error: () => undefined };
    const result = await graphql({ schema, source: '{ unlistedSecret }', contextValue: { caller: { kind: 'admin' }, services: { log } } });
    assert.equal(result.data, null);
    assert.match(String(result.errors?.[0].message), /not allowed/);
    assert.equal((result.errors?.[0].originalError as any)?.code, 'FORBIDDEN');
  });

  test('deny by default for subscriptions: refused when subscribing, its subscribe function never runs', async () => {
    const schema = applyPermissions(await buildSchema({ resolvers: [...resolvers, UnlistedSubscriptionResolver], pubSub: noPubSub }));
    const log = { error: () => undefined };
    const result = await subscribe({ schema, document: parse('subscription { unlistedFeed }'), contextValue: { caller: { kind: 'admin' }, services: { log } } });
    assert.ok(!(Symbol.asyncIterator in result), 'no event stream');
    assert.equal((result as { errors?: { originalError?: { code?: string } }[] }).errors?.[0].originalError?.code, 'FORBIDDEN');
    assert.equal(unlistedSubscribeRan, false);
  });
});
