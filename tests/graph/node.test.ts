import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grantCredits, postAnalysis } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

const NODE = `query ($id: ID!) { node(id: $id) { __typename id
  ... on User { email } ... on Task { status } ... on Transaction { valueInCredits } ... on ApiKey { token } ... on SecurityEvent { kind } } }`;

for (const db of testDatabases()) {
  describe(`Node: any object by its global id, through the same rules (${db})`, () => {
    const t = new TestApp(db, { AGENT_WORKER_IN_PROCESS: 'false' });
    let owner: Awaited<ReturnType<TestApp['activeUser']>>;
    let stranger: Awaited<ReturnType<TestApp['activeUser']>>;
    const ids: Record<string, string> = {};
    before(async () => {
      await t.start();
      owner = await t.activeUser();
      stranger = await t.activeUser();
      await grantCredits(t, owner.id, 20);
      assert.equal((await t.login(owner.email, owner.password)).status, 200); // a SIGN_IN entry in the security log
      ids.Task = (await postAnalysis(t, owner, {}, { prompt: 'Check: the bridge opened in 1932.' })).body.data.id;
      const viewer = await t.gql('{ viewer { id apiKey { id } transactions(first: 1) { edges { node { id } } } securityLog(first: 1) { edges { node { id } } } } }', {}, owner.token);
      assert.equal(viewer.body.errors, undefined, JSON.stringify(viewer.body.errors));
      ids.User = viewer.body.data.viewer.id;
      ids.ApiKey = viewer.body.data.viewer.apiKey.id;
      ids.Transaction = viewer.body.data.viewer.transactions.edges[0].node.id;
      ids.SecurityEvent = viewer.body.data.viewer.securityLog.edges[0].node.id;
    });
    after(() => t.stop());

    test('each type comes back by its id, as its own type', async () => {
      for (const [type, id] of Object.entries(ids)) {
        const res = await t.gql(NODE, { id }, owner.token);
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        assert.equal(res.body.data.node.__typename, type);
        assert.equal(res.body.data.node.id, id);
      }
    });

    test("someone else's id is null, exactly like an unknown or malformed one", async () => {
      for (const id of [...Object.values(ids), `task_${'0'.repeat(32)}`, 'not-an-id']) {
        const res = await t.gql(NODE, { id }, stranger.token);
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        assert.equal(res.body.data.node, null, id);
      }
    });

    test('nodes answers in the order asked, null where not yours; an API key cannot read the key; at most 100 ids', async () => {
      const order = [ids.Transaction, `task_${'1'.repeat(32)}`, ids.Task, ids.User];
      const res = await t.gql('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: order }, owner.token);
      assert.deepEqual(res.body.data.nodes.map((node: { id: string } | null) => node?.id ?? null), [ids.Transaction, null, ids.Task, ids.User]);
      const key = `Bearer ${(await t.rest('GET', `/users/${owner.id}/api_key`, { auth: owner.token })).body.data.token}`;
      assert.equal((await t.gql(NODE, { id: ids.ApiKey }, key)).body.data.node, null, 'the key token is for user tokens only');
      assert.equal((await t.gql(NODE, { id: ids.Task }, key)).body.data.node.status, 'QUEUED', 'an API key reads its user\'s tasks');
      const tooMany = await t.gql('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array(101).fill(ids.User) }, owner.token);
      assert.equal(tooMany.body.errors?.[0].extensions.code, 'BAD_REQUEST');
    });

    test('without credentials, or before activation, node is refused', async () => {
      assert.equal((await t.gql(NODE, { id: ids.User })).body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
      const inactive = await t.register();
      assert.equal((await t.gql(NODE, { id: inactive.id }, inactive.token)).body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
    });
  });
}
