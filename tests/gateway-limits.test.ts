import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getIntrospectionQuery } from 'graphql';
import { testDatabases } from './helpers/database';
import { TestApp } from './helpers/harness';

const aliases = (count: number, field: string) => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');
const codeOf = (result: { body: { errors?: { extensions?: any }[] } }) => result.body.errors?.[0]?.extensions?.code;

for (const db of testDatabases()) {
  describe(`GraphQL operation limits (${db})`, () => {
    // A long window: budgets only change by what the tests spend, never by the clock.
    const t = new TestApp(db, { RATE_LIMIT_POINTS: '100000', RATE_LIMIT_WINDOW_SECONDS: '3600' });
    let healthChecks = 0;
    let user: Awaited<ReturnType<TestApp['activeUser']>>;
    before(async () => {
      await t.start();
      const system = t.app.services.system;
      const health = system.health.bind(system);
      system.health = (em) => {
        healthChecks++;
        return health(em);
      };
      user = await t.activeUser();
    });
    after(() => t.stop());

    test('35,000 anonymous aliases of health (just under the 1 MB body limit): refused at parse, no health check (database query) ran', async () => {
      const query = `{ ${aliases(35_000, 'health { status }')} }`;
      assert.ok(query.length > 850_000 && query.length < t.config.bodyLimitBytes - 1024, 'the biggest document /graphql accepts');
      const before = healthChecks;
      const refused = await t.gql(query);
      assert.equal(refused.status, 400);
      assert.equal(codeOf(refused), 'TOO_MANY_TOKENS');
      assert.equal(refused.body.errors!.length, 1);
      assert.equal(refused.body.errors![0].message, 'The query is too long: at most 1000 tokens.');
      assert.equal(refused.body.data, undefined);
      assert.equal(healthChecks, before, 'no resolver ran');
      assert.match(refused.headers.get('ratelimit') ?? '', /^"cost";r=\d+;t=\d+$/, 'a refused document still costs a point');
      // The service answers others normally right after.
      assert.equal((await t.gql('{ health { status } }')).body.data.health.status, 'healthy');
      assert.equal(healthChecks, before + 1);
    });

    test('tokens: 1000 run, 1001 are refused', async () => {
      // Named operations of 5 tokens each (`query Qn { version }`), Main runs; one more field is one more token.
      const others = Array.from({ length: 199 }, (_, i) => `query Q${i} { version }`).join(' ');
      const withTokens = (n: number) => (n === 1000 ? `query Main { version } ${others}` : `query Main { version __typename } ${others}`);
      const gql = async (query: string) => {
        const response = await fetch(`${t.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, operationName: 'Main' }) });
        return { status: response.status, body: (await response.json()) as any };
      };
      const ok = await gql(withTokens(1000));
      assert.equal(ok.status, 200);
      assert.equal(typeof ok.body.data.version, 'string');
      const refused = await gql(withTokens(1001));
      assert.equal(refused.status, 400);
      assert.equal(codeOf(refused), 'TOO_MANY_TOKENS');
    });

    test('aliases: 15 run, 16 are refused, also through fragments; 500 aliased viewer never run', async () => {
      const ok = await t.gql(`{ viewer { ${aliases(15, 'id')} } }`, {}, user.token);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.data.viewer.a14, user.id);
      const refused = await t.gql(`{ viewer { ${aliases(16, 'id')} } }`, {}, user.token);
      assert.equal(refused.status, 400);
      assert.equal(codeOf(refused), 'TOO_MANY_ALIASES');
      assert.equal(refused.body.errors![0].message, 'Too many aliases: at most 15 per operation.');
      const viaFragment = await t.gql(`{ viewer { ...F ...G } } fragment F on User { ${aliases(8, 'id')} } fragment G on User { ${aliases(8, 'email').replace(/a(\d)/g, 'b$1')} }`, {}, user.token);
      assert.equal(codeOf(viaFragment), 'TOO_MANY_ALIASES');
      const attack = await t.gql(`{ ${aliases(500, 'viewer { id }')} }`, {}, user.token);
      assert.equal(attack.status, 400);
      assert.equal(codeOf(attack), 'TOO_MANY_TOKENS');
    });

    test('depth: 8 levels run, 9 are refused', async () => {
      const nested = (levels: number) => `{ __type(name: "User") { fields { type { ${'ofType { '.repeat(levels - 4)}name${' }'.repeat(levels - 4)} } } } }`;
      const ok = await t.gql(nested(8), {}, user.token);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.ok(ok.body.data.__type.fields.length > 0);
      const refused = await t.gql(nested(9), {}, user.token);
      assert.equal(refused.status, 400);
      assert.equal(codeOf(refused), 'QUERY_TOO_DEEP');
    });

    test('directives: 20 run, 21 are refused', async () => {
      // One @include and one @skip per field (neither may repeat on a field).
      const fields = ['id', 'email', 'firstName', 'lastName', 'credits', 'isActive', 'isDarkMode', 'is2faEnabled', 'createdAt', 'updatedAt', 'twoFactorMethod'];
      const withDirectives = (n: number) => `{ viewer { ${fields.map((field, i) => `${field} ${i * 2 < n ? '@include(if: true)' : ''} ${i * 2 + 1 < n ? '@skip(if: false)' : ''}`).join(' ')} } }`;
      assert.equal((await t.gql(withDirectives(20), {}, user.token)).body.data.viewer.id, user.id);
      const refused = await t.gql(withDirectives(21), {}, user.token);
      assert.equal(refused.status, 400);
      assert.equal(codeOf(refused), 'TOO_MANY_DIRECTIVES');
    });

    test('root fields: 10 run, 11 are refused', async () => {
      const ok = await t.gql(`{ version ${aliases(9, 'version')} }`);
      assert.equal(ok.status, 200);
      assert.equal(Object.keys(ok.body.data).length, 10);
      const refused = await t.gql(`{ version ${aliases(10, 'version')} }`);
      assert.equal(refused.status, 400);
      assert.equal(codeOf(refused), 'TOO_MANY_ROOT_FIELDS');
    });

    test('cost: pages cost their size times their children; 844 points run, 1055 are refused, page sizes from variables too', async () => {
      // viewer 2 (root 1, object 1); each transactions page: 1 (object) + 10 (database) + first × (edges 1 + node 1) = 211 for 100.
      const pages = (n: number) => `query ($n: Int) { viewer { ${aliases(n, 'transactions(first: $n) { edges { node { id } } }')} } rateLimit { cost } }`;
      const ok = await t.gql(pages(4), { n: 100 }, user.token);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.data.rateLimit.cost, 4 * 211 + 4);
      const small = await t.gql(pages(5), { n: 20 }, user.token);
      assert.equal(small.status, 200);
      assert.equal(small.body.data.rateLimit.cost, 5 * 51 + 4);
      const refused = await t.gql(pages(5), { n: 100 }, user.token);
      assert.equal(refused.status, 400);
      assert.equal(codeOf(refused), 'QUERY_TOO_COMPLEX');
      assert.equal(refused.body.errors![0].message, 'The query is too complex: it costs 1059 points, at most 1000 are allowed.');
      // The same text asks for a small page again: priced by its variables, not by the cached big one.
      assert.equal((await t.gql(pages(5), { n: 20 }, user.token)).body.data.rateLimit.cost, 5 * 51 + 4);
      const literal = await t.gql('{ viewer { transactions(first: 100000) { edges { node { id } } } } }', {}, user.token);
      assert.equal(codeOf(literal), 'QUERY_TOO_COMPLEX');
    });

    test('anonymous callers: only the open fields, within a small cost', async () => {
      const before = healthChecks;
      const me = await t.gql('{ health { status } viewer { id } }');
      assert.equal(me.status, 401);
      assert.equal(codeOf(me), 'UNAUTHENTICATED');
      const invalidHeader = await t.gql('{ viewer { id } }', {}, 'Bearer not-a-token');
      assert.equal(invalidHeader.status, 401, 'an invalid header is no way around it');
      assert.equal(healthChecks, before, 'refused before anything ran');
      // health costs 11: nine run (99), ten (110) are over the anonymous 100.
      const nine = await t.gql(`{ ${aliases(9, 'health { status }')} }`);
      assert.equal(nine.status, 200);
      assert.equal(nine.body.data.a8.status, 'healthy');
      const ten = await t.gql(`{ ${aliases(10, 'health { status }')} }`);
      assert.equal(ten.status, 400);
      assert.equal(codeOf(ten), 'QUERY_TOO_COMPLEX');
      assert.equal((await t.gql(`{ ${aliases(10, 'health { status }')} }`, {}, user.token)).status, 200, 'signed-in callers get more');
      // GraphiQL's schema query, sent before a token is filled in, fits.
      const explorer = await t.gql(getIntrospectionQuery(), {}, 'Bearer <your clara_user_ token>');
      assert.equal(explorer.status, 200);
      assert.ok(explorer.body.data.__schema.types.length > 10);
    });

    test('the cost is spent from the budget and shown in RateLimit headers and the rateLimit field', async () => {
      const caller = await t.activeUser();
      const first = await t.gql('{ rateLimit { cost remaining resetAt limit } viewer { id } }', {}, caller.token);
      assert.equal(first.status, 200);
      const rateLimit = first.body.data.rateLimit;
      // rateLimit 2 (root 1, object 1) + viewer 2.
      assert.equal(rateLimit.cost, 4);
      assert.equal(rateLimit.limit, 100000);
      assert.equal(first.headers.get('ratelimit-policy'), '"cost";q=100000;w=3600');
      const header = /^"cost";r=(\d+);t=(\d+)$/.exec(first.headers.get('ratelimit') ?? '');
      assert.ok(header, first.headers.get('ratelimit') ?? 'no RateLimit header');
      assert.equal(Number(header[1]), rateLimit.remaining);
      assert.ok(Number(header[2]) > 3500 && Number(header[2]) <= 3600);
      assert.ok(Math.abs(new Date(rateLimit.resetAt).getTime() - Date.now() - 3600_000) < 120_000);
      const page = await t.gql('{ viewer { transactions(first: 100) { edges { node { id } } } } }', {}, caller.token);
      assert.equal(page.status, 200);
      const after = await t.gql('{ rateLimit { cost remaining } }', {}, caller.token);
      assert.equal(after.body.data.rateLimit.cost, 2);
      assert.equal(after.body.data.rateLimit.remaining, rateLimit.remaining - 213 - 2);
      // REST spends the cost of its GraphQL document (the user query: 11) and says so in the same headers.
      const rest = await t.rest('GET', `/users/${caller.id}`, { auth: caller.token });
      assert.equal(rest.status, 200);
      assert.equal(rest.headers.get('ratelimit-policy'), '"cost";q=100000;w=3600');
      assert.match(rest.headers.get('ratelimit') ?? '', new RegExp(`^"cost";r=${after.body.data.rateLimit.remaining - 11};t=\\d+$`));
    });

    test('suggestions and introspection are on outside production', async () => {
      const typo = await t.gql('{ viewr { id } }', {}, user.token);
      assert.equal(typo.status, 400);
      assert.match(typo.body.errors![0].message, /Did you mean "viewer"/);
      assert.ok((await t.gql('{ __schema { queryType { name } } }')).body.data.__schema);
      assert.equal((await fetch(`${t.baseUrl}/graphiql`)).status, 200);
    });
  });
}

describe('production', () => {
  const t = new TestApp(testDatabases()[0], {
    NODE_ENV: 'production',
    STRIPE_SECRET_KEY: 'sk_test_unused',
    STRIPE_WEBHOOK_SECRET: 'whsec_unused',
    RATE_LIMIT_POINTS: '100000',
  });
  before(() => t.start());
  after(() => t.stop());

  test('introspection, "did you mean" and GraphiQL are off', async () => {
    const user = await t.activeUser();
    const introspection = await t.gql('{ __schema { types { name } } }', {}, user.token);
    assert.equal(introspection.status, 400);
    assert.equal(codeOf(introspection), 'INTROSPECTION_DISABLED');
    assert.equal(introspection.body.errors![0].message, 'Introspection is disabled.');
    assert.equal((await t.gql('{ __type(name: "User") { name } }', {}, user.token)).status, 400);
    const typo = await t.gql('{ viewr { id } }', {}, user.token);
    assert.equal(typo.status, 400);
    assert.equal(typo.body.errors![0].message, 'Cannot query field "viewr" on type "Query".');
    const enumTypo = await t.gql('query ($u: ID!) { transactions(userId: $u, type: CREDITT) { edges { cursor } } }', { u: user.id }, user.token);
    assert.doesNotMatch(enumTypo.body.errors![0].message, /Did you mean|CREDIT"/);
    assert.equal((await fetch(`${t.baseUrl}/graphiql`)).status, 404);
    assert.equal((await fetch(`${t.baseUrl}/graphiql/graphiql.js`)).status, 404);
    // What clients need still works.
    assert.equal((await t.gql('{ viewer { id } }', {}, user.token)).body.data.viewer.id, user.id);
  });
});
