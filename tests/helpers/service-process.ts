import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EMBEDDED_POOL_SIZE } from '../../src/database/embedded-postgres';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './database';
import { TEST_SETTINGS, TestApp } from './harness';

const ROOT = join(__dirname, '..', '..', '..');

/** Settings every process of one test deployment shares (same secrets, cheap hashes, generous limits). */
export function deploymentEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    ...TEST_SETTINGS,
    ...extra,
  };
}

/** A port nobody listens on right now (the child binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A pino log line, parsed (a line that is not JSON is kept as its `msg`). */
export type LogLine = Record<string, any>;

/**
 * `node dist/src/<script>.js` as a child process, as an operator starts it: only PATH and the given env, nothing
 * else of the test's environment. Started once a log line's message matches `ready`; its log lines kept for
 * assertions and waited for; stopped by a signal with a bounded wait.
 */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  /** What the process wrote to stderr (a crash's stack trace). */
  stderr = '';
  /** Its exit code, once it has exited and its output is read to the end (so `logs` is complete). */
  exited?: Promise<number | null>;
  private child?: ChildProcess;
  private readonly lineListeners = new Set<(line: LogLine) => void>();

  constructor(readonly script: 'main' | 'worker', readonly env: Record<string, string>) {}

  async start(ready: RegExp, timeoutMs = 90_000): Promise<this> {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', `${this.script}.js`)], { cwd: ROOT, env: { PATH: process.env.PATH, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // 'close', not 'exit': stdout may still hold the last lines when the process has exited.
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (text) => this.received(text));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    try {
      await this.waitForLine((line) => ready.test(String(line.msg ?? '')), timeoutMs);
    } catch (error) {
      await this.stop('SIGKILL'); // nobody else could stop a process that never became ready
      throw error;
    }
    return this;
  }

  /** The first log line that matches, waiting for it (bounded; refused if the process exits first). */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const found = this.logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const settle = (error?: Error, line?: LogLine) => {
        clearTimeout(timer);
        this.lineListeners.delete(listener);
        if (error) reject(error);
        else resolve(line!);
      };
      const listener = (line: LogLine) => {
        if (match(line)) settle(undefined, line);
      };
      const timer = setTimeout(() => settle(new Error(`${this.script}: no such log line within ${timeoutMs} ms: ${this.stderr}`)), timeoutMs);
      this.lineListeners.add(listener);
      void this.exited?.then((code) => settle(new Error(`${this.script} exited with ${code} before such a log line: ${this.stderr}`)));
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Sends `signal`; a process still running after `graceMs` is killed. Resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return this.exited ?? null;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child!.kill('SIGKILL'), graceMs);
    const code = await this.exited!;
    clearTimeout(timer);
    return code;
  }

  private received(text: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(text);
    } catch {
      line = { msg: text };
    }
    this.logs.push(line);
    for (const listener of this.lineListeners) listener(line);
  }
}

/** A separate analysis worker (`npm run worker`) on the deployment's database. */
export function startWorker(env: Record<string, string>): Promise<ServiceProcess> {
  return new ServiceProcess('worker', env).start(/analysis worker started/);
}

/**
 * An API instance (`node dist/src/main.js`) in a child process, driven like a TestApp (rest, gql, activeUser…):
 * its own port and SMTP mailbox; everything else (database, Redis, storage) comes from `env`.
 */
export class ApiProcess extends TestApp {
  process!: ServiceProcess;

  constructor(env: Record<string, string>, database: DatabaseKind = 'postgres') {
    super(database, env);
  }

  override start(): Promise<this> {
    return this.startProcess(this.env);
  }

  override async stop(): Promise<void> {
    await this.process?.stop();
    await this.mailbox.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  protected async startProcess(env: Record<string, string>): Promise<this> {
    await this.mailbox.start();
    this.databaseUrl = env.DATABASE_URL;
    // Port 0: the system picks a free one, which Fastify's "Server listening at" line names.
    this.process = await new ServiceProcess('main', { DATA_DIR: this.dataDir, ...env, HOST: '127.0.0.1', PORT: '0', SMTP_URL: `smtp://127.0.0.1:${this.mailbox.port}` }).start(/^Clara is serving/);
    const listening = await this.process.waitForLine((line) => String(line.msg).startsWith('Server listening at http://127.0.0.1:'));
    this.baseUrl = listening.msg.slice('Server listening at '.length);
    return this;
  }
}

/**
 * The service as one process on a fresh test database of its own (dropped at stop): for what only a whole
 * process shows (signals, exit codes, tracing preloaded before the modules).
 */
export class ServiceOnFreshDatabase extends ApiProcess {
  private fresh?: TestDatabase;

  constructor(database: DatabaseKind, env: Record<string, string> = {}) {
    super(env, database);
  }

  override async start(): Promise<this> {
    this.fresh = await createTestDatabase(this.database);
    return this.startProcess(deploymentEnv(this.fresh.url, { ...(this.database === 'embedded' ? { DATABASE_POOL_MAX: String(EMBEDDED_POOL_SIZE) } : {}), ...this.env }));
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.fresh?.drop();
  }
}
