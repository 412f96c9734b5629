import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, type LogContext, type LoggerOptions } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/core/config';
import { EMBEDDED_POOL_SIZE } from '../../src/database/embedded-postgres';
import { migrate, openDatabase } from '../../src/database/orm';
import { buildApp, type App } from '../../src/http/app';
import { createTestDatabase, type DatabaseKind } from './database';
import { Mailbox } from './mailbox';
import { contractFor, type RestAnswer, type RestContract } from './openapi-contract';

export const PUBLIC_KEY = 'test_public_api_key';
export const ADMIN_KEY = 'test_admin_api_key';

/** Settings every test service shares, in this process or as a child process (tokens signed here are checked there). */
export const TEST_SETTINGS: Record<string, string> = {
  JWT_SECRET: 'test-jwt-secret-that-is-long-enough-1234567890',
  PUBLIC_API_KEY: PUBLIC_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  // Cheap hashes keep the suite fast; production defaults are in config.ts.
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1',
  RATE_LIMIT_PER_SECOND: '10000',
  AUTH_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: '10000',
  AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: '10000',
  // Suites mail several codes to one account in quick succession; code-guessing.test.ts tests these limits.
  OTP_RESEND_INTERVAL_SECONDS: '0',
  OTP_SENDS_PER_HOUR: '0',
};

export interface HttpResult<T = any> { status: number; body: T; headers: Headers }

/**
 * The whole service on a real port, with a fresh database and a real SMTP server, as a client sees it.
 * `env` overrides configuration (same names as the README's table).
 */
export class TestApp {
  baseUrl = '';
  /** The test database's URL, for processes the test starts (e.g. a separate worker). */
  databaseUrl = '';
  app!: App;
  orm!: MikroORM;
  config!: Config;
  readonly mailbox = new Mailbox();
  private dropDatabase?: () => Promise<void>;
  protected readonly dataDir = mkdtempSync(join(tmpdir(), 'clara-test-'));

  /** With `options.recordQueries`, every SQL statement the ORM runs (the service's own reads and writes; not pg-boss's). */
  readonly queries: string[] = [];

  /**
   * `options.log` receives the service's logs (silent by default), e.g. to check what a request logs;
   * `options.sharing`: a started TestApp whose database this one uses too (a second instance of the service).
   */
  constructor(
    readonly database: DatabaseKind,
    readonly env: Record<string, string> = {},
    private readonly options: { recordQueries?: boolean; log?: Logger; sharing?: TestApp } = {},
  ) {}

  async start(): Promise<this> {
    await this.mailbox.start();
    const db = this.options.sharing ? { url: this.options.sharing.databaseUrl, drop: undefined } : await createTestDatabase(this.database);
    this.dropDatabase = db.drop;
    this.databaseUrl = db.url;
    this.config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: this.dataDir,
      SMTP_URL: `smtp://127.0.0.1:${this.mailbox.port}`,
      ...TEST_SETTINGS,
      ...(this.env.NODE_ENV === 'production' ? productionSettings(db.url) : {}),
      ...this.env,
    });
    const queries = this.queries;
    const recording = this.options.recordQueries
      ? { debug: ['query' as const], loggerFactory: (options: LoggerOptions) => new (class extends DefaultLogger {
          override logQuery(context: LogContext) {
            queries.push(context.query ?? "");
          }
        })(options) }
      : {};
    this.orm = await openDatabase(db.url, this.database === 'embedded' ? EMBEDDED_POOL_SIZE : 10, recording);
    await migrate(this.orm);
    this.app = await buildApp(this.config, this.orm, this.options.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
    const address = await this.app.http.listen({ host: '127.0.0.1', port: 0 });
    this.baseUrl = address;
    return this;
  }

  async stop(): Promise<void> {
    await this.app?.http.close();
    await this.orm?.close();
    await this.dropDatabase?.();
    await this.mailbox.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A REST call under /api/v1. `auth` is the raw Authorization header value. */
  async rest<T = any>(method: string, path: string, options: { auth?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth) headers.authorization = options.auth;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    return this.restFetch<T>(method, path, { method, headers, body });
  }

  /** A multipart/form-data REST call (analysis, uploads): `form`'s file parts named by their file names. */
  async restForm<T = any>(path: string, form: FormData, auth?: string, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    return this.restFetch<T>('POST', path, { method: 'POST', headers: auth ? { ...headers, authorization: auth } : headers, body: form });
  }

  private async restFetch<T>(method: string, path: string, init: RequestInit): Promise<HttpResult<T>> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, init);
    const text = await response.text();
    const result = { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
    await this.checkRestAnswer({ method, path, status: result.status, contentType: response.headers.get('content-type'), body: result.body });
    return result;
  }

  private contract?: Promise<RestContract>;

  /**
   * Every REST answer a suite receives must match the service's OpenAPI document (/api/v1/openapi.json):
   * a documented path, method and status, and a body that matches that status's schema. A mismatch fails
   * the test that made the request.
   */
  async checkRestAnswer(answer: RestAnswer): Promise<void> {
    this.contract ??= fetch(`${this.baseUrl}/api/v1/openapi.json`).then(async (response) => contractFor(await response.text()));
    const problem = (await this.contract).problem(answer);
    if (problem) throw new Error(`REST answer outside the OpenAPI document: ${problem}`);
  }

  /** A GraphQL call; returns the HTTP status and the `{data, errors}` body. */
  async gql<T = any>(query: string, variables: Record<string, unknown> = {}, auth?: string): Promise<HttpResult<{ data?: T; errors?: { message: string; extensions?: any }[] }>> {
    const response = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as any, headers: response.headers };
  }

  /** Registers through REST and returns the new user, its token and the password used. */
  async register(overrides: Partial<{ email: string; password: string; first_name: string; last_name: string }> = {}) {
    const email = overrides.email ?? `user-${Math.random().toString(16).slice(2)}@example.com`;
    const password = overrides.password ?? 'correct horse battery';
    const response = await this.rest('POST', '/auth/register', {
      auth: PUBLIC_KEY,
      body: { first_name: 'Ada', last_name: 'Lovelace', email, password, ...overrides },
    });
    if (response.status !== 201) throw new Error(`register failed: ${JSON.stringify(response.body)}`);
    return { id: response.body.data.id as string, email, password, token: `Bearer ${response.body.data.token}`, user: response.body.data };
  }

  /** Registers and activates with the code from the activation mail. */
  async activeUser(overrides: Parameters<TestApp['register']>[0] = {}) {
    const registered = await this.register(overrides);
    const code = await this.mailbox.nextCode(registered.email, 0);
    const activated = await this.rest('POST', `/users/${encodeURIComponent(registered.email)}/activate`, { auth: PUBLIC_KEY, body: { code } });
    if (activated.status !== 200) throw new Error(`activate failed: ${JSON.stringify(activated.body)}`);
    return registered;
  }

  /** Sends an OTP of the type through the documented path and returns the mailed code. */
  async otp(email: string, type: 'ACTIVATION' | 'TWO_FACTOR_AUTH' | 'CHANGE_PASSWORD'): Promise<string> {
    const before = this.mailbox.countTo(email);
    const sent = await this.rest('POST', `/users/${encodeURIComponent(email)}/otp/${type}`, { auth: PUBLIC_KEY });
    if (sent.status !== 201) throw new Error(`send OTP failed: ${JSON.stringify(sent.body)}`);
    return this.mailbox.nextCode(email, before);
  }

  async login(email: string, password: string, code?: string) {
    return this.rest('POST', '/auth/session', { auth: basic(email, password), ...(code ? { body: { code } } : {}) });
  }
}

/**
 * What the production checks (src/core/production-checks.ts) demand beyond the settings above, for a suite that
 * runs as production: secrets of its own and DATABASE_URL. Admin is off (the test admin key is too weak for them).
 */
function productionSettings(databaseUrl: string): Record<string, string> {
  const secret = () => randomBytes(32).toString('base64url');
  return { DATABASE_URL: databaseUrl, JWT_SECRET: secret(), ENCRYPTION_KEY: secret(), ADMIN_API_KEY: '' };
}

export function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
}
