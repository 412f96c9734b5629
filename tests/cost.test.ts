import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'graphql';
import { analyzeOperation } from '../src/graphql/cost';
import { buildExecutableSchema } from '../src/graphql/schema';

describe('operation cost', () => {
  test('fragments spread into fragments are priced by what they expand to, without expanding them', async () => {
    const schema = await buildExecutableSchema();
    // Each level doubles the fields: 2^30 `ofType` lookups from a few hundred tokens.
    const levels = Array.from({ length: 30 }, (_, i) => `fragment L${i + 1} on __Type { a: ofType { ...L${i} } b: ofType { ...L${i} } }`).join(' ');
    const document = parse(`{ __type(name: "User") { ...L30 } } fragment L0 on __Type { name } ${levels}`);
    const { cost, rootFields } = analyzeOperation(schema, document, undefined);
    // __type: 1 (root) + 1 (object); level k: 2 × (1 + level k-1), level 0: 0 → 2^31 - 2.
    assert.equal(cost, 2 + 2 ** 31 - 2);
    assert.deepEqual([...rootFields], ['__type']);
  });

  test('page sizes multiply their children: literals, variables, defaults', async () => {
    const schema = await buildExecutableSchema();
    const document = parse('query ($n: Int) { viewer { transactions(first: $n) { edges { node { id } } pageInfo { hasNextPage } } tasks(first: 3) { edges { node { id inputs { fileName } } } } } }');
    // transactions: 11 + n × (edges 1 + node 1 + pageInfo 1); tasks: 11 + 3 × (tasks 1 + inputs 1).
    // viewer 2; each connection 1 + 10 (a database read) + its page size × its children.
    assert.equal(analyzeOperation(schema, document, undefined, { n: 100 }).cost, 2 + 11 + 300 + 11 + 9);
    assert.equal(analyzeOperation(schema, document, undefined, { n: 5 }).cost, 2 + 11 + 15 + 11 + 9);
    assert.equal(analyzeOperation(schema, document, undefined, {}).cost, 2 + 11 + 60 + 11 + 9, 'no size: the default page of 20');
    assert.equal(analyzeOperation(schema, parse('{ version }'), undefined).cost, 1, 'at least 1');
    // nodes: a database read (10) plus an object per id asked for, literal or variable.
    assert.equal(analyzeOperation(schema, parse('{ nodes(ids: ["a", "b", "c"]) { id } }'), undefined).cost, 11 + 3);
    const many = parse('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }');
    assert.equal(analyzeOperation(schema, many, undefined, { ids: Array(100).fill('x') }).cost, 11 + 100);
    assert.equal(analyzeOperation(schema, many, undefined, { ids: ['x'] }).cost, 11 + 1, 'priced by these variables, not the cached ones');
  });
});
