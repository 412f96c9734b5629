import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { encodeCursor } from '../src/core/keyset';
import { CreditsService } from '../src/credits/credits.service';
import { SecurityLog } from '../src/security-log/security-log.service';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { migrate, openDatabase } from '../src/database/orm';

/**
 * Benchmark (not a test): the time of one 20-row transactions page for a user with 1k and with 1M
 * transactions, read with the keyset cursor and with a deep offset. Runs on the embedded database, or on
 * BENCH_DATABASE_URL (an empty scratch database: the script creates its tables and seeds it).
 *   npm run bench:transactions            BENCH_ROWS=1000,1000000 (default)   BENCH_RUNS=15
 */
const SIZES = (process.env.BENCH_ROWS ?? '1000,1000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const PAGE = 20;

async function seed(orm: MikroORM, userId: string, rows: number): Promise<void> {
  const connection = orm.em.getConnection();
  await connection.execute(
    `insert into users (id, email, first_name, credits, is_active, is_dark_mode, created_at, updated_at) values (?, ?, 'Bench', 0, true, true, now(), now())`,
    [userId, `${userId}@bench.invalid`],
  );
  // Millisecond timestamps, as the service writes them; ids in the documented form.
  await connection.execute(
    `insert into transactions (id, user_id, type, kind, description, value_in_credits, fiat_cents, balance_after, reference, created_at, updated_at)
     select 'transaction_' || md5(? || g), ?, case when g % 3 = 0 then 'CREDIT' else 'DEBIT' end, 'admin', 'Seeded transaction ' || g,
            1 + g % 50, 1 + g % 50, 0, null, ts, ts
     from generate_series(1, ?) as g, lateral (select timestamptz '2020-01-01 00:00:00+00' + g * interval '1.001 second' as ts) as t`,
    [userId, userId, rows],
  );
  await connection.execute('analyze transactions');
}

async function median(run: () => Promise<unknown>): Promise<number> {
  await run(); // warm-up: plan and cache
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  const embedded = process.env.BENCH_DATABASE_URL ? undefined : await startEmbeddedPostgres();
  const orm = await openDatabase(process.env.BENCH_DATABASE_URL ?? embedded!.url, 1);
  const credits = new CreditsService([{ lowerLimit: 5, upperLimit: 10000, rate: 100 }], { securityLog: new SecurityLog() });
  const em = () => orm.em.fork() as EntityManager;
  try {
    await migrate(orm);
    const results: { rows: number; first: number; cursor: number; offset: number }[] = [];
    for (const rows of SIZES) {
      const userId = `user_${rows.toString(16).padStart(32, '0')}`;
      const seeding = performance.now();
      await seed(orm, userId, rows);
      console.error(`seeded ${rows.toLocaleString('en')} transactions in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
      // The deepest page: the cursor of the row just before the last PAGE rows (found once, not timed).
      const deep = Math.max(rows - PAGE, 0);
      const [beforeDeep] = (await credits.page(em(), userId, { first: 1, offset: deep - 1 })).items;
      const after = encodeCursor(beforeDeep);
      results.push({
        rows,
        first: await median(() => credits.page(em(), userId, { first: PAGE })),
        cursor: await median(() => credits.page(em(), userId, { first: PAGE, after })),
        offset: await median(() => credits.page(em(), userId, { first: PAGE, offset: deep })),
      });
    }
    const database = embedded ? 'embedded PostgreSQL (PGlite)' : 'PostgreSQL at BENCH_DATABASE_URL';
    console.log(`transactions page of ${PAGE}, median of ${RUNS} runs, ${database}`);
    console.log(['rows', 'first page', 'last page by cursor', 'last page by offset'].map((h) => h.padStart(20)).join(''));
    for (const r of results) {
      console.log([r.rows.toLocaleString('en'), `${r.first.toFixed(2)} ms`, `${r.cursor.toFixed(2)} ms`, `${r.offset.toFixed(2)} ms`].map((c) => c.padStart(20)).join(''));
    }
  } finally {
    await orm.close();
    await embedded?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
