import 'reflect-metadata';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { normalizeEmail } from '../accounts/accounts.service';
import { User } from '../accounts/user.entity';
import { loadConfig } from '../core/config';
import { isId } from '../core/ids';
import { DataDirInUseError } from '../database/data-dir-lock';
import { startEmbeddedPostgres } from '../database/embedded-postgres';
import { migrate, openDatabase } from '../database/orm';
import { SecurityLog } from '../security-log/security-log.service';
import { CreditsService } from './credits.service';

const USAGE = 'usage: npm run credits:adjust -- <email|user id> <amount, e.g. 100 or -50> <reason>';

/**
 * Ops: grant or remove credits with a reason, written to the ledger like any other balance change
 * (`npm run credits:adjust -- ada@example.com 100 "goodwill for the outage"`). Uses DATABASE_URL, or the
 * embedded database's data folder, refused while `npm start` serves it (the folder has one owner).
 */
async function run(args: string[]): Promise<void> {
  const [who, amountText, ...reasonWords] = args;
  const amount = Number(amountText);
  const reason = reasonWords.join(' ').trim();
  if (!who || !Number.isInteger(amount) || amount === 0 || !reason) throw new Error(USAGE);
  const config = loadConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(join(config.dataDir, 'pglite')).catch((error) => {
    // Writing beside the running service would never reach it (and could corrupt the folder).
    if (error instanceof DataDirInUseError) throw new Error(`${error.message} Stop the service first (npm start), or grant the credits through the running service: the GraphQL mutation adjustCredits with Authorization: <ADMIN_API_KEY>.`);
    throw error;
  });
  const orm = await openDatabase(config.databaseUrl ?? embedded!.url, 1);
  try {
    await migrate(orm);
    const em = orm.em.fork() as EntityManager;
    const user = await em.findOne(User, isId('user', who) ? { id: who } : { email: normalizeEmail(who) });
    if (!user) throw new Error(`No user ${who}.`);
    const entry = await new CreditsService(config.creditRates, { securityLog: new SecurityLog() }).adjust(em, user.id, amount, reason);
    console.log(`${entry.description} (${user.email}, balance ${entry.balanceAfter}, ${entry.id})`);
  } finally {
    await orm.close();
    await embedded?.stop();
  }
}

run(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
