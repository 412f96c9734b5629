import { startEmbeddedPostgres } from '../src/database/embedded-postgres';

/** The embedded PostgreSQL as its own process, so the service and the raw baseline share one database. */
startEmbeddedPostgres(undefined, Number(process.argv[2] ?? 0)).then((db) => {
  process.stdout.write(`${db.url}\n`);
  process.on('SIGTERM', () => void db.stop().then(() => process.exit(0)));
});
