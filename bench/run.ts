import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { DashboardDocument, ViewerDocument, type ClaraOperation } from '../sdk/src';
import { loadConfig } from '../src/core/config';
import pino from 'pino';
import { Metrics } from '../src/observability/metrics';
import { createAnalysisQueue } from '../src/agent/analysis-queue';
import { insertBacklog, openTasks } from '../tests/helpers/backlog';
import { FakeModel } from '../tests/helpers/fake-model';
import { Mailbox } from '../tests/helpers/mailbox';

/*
 * `npm run bench`: starts the service on the chosen database (embedded by default, DATABASE_URL for a real
 * PostgreSQL), seeds realistic data, and drives it with autocannon from this process (the service runs in
 * its own), next to a raw baseline (Fastify + pg, one primary-key lookup) measured in the same run.
 */

const ROOT = join(__dirname, '..', '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
/** Slices of each scenario, each after a slice of the raw baseline (see measure). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
/** The raw baseline listens here, the services and peers on the next five ports (another run may hold 4100-4105). */
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? 4100);
const SEED_USERS = Number(process.env.BENCH_USERS ?? 2000);
const SEED_TRANSACTIONS = Number(process.env.BENCH_TRANSACTIONS ?? 100_000);
/** The user the scenarios act as has this many of the seeded transactions; the deep pages start halfway. */
const OWN_TRANSACTIONS = 20_000;
const DEEP_OFFSET = OWN_TRANSACTIONS / 2;
/** PGlite is one session: one connection per client process (see EMBEDDED_POOL_SIZE). */
const POOL = process.env.DATABASE_URL ? '10' : '1';
const PUBLIC_KEY = `bench_public_${randomBytes(12).toString('hex')}`;
/** Production settings pass the production checks: random secrets (shared by the instances), a real SMTP server. */
const JWT_SECRET = randomBytes(32).toString('base64url');
const ENCRYPTION_KEY = randomBytes(32).toString('base64url');
const mailSink = new Mailbox();
const children: ChildProcess[] = [];
/** The screen an app opens with (README, "GraphQL: the graph"), one request. */
const DASHBOARD = `{ viewer { id firstName credits
  transactions(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id type kind valueInCredits valueInFiat { amount currencyCode } createdAt task { id status } } } }
  tasks(first: 10) { edges { node { id status cost createdAt charge { id valueInCredits } refund { id } report { kind summary findings { kind severity message } } } } } } }`;

interface Scenario {
  name: string;
  target: 'raw' | 'service' | 'service-no-limiter' | 'service-redis-limiter' | 'yoga' | 'mercurius';
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The scenario whose figures this one is compared with, besides the raw baseline. */
  compareWith?: string;
}

interface Measured { name: string; rps: number; rawRpsPaired: number; cpuMicrosPerRequest: number | null; cpuRatioToRaw: number | null; p50: number; p99: number; non2xx: number; errors: number; ratioToRaw: number; ratioToPeer?: number; peer?: string; rssMiB: number | null }

/** Process id of each target, for its memory (RSS) after each scenario. */
const pids: Record<string, number | undefined> = {};

/** CPU time (user + system) a process has used, in microseconds, from /proc (Linux); null elsewhere. */
function cpuMicros(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime (fields 14 and 15 of stat) in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/** Resident memory of a process, from /proc (Linux); null elsewhere. */
function rssMiB(pid: number | undefined): number | null {
  try {
    const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kib) ? Math.round(kib / 1024) : null;
  } catch {
    return null;
  }
}

function start(script: string, env: Record<string, string>, readyLine?: RegExp, args: string[] = []): Promise<{ child: ChildProcess; line: string }> {
  // BENCH_PROFILE_DIR: the service and the queue's worker write a V8 CPU profile there when they stop (open it in Chrome DevTools).
  const profile = (script === 'src/main.js' || script === 'src/worker.js') && process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, join(ROOT, 'dist', script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    if (!readyLine) return resolve({ child, line: '' });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (readyLine.test(line)) resolve({ child, line });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function startService(target: string, port: number, databaseUrl: string, extra: Record<string, string> = {}): Promise<string> {
  const { child } = await start('src/main.js', {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    JWT_SECRET,
    ENCRYPTION_KEY,
    PUBLIC_API_KEY: PUBLIC_KEY,
    SMTP_URL: `smtp://127.0.0.1:${mailSink.port}`,
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: POOL,
    STRIPE_SECRET_KEY: 'sk_test_bench_no_calls_are_made',
    STRIPE_WEBHOOK_SECRET: 'whsec_bench',
    AGENT_WORKER_IN_PROCESS: 'false',
    // Raised so the limiter does not cap the figures; its own cost is a scenario of its own.
    RATE_LIMIT_PER_SECOND: '100000000',
    AUTH_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: '100000000',
    AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
    ...extra,
  });
  pids[target] = child.pid;
  const base = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 120_000; waited += 250) {
    if (await fetch(`${base}/api/v1/health`).then((r) => r.ok, () => false)) return base;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the service on port ${port} did not become healthy`);
}

async function json(url: string, init: RequestInit): Promise<any> {
  const response = await fetch(url, init);
  const body = await response.json();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Users with API keys and credits, plus the one the scenarios act as (registered through the API). */
async function seed(databaseUrl: string, service: string): Promise<{ userId: string; userToken: string; apiKeyToken: string; email: string; password: string; deepCursor: string }> {
  const email = 'bench@example.com';
  const password = 'bench-password-123';
  const registered = await json(`${service}/api/v1/auth/register`, {
    method: 'POST',
    headers: { authorization: PUBLIC_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ first_name: 'Bench', last_name: 'Mark', email, password }),
  });
  const userId: string = registered.data.id;
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(`update users set is_active = true, credits = 1000000 where id = $1`, [userId]);
  await db.query(
    `insert into users (id, email, first_name, last_name, credits, is_active, is_dark_mode, created_at, updated_at)
     select 'user_' || md5('u' || g), 'seed' || g || '@example.com', 'Seed', 'User ' || g, (g * 37) % 5000, true, g % 2 = 0, now() - (g || ' minutes')::interval, now()
     from generate_series(1, $1::int) g`,
    [SEED_USERS],
  );
  await db.query(`insert into api_keys (id, user_id, created_at, updated_at) select 'api_key_' || md5('k' || id), id, now(), now() from users where id <> $1`, [userId]);
  // The ledger: most rows spread over the seeded users, OWN_TRANSACTIONS of them the bench user's.
  const insertTransactions = `insert into transactions (id, user_id, type, kind, description, value_in_credits, fiat_cents, balance_after, reference, created_at, updated_at)
     select 'transaction_' || md5($1 || g), %USER%, case when g % 3 = 0 then 'DEBIT' else 'CREDIT' end, case when g % 3 = 0 then 'analysis' else 'purchase' end,
            'Seeded transaction ' || g, 20, 20, 1000, null, now() - (g || ' seconds')::interval, now()
     from generate_series(1, $2::int) g`;
  await db.query(insertTransactions.replace('%USER%', `'user_' || md5('u' || (1 + g % ${SEED_USERS}))`), ['o', SEED_TRANSACTIONS - OWN_TRANSACTIONS]);
  await db.query(insertTransactions.replace('%USER%', '$3'), ['m', OWN_TRANSACTIONS, userId]);
  // Settle the bulk insert before measuring: fresh statistics, and the checkpoint it triggers does not land
  // in the first scenario.
  await db.query('vacuum analyze');
  await db.query('checkpoint').catch(() => undefined);
  const { rows } = await db.query('select created_at, id from transactions where user_id = $1 order by created_at desc, id desc offset $2 limit 1', [userId, DEEP_OFFSET]);
  const deepCursor = Buffer.from(`${new Date(rows[0].created_at).toISOString()}|${rows[0].id}`).toString('base64url');
  await db.end();
  const login = await json(`${service}/api/v1/auth/session`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}` } });
  const userToken = `Bearer ${login.data.token}`;
  const key = await json(`${service}/api/v1/users/${userId}/api_key`, { headers: { authorization: userToken } });
  return { userId, userToken, apiKeyToken: `Bearer ${key.data.token}`, email, password, deepCursor };
}

interface Sample { rps: number; rawRps: number; p50: number; p99: number; non2xx: number; errors: number; cpuMicrosPerRequest: number | null }

function optionsFor(base: string, scenario: Scenario) {
  return {
    url: base + scenario.path,
    connections: CONNECTIONS,
    method: scenario.method ?? 'GET',
    headers: { ...(scenario.body ? { 'content-type': 'application/json' } : {}), ...scenario.headers },
    body: scenario.body,
  } as const;
}

/**
 * A scenario's DURATION is split into ROUNDS slices, each right after an equal slice of the raw baseline
 * (`pairedWith`): on a machine shared with other work, load that comes and goes then weighs on both sides
 * of the ratio alike. p50 is the median of the slices' p50, p99 the worst slice's p99.
 */
async function measure(base: string, scenario: Scenario, pid: number | undefined, pairedWith?: { base: string; scenario: Scenario }): Promise<Sample> {
  const options = optionsFor(base, scenario);
  await autocannon({ ...options, duration: WARMUP });
  const rounds = pairedWith ? ROUNDS : 1;
  const slice = DURATION / rounds;
  let requests = 0;
  let rawRequests = 0;
  let cpu: number | null = 0;
  const sample = { non2xx: 0, errors: 0, p50s: [] as number[], p99s: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    if (pairedWith) rawRequests += (await autocannon({ ...optionsFor(pairedWith.base, pairedWith.scenario), duration: slice })).requests.total;
    // The server's CPU time per request: steadier than req/s when other work shares the machine.
    const cpuBefore = cpuMicros(pid);
    const result = await autocannon({ ...options, duration: slice });
    const cpuAfter = cpuMicros(pid);
    cpu = cpu === null || cpuBefore === null || cpuAfter === null ? null : cpu + cpuAfter - cpuBefore;
    requests += result.requests.total;
    sample.non2xx += result.non2xx;
    sample.errors += result.errors;
    sample.p50s.push(result.latency.p50);
    sample.p99s.push(result.latency.p99);
  }
  const median = [...sample.p50s].sort((x, y) => x - y)[Math.floor(sample.p50s.length / 2)];
  return {
    rps: requests / DURATION,
    rawRps: pairedWith ? rawRequests / DURATION : requests / DURATION,
    p50: median,
    p99: Math.max(...sample.p99s),
    non2xx: sample.non2xx,
    errors: sample.errors,
    cpuMicrosPerRequest: cpu === null || !requests ? null : Math.round(cpu / requests),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const databaseKind = process.env.DATABASE_URL ? 'postgresql' : 'embedded (PGlite)';
  const databaseUrl = process.env.DATABASE_URL ?? (await start('bench/embedded-db-server.js', {}, /^postgres/)).line.trim();
  await mailSink.start(); // the bench user's activation mail
  const services = {
    service: await startService('service', PORT_BASE + 1, databaseUrl),
    'service-no-limiter': await startService('service-no-limiter', PORT_BASE + 2, databaseUrl, { RATE_LIMIT_PER_SECOND: '0' }),
    'service-redis-limiter': process.env.BENCH_REDIS_URL ? await startService('service-redis-limiter', PORT_BASE + 3, databaseUrl, { REDIS_URL: process.env.BENCH_REDIS_URL, REDIS_KEY_PREFIX: `bench${Date.now()}` }) : '',
    raw: `http://127.0.0.1:${PORT_BASE}`,
    yoga: `http://127.0.0.1:${PORT_BASE + 4}`,
    mercurius: `http://127.0.0.1:${PORT_BASE + 5}`,
  };
  pids.raw = (await start('bench/raw-baseline.js', { DATABASE_URL: databaseUrl, PORT: String(PORT_BASE), DATABASE_POOL_MAX: POOL }, /^ready/)).child.pid;
  // The peers: the same authenticated read on GraphQL Yoga and on Mercurius + graphql-jit (bench/peer-server.ts).
  const peerEnv = { DATABASE_URL: databaseUrl, DATABASE_POOL_MAX: POOL, JWT_SECRET };
  pids.yoga = (await start('bench/peer-server.js', { ...peerEnv, PORT: String(PORT_BASE + 4) }, /^ready/, ['yoga'])).child.pid;
  pids.mercurius = (await start('bench/peer-server.js', { ...peerEnv, PORT: String(PORT_BASE + 5) }, /^ready/, ['mercurius'])).child.pid;
  const seeded = await seed(databaseUrl, services.service);
  const gql = (query: string) => JSON.stringify({ query });
  const page = (after: string | null) =>
    JSON.stringify({
      query: 'query ($after: String) { viewer { transactions(first: 20, after: $after) { edges { node { id type description valueInCredits valueInFiat { amount } createdAt } } pageInfo { endCursor hasNextPage } } } }',
      variables: { after },
    });
  const me = gql('{ user(id: "' + seeded.userId + '") { id email firstName lastName credits isActive isDarkMode createdAt updatedAt } }');
  // An SDK operation as the SDK sends it (by its trusted-document id; the service runs GRAPHQL_TRUSTED_DOCUMENTS=allow), and the same text.
  const byId = (operation: ClaraOperation<unknown, unknown>) => JSON.stringify({ operationName: operation.name, variables: {}, extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } } });
  const asText = (operation: ClaraOperation<unknown, unknown>) => JSON.stringify({ operationName: operation.name, variables: {}, query: operation.body });

  const scenarios: Scenario[] = [
    { name: 'raw baseline: Fastify + pg, one row by primary key', target: 'raw', path: `/users/${seeded.userId}` },
    { name: '1. GraphQL user (user token)', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: me },
    { name: '1b. GraphQL viewer (user token)', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: gql('{ viewer { id email firstName lastName credits isActive isDarkMode createdAt updatedAt } }') },
    { name: 'peer: GraphQL Yoga, same user read', target: 'yoga', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: me },
    { name: 'peer: Mercurius + graphql-jit, same user read', target: 'mercurius', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: me },
    { name: '2. REST GET /users/{id} (user token)', target: 'service', path: `/api/v1/users/${seeded.userId}`, headers: { authorization: seeded.userToken }, compareWith: '1. GraphQL user (user token)' },
    { name: '3a. GraphQL user (API key)', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.apiKeyToken }, body: me },
    { name: '3b. REST GET /users/{id} (API key)', target: 'service', path: `/api/v1/users/${seeded.userId}`, headers: { authorization: seeded.apiKeyToken }, compareWith: '3a. GraphQL user (API key)' },
    { name: '4a. GraphQL transactions, first page (cursor)', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: page(null) },
    { name: `4b. GraphQL transactions, page after row ${DEEP_OFFSET} (cursor)`, target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: page(seeded.deepCursor), compareWith: '4a. GraphQL transactions, first page (cursor)' },
    { name: '4c. REST transactions limit=20 offset=0', target: 'service', path: `/api/v1/users/${seeded.userId}/transactions?limit=20&offset=0`, headers: { authorization: seeded.userToken }, compareWith: '4a. GraphQL transactions, first page (cursor)' },
    { name: `4d. REST transactions limit=20 offset=${DEEP_OFFSET}`, target: 'service', path: `/api/v1/users/${seeded.userId}/transactions?limit=20&offset=${DEEP_OFFSET}`, headers: { authorization: seeded.userToken }, compareWith: '4c. REST transactions limit=20 offset=0' },
    { name: '5a. GraphQL stripeRate (no database)', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: gql('{ stripeRate { lowerLimit { amount } upperLimit { amount } rate } }') },
    { name: '5b. REST GET /stripe/rate', target: 'service', path: '/api/v1/stripe/rate', headers: { authorization: seeded.userToken }, compareWith: '5a. GraphQL stripeRate (no database)' },
    { name: 'limiter off: REST GET /users/{id} (user token)', target: 'service-no-limiter', path: `/api/v1/users/${seeded.userId}`, headers: { authorization: seeded.userToken } },
    { name: 'limiter on (memory): same request', target: 'service', path: `/api/v1/users/${seeded.userId}`, headers: { authorization: seeded.userToken }, compareWith: 'limiter off: REST GET /users/{id} (user token)' },
    ...(services['service-redis-limiter']
      ? [{ name: 'limiter on (Redis): same request', target: 'service-redis-limiter' as const, path: `/api/v1/users/${seeded.userId}`, headers: { authorization: seeded.userToken }, compareWith: 'limiter off: REST GET /users/{id} (user token)' }]
      : []),
    { name: '7. GraphQL dashboard: viewer, 20 transactions with their task, 10 tasks with charge and report', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: gql(DASHBOARD) },
    { name: '8a. SDK Viewer sent as text', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: asText(ViewerDocument) },
    { name: '8b. SDK Viewer sent by id (persisted operation)', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: byId(ViewerDocument), compareWith: '8a. SDK Viewer sent as text' },
    { name: '8c. SDK Dashboard sent as text', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: asText(DashboardDocument) },
    { name: '8d. SDK Dashboard sent by id (persisted operation)', target: 'service', method: 'POST', path: '/graphql', headers: { authorization: seeded.userToken }, body: byId(DashboardDocument), compareWith: '8c. SDK Dashboard sent as text' },
    { name: '6. REST login with Basic (argon2id)', target: 'service', method: 'POST', path: '/api/v1/auth/session', headers: { authorization: `Basic ${Buffer.from(`${seeded.email}:${seeded.password}`).toString('base64')}` } },
  ];

  const results: Measured[] = [];
  let rawCpu: number | null = null;
  // A persisted operation the service did not know would answer PERSISTED_QUERY_NOT_FOUND with a 200: checked once.
  for (const operation of [ViewerDocument, DashboardDocument]) {
    const answer = await json(`${services.service}/graphql`, { method: 'POST', headers: { authorization: seeded.userToken, 'content-type': 'application/json' }, body: byId(operation) });
    if (answer.errors || !answer.data) throw new Error(`${operation.name} by id: ${JSON.stringify(answer.errors)}`);
  }
  // BENCH_ONLY: a regular expression choosing scenarios (the raw baseline always runs), for quick checks.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY, 'i') : null;
  const rawScenario = scenarios.find((s) => s.target === 'raw')!;
  for (const scenario of scenarios.filter((s) => s.target === 'raw' || !only || only.test(s.name))) {
    const isRaw = scenario.target === 'raw';
    const result = await measure(services[scenario.target], scenario, pids[scenario.target], isRaw ? undefined : { base: services.raw, scenario: rawScenario });
    const rps = result.rps;
    if (isRaw) rawCpu = result.cpuMicrosPerRequest;
    const peer = scenario.compareWith ? results.find((r) => r.name === scenario.compareWith) : undefined;
    const row: Measured = {
      name: scenario.name,
      rps: Math.round(rps),
      rawRpsPaired: Math.round(result.rawRps),
      cpuMicrosPerRequest: result.cpuMicrosPerRequest,
      // The raw baseline's CPU per request over this scenario's: what req/s would be on an otherwise idle core.
      cpuRatioToRaw: rawCpu && result.cpuMicrosPerRequest ? Number((rawCpu / result.cpuMicrosPerRequest).toFixed(3)) : null,
      p50: result.p50,
      p99: result.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      // Against the raw baseline's slices interleaved with this scenario's (the same minutes of the run).
      ratioToRaw: Number((rps / result.rawRps).toFixed(3)),
      ...(peer ? { peer: peer.name, ratioToPeer: Number((rps / peer.rps).toFixed(3)) } : {}),
      rssMiB: rssMiB(pids[scenario.target]),
    };
    results.push(row);
    process.stderr.write(`${row.name}: ${row.rps} req/s\n`);
  }

  const queue = !only || only.test('queue') ? await queueThroughput(databaseUrl, seeded.userId) : undefined;
  if (queue) process.stderr.write(`queue throughput: ${queue.jobsPerSecond} jobs/s (${queue.jobs} jobs, ${queue.concurrency} concurrent)\n`);

  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x', PUBLIC_API_KEY: 'x' });
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, database: databaseKind, connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, seededUsers: SEED_USERS, seededTransactions: SEED_TRANSACTIONS };
  console.log(`\nClara benchmark — ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, database: ${databaseKind}, ${CONNECTIONS} connections, ${DURATION}s after ${WARMUP}s warm-up`);
  console.log(`argon2id for login: memory ${config.argon2.memoryCost} KiB, time cost ${config.argon2.timeCost}, parallelism ${config.argon2.parallelism}\n`);
  console.table(results.map((r) => ({ scenario: r.name, 'req/s': r.rps, 'raw req/s (paired)': r.rawRpsPaired, 'p50 ms': r.p50, 'p99 ms': r.p99, 'x raw': r.ratioToRaw, 'CPU µs/req': r.cpuMicrosPerRequest ?? '', 'x raw (CPU)': r.cpuRatioToRaw ?? '', 'x peer': r.ratioToPeer ?? '', 'RSS MiB': r.rssMiB ?? '', 'non-2xx': r.non2xx + r.errors })));
  // Peers through their ratios to raw: each was measured against the baseline's own slices.
  if (queue) console.log(`Queue throughput (enqueue to completion, no-op model, one worker process): ${queue.jobsPerSecond} jobs/s — ${queue.jobs} jobs in ${queue.seconds} s, ${queue.concurrency} concurrent, worker CPU ${queue.workerCpuMicrosPerJob ?? '?'} µs/job`);
  const ratioOf = (prefix: string) => results.find((r) => r.name.startsWith(prefix))?.ratioToRaw;
  const clara = ratioOf('1. GraphQL user');
  for (const [label, prefix] of [['GraphQL Yoga', 'peer: GraphQL Yoga'], ['Mercurius + graphql-jit', 'peer: Mercurius']]) {
    const peerRatio = ratioOf(prefix);
    if (clara && peerRatio) console.log(`Clara GraphQL user / ${label}: ${(clara / peerRatio).toFixed(2)}`);
  }
  const file = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-${process.env.DATABASE_URL ? 'postgresql' : 'embedded'}-node${process.versions.node.split('.')[0]}${only ? '-partial' : ''}.json`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, argon2: config.argon2, results, queue }, null, 2));
  console.log(`\nwritten to ${file} in ${Math.round((Date.now() - started) / 1000)} s`);
  if (results.some((r) => r.non2xx + r.errors > 0)) {
    console.error('some requests failed: the figures above are not valid');
    process.exitCode = 1;
  }
}

/**
 * Queue throughput: QUEUE_JOBS analysis tasks (with their charges) inserted at once and their jobs queued in one
 * statement, then drained by a separate worker process (`npm run worker`) whose model is a local server that
 * answers at once: jobs per second from enqueue to the last task completed.
 */
async function queueThroughput(databaseUrl: string, userId: string): Promise<{ jobs: number; seconds: number; jobsPerSecond: number; concurrency: number; workerCpuMicrosPerJob: number | null }> {
  const jobs = Number(process.env.BENCH_QUEUE_JOBS ?? 2000);
  const concurrency = Number(process.env.BENCH_QUEUE_CONCURRENCY ?? 16);
  const model = await new FakeModel().start();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const positional = (text: string) => text.replace(/\?/g, (() => { let n = 0; return () => `$${++n}`; })());
  const select = async (text: string, values: unknown[]) => (await client.query(positional(text), values)).rows;
  // Only queues the jobs (the worker process runs them); set up as the services set it up.
  const queue = createAnalysisQueue(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x', PUBLIC_API_KEY: 'x' }), { executeSql: (text, values) => client.query(text, values) }, pino({ level: 'silent' }), new Metrics());
  try {
    await client.query('update users set credits = credits + $1 where id = $2', [jobs * 20, userId]);
    const { child } = await start('src/worker.js', {
      DATABASE_URL: databaseUrl, DATABASE_POOL_MAX: process.env.DATABASE_URL ? '20' : POOL, JWT_SECRET, ENCRYPTION_KEY, LOG_LEVEL: 'info',
      AGENT_OPENAI_BASE_URL: model.url, AGENT_OPENAI_API_KEY: 'sk-bench', AGENT_MODEL: 'bench-model', AGENT_WORKER_CONCURRENCY: String(concurrency), AGENT_WORKER_BATCH_SIZE: process.env.BENCH_QUEUE_BATCH ?? '8', AGENT_STRANDED_AFTER_SECONDS: '3600',
    }, /analysis worker started/);
    const ids = await insertBacklog(select, userId, jobs, 20);
    const started = Date.now();
    // The worker's own CPU per job: what it costs regardless of other load on the machine.
    const cpuBefore = cpuMicros(child.pid);
    await queue.enqueueMany(ids);
    for (;;) {
      if ((await openTasks(select, userId)) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (Date.now() - started) / 1000;
    const cpuAfter = cpuMicros(child.pid);
    child.kill('SIGTERM');
    const workerCpuMicrosPerJob = cpuBefore === null || cpuAfter === null ? null : Math.round((cpuAfter - cpuBefore) / jobs);
    return { jobs, seconds: Number(seconds.toFixed(2)), jobsPerSecond: Math.round(jobs / seconds), concurrency, workerCpuMicrosPerJob };
  } finally {
    // Stopped before its connection closes: its maintenance timers would otherwise keep the bench from exiting.
    await queue.stop();
    await client.end();
    await model.stop();
  }
}

function stopAll(): void {
  for (const child of children) child.kill('SIGTERM');
  if (mailSink.port) void mailSink.close();
}

// Interrupted: the service, baseline and peers stop too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
