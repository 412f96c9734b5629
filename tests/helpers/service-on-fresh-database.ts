import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_POOL_SIZE } from '../../src/database/embedded-postgres';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './database';
import { ADMIN_KEY, PUBLIC_KEY } from './harness';
import { deploymentEnv } from './service-process';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * The real service (`node dist/src/main.js`) as a child process on a fresh test database, as an operator
 * starts it: for what only a whole process shows (signals, exit codes, tracing preloaded before the modules).
 * Its JSON log lines are kept in `lines`.
 */
export class ServiceOnFreshDatabase {
  readonly lines: Record<string, any>[] = [];
  baseUrl = '';
  exitCode!: Promise<number | null>;
  private child!: ChildProcess;
  private database!: TestDatabase;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'clara-process-'));

  constructor(private readonly kind: DatabaseKind, private readonly env: Record<string, string> = {}) {}

  async start(): Promise<this> {
    this.database = await createTestDatabase(this.kind);
    this.child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // The settings every test process shares (secrets, cheap hashes, generous limits): service-process.ts.
      env: {
        PATH: process.env.PATH,
        ...deploymentEnv(this.database.url, {
          HOST: '127.0.0.1',
          PORT: '0',
          DATA_DIR: this.dataDir,
          ...(this.kind === 'embedded' ? { DATABASE_POOL_MAX: String(EMBEDDED_POOL_SIZE) } : {}),
          ...this.env,
        }),
      },
    });
    this.exitCode = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    let pending = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop()!;
      for (const line of complete) if (line.startsWith('{')) this.lines.push(JSON.parse(line));
    });
    let stderr = '';
    this.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const listening = await Promise.race([
      this.waitForLine((line) => typeof line.msg === 'string' && line.msg.startsWith('Server listening at http://127.0.0.1'), 60_000),
      this.exitCode.then((code) => {
        throw new Error(`the service exited (${code}) before listening: ${stderr}`);
      }),
    ]);
    this.baseUrl = listening.msg.slice('Server listening at '.length);
    return this;
  }

  /** The first log line that matches, waiting for it (bounded). */
  async waitForLine(match: (line: Record<string, any>) => boolean, timeoutMs = 30_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('no such log line arrived in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Registers and activates a user with the code from the dev outbox (the process has no SMTP server), with 100 credits. */
  async activeUser(email: string): Promise<{ id: string; token: string }> {
    const call = async (path: string, auth: string, body: unknown) => {
      const res = await fetch(`${this.baseUrl}${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer = { status: res.status, body: (await res.json()) as any };
      if (res.status >= 300 || answer.body.errors) throw new Error(`${path}: ${JSON.stringify(answer.body)}`);
      return answer;
    };
    const registered = await call('/api/v1/auth/register', PUBLIC_KEY, { first_name: 'Ada', last_name: 'L', email, password: 'correct horse battery' });
    const mail = await this.waitForLine((line) => line.to === email && typeof line.outbox === 'string');
    const code = /\b(\d{6})\b/.exec(readFileSync(mail.outbox, 'utf8'))![1];
    await call(`/api/v1/users/${encodeURIComponent(email)}/activate`, PUBLIC_KEY, { code });
    const user = { id: registered.body.data.id as string, token: `Bearer ${registered.body.data.token}` };
    await call('/graphql', ADMIN_KEY, { query: 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { userErrors { code } } }', variables: { input: { userId: user.id, amount: 100, reason: 'test credits' } } });
    return user;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exitCode;
    }
    await this.database?.drop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
