import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { SqlExecutor } from '../agent/analysis-queue';

/**
 * Runs SQL (`$1` placeholders) on a connection from the ORM's pool, past the ORM's and knex's query
 * layers: for the per-request caller read and the read-only lists, where those layers cost more than the
 * query itself. Logged through the ORM's logger like its own statements (with `debug: ['query']`), so
 * they show up beside them (tests count a request's statements that way).
 */
export async function rawQuery<Row = Record<string, unknown>>(em: EntityManager, text: string, values?: unknown[]): Promise<{ rows: Row[] }> {
  const started = performance.now();
  const result = await poolQuery<Row>(em, text, values);
  em.config.getLogger().logQuery({ query: text, params: values, took: Math.round(performance.now() - started), results: result.rows.length, level: 'info' });
  return result;
}

async function poolQuery<Row>(em: EntityManager, text: string, values?: unknown[]): Promise<{ rows: Row[] }> {
  const client = em.getConnection().getKnex().client;
  const connection = await client.acquireConnection();
  try {
    return await connection.query(text, values);
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * Lets another library (pg-boss) run its SQL on a connection from the ORM's pool, so the service holds
 * one pool per database, and the embedded database sees a single connection when the pool has one.
 * Not logged as the service's own statements.
 */
export function sharedPoolExecutor(orm: MikroORM): SqlExecutor {
  const em = orm.em as EntityManager;
  return { executeSql: (text, values) => poolQuery(em, text, values) };
}
