import { join } from 'node:path';
import { MikroORM, type Options, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './entities';
import { relayPoolNotifications } from '../events/notifications';

/** The project root; this file runs compiled from dist/src/database. */
const root = join(__dirname, '..', '..', '..');

/** `extra` overrides the options (tests use it to observe the SQL a request runs). */
export function ormOptions(clientUrl: string, poolMax = 10, extra: Partial<Options> = {}): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl,
    entities,
    extensions: [Migrator],
    // Entities declare their column types, so no TypeScript reflection is needed at run time.
    discovery: { requireEntitiesArray: true },
    // Change events that arrive on pooled connections reach the event bus (see notifications.ts).
    pool: { min: 0, max: poolMax, afterCreate: relayPoolNotifications(clientUrl) },
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

export async function openDatabase(clientUrl: string, poolMax?: number, extra?: Partial<Options>): Promise<MikroORM> {
  return MikroORM.init(ormOptions(clientUrl, poolMax, extra));
}

/** Brings the schema up to date; the same migrations run on the embedded and on a real PostgreSQL. */
export async function migrate(orm: MikroORM): Promise<void> {
  await orm.getMigrator().up();
}
