import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { SqlExecutor } from '../agent/analysis-queue';

/**
 * Runs SQL (`$1` placeholders) on a connection from the ORM's pool, past the ORM's and knex's query
 * layers: for another library (pg-boss), and for the per-request session check, where those layers
 * cost more than the query itself. One pool per database either way.
 */
export async function rawQuery<Row = Record<string, unknown>>(em: EntityManager, text: string, values?: unknown[]): Promise<{ rows: Row[] }> {
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
 */
export function sharedPoolExecutor(orm: MikroORM): SqlExecutor {
  const em = orm.em as EntityManager;
  return { executeSql: (text, values) => rawQuery(em, text, values) };
}
