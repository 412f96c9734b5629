import { join } from 'node:path';
import { MikroORM, type Options, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Client } from 'pg';
import { entities } from './entities';
import { relayPoolNotifications } from '../events/notifications';

/** The project root; this file runs compiled from dist/src/database. */
const root = join(__dirname, '..', '..', '..');

/**
 * The pool's size, and how long a query waits for a free connection before it fails (answered 503); unset:
 * knex's 60 s (the embedded database, one connection that long operations queue for, cannot restart on its own).
 */
export interface PoolSettings { max: number; acquireTimeoutMs?: number }

/** `extra` overrides the options (tests use it to observe the SQL a request runs). */
export function ormOptions(clientUrl: string, pool: number | PoolSettings = 10, extra: Partial<Options> = {}): Options {
  const { max, acquireTimeoutMs } = typeof pool === 'number' ? { max: pool } : pool;
  return {
    driver: PostgreSqlDriver,
    clientUrl,
    entities,
    extensions: [Migrator],
    // Entities declare their column types, so no TypeScript reflection is needed at run time.
    discovery: { requireEntitiesArray: true },
    // Change events that arrive on pooled connections reach the event bus (see notifications.ts).
    // A bounded wait for a connection: with the database down or the pool exhausted, requests fail fast (knex's default is 60 s).
    pool: { min: 0, max, ...(acquireTimeoutMs ? { acquireTimeoutMillis: acquireTimeoutMs } : {}), afterCreate: relayPoolNotifications(clientUrl) },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: false,
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: join(root, 'dist', 'migrations'),
      pathTs: join(root, 'migrations'),
      glob: '!(*.d).{js,ts}',
      transactional: true,
      allOrNothing: true,
      emit: 'ts',
      snapshot: false,
    },
    ...extra,
  };
}

export async function openDatabase(clientUrl: string, pool?: number | PoolSettings, extra?: Partial<Options>): Promise<MikroORM> {
  return MikroORM.init(ormOptions(clientUrl, pool, extra));
}

/** Any fixed number: the key of the advisory lock that lets one process at a time migrate a database. */
const MIGRATION_LOCK_KEY = 7_262_001;

/**
 * Brings the schema up to date; the same migrations run on the embedded and on a real PostgreSQL. With
 * `exclusive` (a shared PostgreSQL, where several instances may start at once), a session advisory lock on a
 * connection of its own makes concurrent callers wait their turn; the later ones then find nothing to apply.
 */
export async function migrate(orm: MikroORM, options: { exclusive?: boolean } = {}): Promise<void> {
  if (!options.exclusive) return void (await orm.getMigrator().up());
  await underStartupLock(orm.config.get('clientUrl')!, () => orm.getMigrator().up());
}

/**
 * Runs `work` holding a session advisory lock on a connection of its own: instances that start together on one
 * PostgreSQL take turns at creating what they share (the migrations, the job queue's schema and queue).
 */
export async function underStartupLock<T>(databaseUrl: string, work: () => Promise<T>): Promise<T> {
  const lock = new Client({ connectionString: databaseUrl });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await work();
  } finally {
    // Ending the session releases the lock, also when the work failed.
    await lock.end();
  }
}
