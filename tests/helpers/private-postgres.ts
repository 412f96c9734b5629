import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './service-process';

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** initdb refuses root: as root, the server runs as the postgres user and owns its data folder. */
const AS_ROOT = process.getuid?.() === 0;

/** Whether this machine can run a private PostgreSQL server (the binaries are there). */
export const canRunPrivatePostgres = existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'));

/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl in a temporary folder, on a free port), so a test can
 * really stop and restart it: the shared test server cannot be restarted under other suites.
 */
export class PrivatePostgres {
  port = 0;
  private readonly dir = mkdtempSync(join(tmpdir(), 'clara-pg-'));
  private readonly data = join(this.dir, 'data');

  /** A database URL on this server (database `postgres` unless named). */
  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async init(): Promise<this> {
    if (AS_ROOT) chownSync(this.dir, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()));
    this.port = await freePort();
    await this.pg('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    return this.start();
  }

  async start(): Promise<this> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=60`;
    await this.pg('pg_ctl', ['-D', this.data, '-o', options, '-l', join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
    return this;
  }

  /** `fast`: open sessions are ended (57P01 admin shutdown), as in a restart or failover. */
  async stop(): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    const [file, argv] = AS_ROOT && userInfo().username !== 'postgres' ? ['runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args]] : [join(BIN, tool), args];
    await run(file, argv, { cwd: this.dir });
  }
}
