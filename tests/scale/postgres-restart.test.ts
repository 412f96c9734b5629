import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { postAnalysis } from '../helpers/agent';
import { ADMIN_KEY } from '../helpers/harness';
import { canRunPrivatePostgres, PrivatePostgres } from '../helpers/private-postgres';
import { ApiProcess, deploymentEnv } from '../helpers/service-process';
import { until } from '../helpers/until';

interface Outcome { kind: 'adjust' | 'read' | 'analysis'; status: number; ms: number; retryAfter: string | null; body: any; reason?: string }

const ADJUST = 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { transaction { id } userErrors { code message } } }';

/**
 * The database restarted (fast shutdown: open sessions end with 57P01, new ones are refused, then it comes back)
 * under a steady load of reads, credit adjustments (GraphQL) and analyses (REST) on an API process with its worker.
 */
describe('PostgreSQL restarted under load', { skip: !canRunPrivatePostgres && 'needs PostgreSQL 15 binaries (PG_BIN)' }, () => {
  const pg = new PrivatePostgres();
  let api: ApiProcess;
  let sql: (text: string, values?: unknown[]) => Promise<any[]>;

  before(async () => {
    await pg.init();
    const admin = new Client({ connectionString: pg.url() });
    await admin.connect();
    await admin.query('create database clara');
    await admin.end();
    api = await new ApiProcess(deploymentEnv(pg.url('clara'), {
      DATABASE_ACQUIRE_TIMEOUT_MS: '1000',
      AGENT_JOB_EXPIRE_SECONDS: '5',
      AGENT_QUEUE_MAINTENANCE_SECONDS: '1',
      AGENT_RETRY_DELAY_SECONDS: '0',
      AGENT_STRANDED_AFTER_SECONDS: '2',
    })).start();
    sql = async (text, values) => {
      const client = new Client({ connectionString: pg.url('clara') });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    };
  });
  after(async () => {
    await api?.stop();
    await pg.destroy();
  });

  test('requests in the outage get 503 with Retry-After, the service recovers on its own, no ledger row or job lost or doubled', async () => {
    const user = await api.activeUser();
    const granted = await api.gql(ADJUST, { input: { userId: user.id, amount: 5000, reason: 'starting balance' } }, ADMIN_KEY);
    assert.equal(granted.status, 200);
    const outcomes: Outcome[] = [];
    let running = true;
    let sequence = 0;
    const timed = async (kind: Outcome['kind'], call: () => Promise<{ status: number; headers?: Headers; body: any }>, reason?: string) => {
      const started = Date.now();
      const response = await call();
      outcomes.push({ kind, status: response.status, ms: Date.now() - started, retryAfter: response.headers?.get('retry-after') ?? null, body: response.body, reason });
    };
    const client = async (lane: number) => {
      while (running) {
        const step = sequence++;
        if (lane === 0) {
          await timed('analysis', async () => {
            const res = await fetch(`${api.baseUrl}/api/v1/users/${user.id}/agent/analysis`, { method: 'POST', headers: { authorization: user.token }, body: (() => { const form = new FormData(); form.append('prompt', `Check claim ${step}: 2 + 2 = 5.`); return form; })() });
            return { status: res.status, headers: res.headers, body: await res.json() };
          });
        } else if (step % 2) {
          const reason = `load ${step}`;
          await timed('adjust', () => api.gql(ADJUST, { input: { userId: user.id, amount: 1, reason } }, ADMIN_KEY), reason);
        } else {
          await timed('read', () => api.rest('GET', `/users/${user.id}`, { auth: user.token }));
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(client));
    const unavailable = () => outcomes.filter((o) => o.status === 503).length;

    await until(() => outcomes.filter((o) => o.status < 300).length >= 10, 'load before the restart', { timeoutMs: 30_000 });
    await pg.stop();
    await until(() => unavailable() >= 6, 'requests answered during the outage', { timeoutMs: 30_000 });
    await pg.start();
    const restartedAt = outcomes.length;
    await until(() => outcomes.slice(restartedAt).filter((o) => o.status < 300 && o.kind === 'adjust').length >= 5 && outcomes.slice(restartedAt).some((o) => o.kind === 'analysis' && o.status === 201), 'recovery without a restart', { timeoutMs: 30_000 });
    running = false;
    await load;

    // Every answer is a success or the documented 503: never a 500, never a hang.
    const unexpected = outcomes.filter((o) => ![200, 201, 503].includes(o.status));
    assert.deepEqual(unexpected, [], JSON.stringify(api.process.logs.filter((line) => Number(line.level) >= 50).slice(0, 3)));
    assert.ok(outcomes.every((o) => o.ms < 10_000), `slowest answer ${Math.max(...outcomes.map((o) => o.ms))} ms`);
    for (const o of outcomes.filter((o) => o.status === 503)) {
      assert.ok(Number(o.retryAfter) > 0, `Retry-After on ${o.kind}`);
      const text = JSON.stringify(o.body);
      assert.doesNotMatch(text, /ECONN|57P0|terminat|knex|at .*\.js/i, text);
      if (o.kind === 'adjust') assert.equal(o.body.errors[0].extensions.code, 'SERVICE_UNAVAILABLE');
      else assert.deepEqual({ status: o.body.status, code: typeof o.body.message, data: o.body.data }, { status: 'error', code: 'string', data: { retry_after_seconds: Number(o.retryAfter) } });
    }
    assert.ok(outcomes.some((o) => o.status === 503 && o.kind === 'adjust'), 'GraphQL saw the outage too');

    // The ledger: every acknowledged adjustment once, none twice, and the balance is the sum of its rows.
    const rows = await sql(`select description, type, value_in_credits, kind, reference from transactions where user_id = $1`, [user.id]);
    for (const o of outcomes.filter((o) => o.kind === 'adjust')) {
      const matching = rows.filter((row) => row.description.endsWith(`: ${o.reason}`)).length;
      if (o.status === 200) assert.equal(matching, 1, `${o.reason} acknowledged: one row`);
      else assert.ok(matching <= 1, `${o.reason}: at most one row`);
    }
    const [{ credits }] = await sql('select credits from users where id = $1', [user.id]);
    const sum = rows.reduce((total, row) => total + (row.type === 'CREDIT' ? row.value_in_credits : -row.value_in_credits), 0);
    assert.equal(credits, sum);

    // Jobs: every task the database holds (acknowledged or not) ends completed or failed-and-refunded, charged once.
    const accepted = outcomes.filter((o) => o.kind === 'analysis' && o.status === 201).map((o) => o.body.data.id as string);
    await until(async () => (await sql(`select count(*)::int as n from tasks where user_id = $1 and status not in ('completed', 'failed')`, [user.id]))[0].n === 0, 'every task to finish', { timeoutMs: 60_000, intervalMs: 100 });
    const tasks = await sql('select id, status from tasks where user_id = $1', [user.id]);
    for (const id of accepted) assert.ok(tasks.some((task) => task.id === id), `accepted task ${id} exists`);
    for (const task of tasks) {
      const charges = rows.filter((row) => row.kind === 'analysis' && row.reference === task.id).length;
      const refunds = rows.filter((row) => row.kind === 'refund' && row.reference === task.id).length;
      assert.equal(charges, 1, `${task.id} charged once`);
      assert.equal(refunds, task.status === 'failed' ? 1 : 0, `${task.id} ${task.status}: refunds`);
    }
  });
});
