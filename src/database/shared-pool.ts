import type { MikroORM } from '@mikro-orm/postgresql';
import type { SqlExecutor } from '../agent/analysis-queue';

/**
 * Lets another library (pg-boss) run its SQL on a connection from the ORM's pool, so the service holds
 * one pool per database, and the embedded database sees a single connection when the pool has one.
 */
export function sharedPoolExecutor(orm: MikroORM): SqlExecutor {
  const client = orm.em.getConnection().getKnex().client;
  return {
    async executeSql(text, values) {
      const connection = await client.acquireConnection();
      try {
        return await connection.query(text, values);
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
}
