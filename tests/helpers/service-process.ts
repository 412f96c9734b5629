import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ADMIN_KEY, PUBLIC_KEY, TestApp } from './harness';

const DIST_SRC = join(__dirname, '..', '..', 'src');

/** Settings every process of one test deployment shares (same secrets, cheap hashes, generous limits). */
export function deploymentEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: 'test-jwt-secret-that-is-long-enough-1234567890',
    PUBLIC_API_KEY: PUBLIC_KEY,
    ADMIN_API_KEY: ADMIN_KEY,
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    RATE_LIMIT_PER_SECOND: '10000',
    AUTH_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: '10000',
    AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: '10000',
    OTP_RESEND_INTERVAL_SECONDS: '0',
    OTP_SENDS_PER_HOUR: '0',
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

/**
 * `node dist/src/<script>.js` as a child process with the given env: started once a log line matches `ready`,
 * its log lines (pino JSON, parsed) kept for assertions, stopped by a signal with a bounded wait.
 */
export class ServiceProcess {
  readonly logs: Record<string, unknown>[] = [];
  /** What the process wrote to stderr (a crash's stack trace). */
  stderr = '';
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(readonly script: 'main' | 'worker', readonly env: Record<string, string>) {}

  async start(ready: RegExp, timeoutMs = 90_000): Promise<this> {
    const child = spawn(process.execPath, [join(DIST_SRC, `${this.script}.js`)], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let buffered = '';
    let onLine: (line: string) => void = () => undefined;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\n');
      buffered = lines.pop()!;
      for (const line of lines) onLine(line);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.script} did not start within ${timeoutMs} ms: ${this.stderr}`)), timeoutMs);
      void this.exited!.then((code) => reject(new Error(`${this.script} exited with ${code} before it was ready: ${this.stderr}`)));
      onLine = (line) => {
        try {
          this.logs.push(JSON.parse(line));
        } catch {
          this.logs.push({ msg: line });
        }
        if (ready.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    return this;
  }

  /** Log lines whose message matches. */
  logged(pattern: RegExp): Record<string, unknown>[] {
    return this.logs.filter((line) => pattern.test(String(line.msg ?? '')));
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

  constructor(env: Record<string, string>) {
    super('postgres', env);
  }

  override async start(): Promise<this> {
    await this.mailbox.start();
    const port = await freePort();
    this.databaseUrl = this.env.DATABASE_URL;
    this.process = await new ServiceProcess('main', { DATA_DIR: this.dataDir, ...this.env, HOST: '127.0.0.1', PORT: String(port), SMTP_URL: `smtp://127.0.0.1:${this.mailbox.port}` }).start(/Clara is serving/);
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  override async stop(): Promise<void> {
    await this.process?.stop();
    await this.mailbox.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
