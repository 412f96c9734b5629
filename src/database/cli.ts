import 'reflect-metadata';
import { loadConfig } from '../core/config';
import { startEmbeddedPostgres } from './embedded-postgres';
import { migrate, openDatabase } from './orm';

/**
 * `migrate`: apply pending migrations to DATABASE_URL (or the embedded database's data folder).
 * `create`: diff the entities against a fresh database with all migrations applied and write a new
 * migration into migrations/ (review it, then build).
 */
async function run(command: string | undefined): Promise<void> {
  const config = loadConfig();
  const fresh = command === 'create';
  const embedded = config.databaseUrl && !fresh ? undefined : await startEmbeddedPostgres(fresh ? undefined : `${config.dataDir}/pglite`);
  const orm = await openDatabase(fresh ? embedded!.url : (config.databaseUrl ?? embedded!.url), 1);
  try {
    await migrate(orm, { exclusive: !embedded });
    if (command === 'create') {
      const result = await orm.getMigrator().createMigration(undefined, false, false, process.argv[3]);
      console.log(result.fileName ? `wrote migrations/${result.fileName}` : 'no schema changes');
    } else if (command === 'migrate') {
      console.log('migrations applied');
    } else {
      throw new Error('usage: cli.js migrate|create [name]');
    }
  } finally {
    await orm.close();
    await embedded?.stop();
  }
}

run(process.argv[2]).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
