import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { graphql } from 'graphql';
import { buildSchema, Query, Resolver } from 'type-graphql';
import { resolvers } from '../src/graphql/schema';
import { applyPermissions, ruleTree } from '../src/graphql/permissions';

@Resolver()
class UnlistedResolver {
  @Query(() => String)
  unlistedSecret(): string {
    return 'should never be returned';
  }
}

describe('permission rules', () => {
  test('every query and mutation has its own rule', async () => {
    const schema = await buildSchema({ resolvers: [...resolvers] });
    for (const root of ['Query', 'Mutation'] as const) {
      const fields = Object.keys(schema.getType(root) && (schema.getType(root) as any).getFields());
      const ruled = Object.keys((ruleTree as any)[root]).filter((name) => name !== '*');
      assert.deepEqual(fields.filter((f) => !ruled.includes(f)), [], `${root} fields without a rule`);
    }
  });

  test('deny by default: a field without a rule is refused, its resolver never runs', async () => {
    const schema = applyPermissions(await buildSchema({ resolvers: [...resolvers, UnlistedResolver] }));
    const log = { error: () => undefined };
    const result = await graphql({ schema, source: '{ unlistedSecret }', contextValue: { caller: { kind: 'admin' }, services: { log } } });
    assert.equal(result.data, null);
    assert.match(String(result.errors?.[0].message), /not allowed/);
    assert.equal((result.errors?.[0].originalError as any)?.code, 'FORBIDDEN');
  });
});
