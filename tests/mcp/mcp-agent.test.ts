import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { grantCredits } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';
import { mcpHeaders } from '../helpers/mcp';
import { until } from '../helpers/until';

const db = testDatabases()[0];

describe(`MCP tools for credits and the agent (${db})`, () => {
  const t = new TestApp(db);
  let client: Client;
  let userId: string;
  before(async () => {
    await t.start();
    const user = await t.activeUser();
    userId = user.id;
    await grantCredits(t, user.id, 50);
    client = new Client({ name: 'clara-tests', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${t.baseUrl}/mcp`), { requestInit: { headers: await mcpHeaders(t, user) } }));
  });
  after(async () => {
    await client?.close();
    await t.stop();
  });

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    return result.structuredContent as any;
  };

  test('the tools mirror the user-level API', async () => {
    const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
    for (const name of ['agent_analysis', 'agent_supported_attachments', 'stripe_buy', 'stripe_rate', 'tasks_list', 'tasks_view', 'transactions_list', 'transactions_view', 'user_view']) {
      assert.ok(names.includes(name), name);
    }
  });

  test('agent.analysis through MCP: charged, completed, visible in tasks and transactions', async () => {
    assert.ok((await call('agent_supported_attachments')).image.includes('.png'));
    const started = await call('agent_analysis', { prompt: 'Check: the bridge opened in 1932 and cost 10 million dollars.', files: [{ name: 'note.txt', contentBase64: Buffer.from('Opened 1932.').toString('base64') }] });
    assert.equal(started.cost, 20);
    const task = await until(async () => {
      const seen = await call('tasks_view', { id: started.id });
      return seen.status === 'COMPLETED' || seen.status === 'FAILED' ? seen : null;
    }, 'the analysis ends', { timeoutMs: 20_000, intervalMs: 200 });
    assert.equal(task.status, 'COMPLETED');
    assert.match(JSON.stringify(task.report.claims), /1932/);
    assert.equal(task.report.kind, 'LOCAL_REPORT');
    const page = await call('tasks_list', { limit: 5 });
    assert.equal(page.tasks[0].id, started.id);
    const ledger = await call('transactions_list', { type: 'DEBIT' });
    assert.equal(ledger.transactions.length, 1);
    assert.deepEqual(ledger.transactions[0].task, { id: started.id, status: 'COMPLETED' });
    assert.deepEqual(ledger.transactions[0].valueInFiat, { amount: '0.20', currencyCode: 'USD' });
    assert.equal((await call('transactions_view', { id: ledger.transactions[0].id })).valueInCredits, 20);
    assert.equal((await call('user_view')).credits, 30);
    assert.ok(userId);
  });

  test('refusals come back as tool errors with the domain code', async () => {
    const result = await client.callTool({ name: 'agent_analysis', arguments: { prompt: 'x', files: [{ name: 'a.jpg', contentBase64: Buffer.from('not an image').toString('base64') }] } });
    assert.equal(result.isError, true);
    assert.match(JSON.stringify(result.content), /BAD_REQUEST/);
    assert.equal((await call('user_view')).credits, 30, 'nothing charged');
  });
});
