import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockDataDir } from './data-dir-lock';

/**
 * Connections an application should open to the embedded database. PGlite is one backend session: the
 * socket server interleaves its clients' protocol messages, and two clients' extended-protocol queries can
 * then clobber each other's unnamed statement. One connection (shared by the ORM and the job queue) is safe.
 */
export const EMBEDDED_POOL_SIZE = 1;

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL for machines without one: PGlite (Postgres compiled to WASM) keeping its data in a folder,
 * served over the wire protocol so MikroORM and pg-boss connect to it exactly as to a real server.
 * `dataDir` undefined keeps the data in memory (tests). A data folder has one owner at a time: while one
 * process serves it, another (e.g. `npm run credits:adjust` next to `npm start`) gets a DataDirInUseError.
 */
export async function startEmbeddedPostgres(dataDir?: string, port = 0): Promise<EmbeddedPostgres> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const lock = dataDir ? lockDataDir(dataDir) : undefined;
  try {
    const db = await PGlite.create(dataDir ?? 'memory://');
    // PGlite runs one query at a time; the server multiplexes several client connections onto it.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 100 });
    await server.start();
    const address = server.getServerConn();
    return {
      url: `postgresql://postgres:postgres@${address}/postgres`,
      async stop() {
        try {
          await server.stop();
          await db.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    lock?.release();
    throw error;
  }
}
