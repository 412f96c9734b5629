import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../src/core/config';

const run = promisify(execFile);
const MAIN = join(__dirname, '..', 'src', 'main.js');
const random = () => randomBytes(32).toString('base64url');

describe('production configuration', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clara-production-config-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const production = {
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    JWT_SECRET: random(),
    ENCRYPTION_KEY: random(),
    PUBLIC_API_KEY: `clara_pk_${random()}`,
    DATABASE_URL: 'postgresql://clara@db.internal:5432/clara',
    SMTP_URL: 'smtp://mailer:secret@mail.internal:587',
    STRIPE_SECRET_KEY: 'sk_live_x',
    STRIPE_WEBHOOK_SECRET: 'whsec_x',
  };
  const refused = (overrides: Record<string, string | undefined>, setting: RegExp) =>
    assert.throws(() => loadConfig({ ...production, ...overrides }), (error: Error) => setting.test(error.message), JSON.stringify(overrides));

  test('a complete production configuration starts', () => {
    const config = loadConfig(production);
    assert.equal(config.env, 'production');
    assert.equal(config.trustProxy, false);
    assert.deepEqual(loadConfig({ ...production, TRUST_PROXY: '2' }).trustProxy, 2);
  });

  test('weak or development JWT secrets are refused, naming JWT_SECRET', () => {
    refused({ JWT_SECRET: undefined }, /JWT_SECRET must be set/);
    refused({ JWT_SECRET: 'changeme' }, /JWT_SECRET is a known development/);
    refused({ JWT_SECRET: 'test-jwt-secret-that-is-long-enough-1234567890' }, /JWT_SECRET is a known development/);
    refused({ JWT_SECRET: random().slice(0, 20) }, /JWT_SECRET is too short/);
    refused({ JWT_SECRET: 'ab'.repeat(24) }, /JWT_SECRET is too predictable/);
    refused({ JWT_SECRET: 'passwordpasswordpasswordpassword' }, /JWT_SECRET is too predictable/);
  });

  test('the development public key or a short one is refused, naming PUBLIC_API_KEY', () => {
    refused({ PUBLIC_API_KEY: undefined }, /PUBLIC_API_KEY must be set/);
    refused({ PUBLIC_API_KEY: 'clara_public_dev_key' }, /PUBLIC_API_KEY is a development default/);
    refused({ PUBLIC_API_KEY: 'short-key' }, /PUBLIC_API_KEY is too short/);
    assert.equal(loadConfig({ ...production, PUBLIC_API_KEY: 'clara_ios_app_2026' }).env, 'production', 'not a secret: 16 characters of its own do');
  });

  test('DATABASE_URL, SMTP_URL and an ENCRYPTION_KEY of its own are required', () => {
    refused({ DATABASE_URL: undefined }, /DATABASE_URL must be set/);
    refused({ DATABASE_URL: '' }, /DATABASE_URL must be set/);
    refused({ SMTP_URL: undefined }, /SMTP_URL must be set/);
    refused({ ENCRYPTION_KEY: undefined }, /ENCRYPTION_KEY must be set/);
    refused({ ENCRYPTION_KEY: production.JWT_SECRET }, /ENCRYPTION_KEY must differ from JWT_SECRET/);
    refused({ ENCRYPTION_KEY: 'x'.repeat(40) }, /ENCRYPTION_KEY is too predictable/);
  });

  test('an admin key or a metrics token, when set, must be as strong as a secret', () => {
    refused({ ADMIN_API_KEY: 'test_admin_api_key' }, /ADMIN_API_KEY is a known development/);
    refused({ ADMIN_API_KEY: 'admin-1234' }, /ADMIN_API_KEY is too short/);
    assert.equal(loadConfig({ ...production, ADMIN_API_KEY: random() }).env, 'production');
    refused({ METRICS_TOKEN: 'metrics' }, /METRICS_TOKEN is too short/);
    assert.equal(loadConfig({ ...production, METRICS_TOKEN: random() }).env, 'production');
  });

  test('TRUST_PROXY=true and the local MCP default credentials are refused', () => {
    refused({ TRUST_PROXY: 'true' }, /TRUST_PROXY=true/);
    refused({ MCP_API_KEY_TOKEN: 'key', MCP_USER_ID: 'user_x' }, /MCP_API_KEY_TOKEN/);
  });

  test('every problem is listed at once', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir }), (error: Error) =>
      ['JWT_SECRET', 'PUBLIC_API_KEY', 'ENCRYPTION_KEY', 'DATABASE_URL', 'SMTP_URL', 'STRIPE_SECRET_KEY'].every((name) => error.message.includes(name)));
  });

  test('development keeps its conveniences', () => {
    const config = loadConfig({ DATA_DIR: dataDir, TRUST_PROXY: 'true', MCP_API_KEY_TOKEN: 'key', MCP_USER_ID: 'user_x' });
    assert.equal(config.env, 'development');
    assert.equal(config.trustProxy, true);
    assert.equal(config.publicApiKey, 'clara_public_dev_key');
  });

  test('TRUST_PROXY takes a hop count or proxy addresses/CIDRs; anything else is refused', () => {
    const trustProxy = (value: string) => loadConfig({ DATA_DIR: dataDir, TRUST_PROXY: value }).trustProxy;
    assert.equal(trustProxy('false'), false);
    assert.equal(trustProxy('1'), 1);
    assert.deepEqual(trustProxy('10.0.0.0/8, 127.0.0.1,::1, fd00::/8,loopback'), ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8', 'loopback']);
    for (const bad of ['yes', 'proxy.internal', '10.0.0.0/33', '10.0.0.1/8/1']) assert.throws(() => trustProxy(bad), /TRUST_PROXY/, bad);
  });

  test('the header timeout may not exceed the request timeout', () => {
    assert.throws(() => loadConfig({ DATA_DIR: dataDir, REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '2000' }), /HEADERS_TIMEOUT_MS/);
    const config = loadConfig({ DATA_DIR: dataDir, REQUEST_TIMEOUT_MS: '0', HEADERS_TIMEOUT_MS: '2000' });
    assert.deepEqual([config.requestTimeoutMs, config.headersTimeoutMs], [0, 2000]);
  });

  test('the service itself exits non-zero with a message naming the setting', async () => {
    // Everything else would let it start (the database is unreachable, so without the check it fails differently).
    const env = { ...process.env, ...production, DATABASE_URL: 'postgresql://clara@127.0.0.1:1/clara', JWT_SECRET: 'secret', LOG_LEVEL: 'silent' };
    await assert.rejects(run(process.execPath, [MAIN], { env, timeout: 60_000 }), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /Refusing to start in production/);
      assert.match(error.stderr, /JWT_SECRET is a known development or sample value/);
      return true;
    });
  });
});
