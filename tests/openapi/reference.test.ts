import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { grantCredits } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { useGoogleIssuer } from '../helpers/google-issuer';
import { basic, PUBLIC_KEY, type HttpResult } from '../helpers/harness';
import { CreditsTestApp } from '../helpers/stripe';

/**
 * The original's published OpenAPI document (read-only, shared/reference): every path and method it lists is
 * in Clara's document, and every status it documents for them is produced by driving the real service and
 * accepted by the reference's own response schema.
 */
const reference = JSON.parse(readFileSync(findReference(join(__dirname, '..', '..', '..')), 'utf8'));

/** shared/ lies beside the repository (a worktree may sit a level deeper): the nearest one above it. */
function findReference(from: string): string {
  const candidate = join(from, '..', 'shared', 'reference', 'flask-boilerplate.openapi.json');
  if (existsSync(candidate)) return candidate;
  if (dirname(from) === from) throw new Error('shared/reference/flask-boilerplate.openapi.json was not found beside the repository');
  return findReference(dirname(from));
}

type Schema = Record<string, any>;
interface ReferenceResponse { schema: Schema | null; mediaType: string | null; example: unknown }

/** OpenAPI 3.0's `nullable` as JSON Schema 2020 (`type: [T, 'null']`), everywhere in a schema. */
function toJsonSchema(schema: any): any {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const { nullable, ...rest } = schema;
  const out: Schema = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, toJsonSchema(value)]));
  if (nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

/**
 * The JSON types of an example, as a schema: for the responses whose schema the reference copied from
 * another path (its own example does not match it), the example is what the original sent.
 */
function schemaOfExample(example: unknown): Schema {
  if (example === null) return { type: 'null' };
  if (Array.isArray(example)) return { type: 'array', items: example.length ? schemaOfExample(example[0]) : {} };
  if (typeof example === 'object') {
    const entries = Object.entries(example as object);
    return { type: 'object', properties: Object.fromEntries(entries.map(([key, value]) => [key, schemaOfExample(value)])), required: entries.map(([key]) => key) };
  }
  return { type: typeof example === 'number' ? 'number' : typeof example };
}

function referenceResponse(method: string, path: string, status: string): ReferenceResponse {
  let response = reference.paths[path][method].responses[status];
  if (response.$ref) response = reference.components.responses[decodeURIComponent(response.$ref.split('/').pop())];
  const content = response.content as Record<string, { schema: Schema; example?: unknown; examples?: Record<string, { value: unknown }> }> | undefined;
  if (!content) return { schema: null, mediaType: null, example: undefined };
  const [mediaType, media] = Object.entries(content)[0];
  const example = media.example ?? Object.values(media.examples ?? {})[0]?.value;
  return { schema: toJsonSchema(media.schema), mediaType, example: typeof example === 'string' ? JSON.parse(example) : example };
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const referenceOperations = Object.entries(reference.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)
  .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, statuses: Object.keys(operation.responses) })));

for (const db of testDatabases()) {
  describe(`the reference OpenAPI document (${db})`, () => {
    let t: CreditsTestApp;
    const google = useGoogleIssuer(async (env) => (t = await CreditsTestApp.start(db, env)));

    test('every path and method of the reference is in Clara\'s document', async () => {
      const ours = (await (await fetch(`${t.baseUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      const missing = referenceOperations.filter(({ path, method }) => !ours.paths[path]?.[method]).map(({ path, method }) => `${method.toUpperCase()} ${path}`);
      assert.deepEqual(missing, []);
      assert.equal(referenceOperations.length, 18, 'the reference lists 18 operations');
    });

    test("the reference's octet-stream answers: JSON; the two whose schema contradicts its own example are held to the example", () => {
      const octet = referenceOperations.flatMap(({ path, method, statuses }) =>
        statuses.map((status) => ({ key: `${method.toUpperCase()} ${path} ${status}`, ...referenceResponse(method, path, status) })).filter((r) => r.mediaType === 'application/octet-stream'));
      assert.ok(octet.length >= 8, 'the reference labels most success answers octet-stream');
      for (const response of octet) assert.ok(response.example !== undefined, `${response.key} has a JSON example`);
      const contradicted = octet.filter((response) => !ajv.validate(response.schema!, response.example)).map((response) => response.key);
      assert.deepEqual(contradicted.sort(), ['POST /stripe/buy 201', 'POST /stripe/portal 201']);
    });

    test("Clara's answer for every documented status of every reference path matches the reference's schema", async () => {
      const user = await t.activeUser();
      const other = await t.activeUser();
      const inactive = await t.register();
      const missingUser = 'user_00000000000000000000000000000000';
      await grantCredits(t, user.id, 10);
      const [transaction] = await t.transactions(user);
      const twoFactor = await t.activeUser();
      const enableCode = await t.otp(twoFactor.email, 'TWO_FACTOR_AUTH');
      assert.equal((await t.rest('POST', `/users/${twoFactor.id}/2fa`, { auth: twoFactor.token, body: { code: enableCode } })).status, 200);
      const email = (address: string) => encodeURIComponent(address);
      const googleToken = await google.idToken({ sub: '4242', email: 'reference.google@example.com', given_name: 'Ref' });

      /** For each documented (method, path, status): a request the real service answers with that status. */
      const scenarios: Record<string, () => Promise<HttpResult>> = {
        'POST /auth/register 201': () => t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body: { first_name: 'Ada', last_name: 'Lovelace', email: 'reference.new@example.com', password: 'correct horse battery' } }),
        'POST /auth/register 400': () => t.rest('POST', '/auth/register', { auth: PUBLIC_KEY, body: { first_name: 'Ada', last_name: 'Lovelace', email: user.email, password: 'correct horse battery' } }),
        'POST /auth/register 401': () => t.rest('POST', '/auth/register', { auth: 'not-the-key', body: { first_name: 'Ada', last_name: 'L', email: 'x@example.com', password: 'correct horse battery' } }),
        'POST /auth/google 201': () => t.rest('POST', '/auth/google', { body: { id_token: googleToken } }),
        'POST /auth/google 400': () => t.rest('POST', '/auth/google', { body: {} }),
        'POST /auth/google 401': () => t.rest('POST', '/auth/google', { body: { id_token: 'not.a.token' } }),
        'POST /auth/session 200': () => t.login(user.email, user.password),
        'POST /auth/session 400': () => t.rest('POST', '/auth/session', { auth: basic(user.email, user.password), body: { code: 123456 } }),
        'POST /auth/session 401': () => t.login(twoFactor.email, twoFactor.password),
        'DELETE /auth/session 204': async () => t.rest('DELETE', '/auth/session', { auth: `Bearer ${(await t.login(other.email, other.password)).body.data.token}` }),
        'DELETE /auth/session 401': () => t.rest('DELETE', '/auth/session'),
        'PATCH /users/{user_email}/password 200': async () => t.rest('PATCH', `/users/${email(other.email)}/password`, { auth: PUBLIC_KEY, body: { password: other.password, code: await t.otp(other.email, 'CHANGE_PASSWORD') } }),
        'PATCH /users/{user_email}/password 400': () => t.rest('PATCH', `/users/${email(user.email)}/password`, { auth: PUBLIC_KEY, body: { password: 'long enough password' } }),
        'PATCH /users/{user_email}/password 401': () => t.rest('PATCH', `/users/${email(user.email)}/password`, { auth: PUBLIC_KEY, body: { password: 'long enough password', code: '000000' } }),
        'PATCH /users/{user_email}/password 404': () => t.rest('PATCH', `/users/${email('nobody.reference@example.com')}/password`, { auth: PUBLIC_KEY, body: { password: 'long enough password', code: '000000' } }),
        'POST /users/{user_email}/otp/{otp_type} 201': () => t.rest('POST', `/users/${email(user.email)}/otp/CHANGE_PASSWORD`, { auth: PUBLIC_KEY }),
        'POST /users/{user_email}/otp/{otp_type} 400': () => t.rest('POST', `/users/${email(user.email)}/otp/NOT_A_TYPE`, { auth: PUBLIC_KEY }),
        'POST /users/{user_email}/otp/{otp_type} 401': () => t.rest('POST', `/users/${email(user.email)}/otp/CHANGE_PASSWORD`),
        'POST /users/{user_email}/otp/{otp_type} 404': () => t.rest('POST', `/users/${email('nobody.reference@example.com')}/otp/ACTIVATION`, { auth: PUBLIC_KEY }),
        'POST /users/{user_email}/activate 200': async () => t.rest('POST', `/users/${email(inactive.email)}/activate`, { auth: PUBLIC_KEY, body: { code: await t.mailbox.nextCode(inactive.email, 0) } }),
        'POST /users/{user_email}/activate 400': () => t.rest('POST', `/users/${email(user.email)}/activate`, { auth: PUBLIC_KEY, body: {} }),
        'POST /users/{user_email}/activate 401': () => t.rest('POST', `/users/${email(user.email)}/activate`, { body: { code: '000000' } }),
        'POST /users/{user_email}/activate 404': () => t.rest('POST', `/users/${email('nobody.reference@example.com')}/activate`, { auth: PUBLIC_KEY, body: { code: '000000' } }),
        'POST /users/{user_id}/2fa 200': async () => t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } }),
        'POST /users/{user_id}/2fa 400': () => t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: {} }),
        'POST /users/{user_id}/2fa 401': () => t.rest('POST', `/users/${user.id}/2fa`, { body: { code: '000000' } }),
        'POST /users/{user_id}/2fa 403': () => t.rest('POST', `/users/${other.id}/2fa`, { auth: user.token, body: { code: '000000' } }),
        'POST /users/{user_id}/2fa 404': () => t.rest('POST', `/users/${missingUser}/2fa`, { auth: user.token, body: { code: '000000' } }),
        'DELETE /users/{user_id}/2fa 204': async () => t.rest('DELETE', `/users/${twoFactor.id}/2fa`, { auth: twoFactor.token, body: { code: await t.otp(twoFactor.email, 'TWO_FACTOR_AUTH') } }),
        'DELETE /users/{user_id}/2fa 400': () => t.rest('DELETE', `/users/${user.id}/2fa`, { auth: user.token, body: {} }),
        'DELETE /users/{user_id}/2fa 401': () => t.rest('DELETE', `/users/${user.id}/2fa`, { body: { code: '000000' } }),
        'DELETE /users/{user_id}/2fa 403': () => t.rest('DELETE', `/users/${other.id}/2fa`, { auth: user.token, body: { code: '000000' } }),
        'DELETE /users/{user_id}/2fa 404': () => t.rest('DELETE', `/users/${missingUser}/2fa`, { auth: user.token, body: { code: '000000' } }),
        'GET /users/{user_id} 200': () => t.rest('GET', `/users/${user.id}`, { auth: user.token }),
        'GET /users/{user_id} 401': () => t.rest('GET', `/users/${user.id}`),
        'GET /users/{user_id} 403': () => t.rest('GET', `/users/${other.id}`, { auth: user.token }),
        'GET /users/{user_id} 404': () => t.rest('GET', `/users/${missingUser}`, { auth: user.token }),
        'PATCH /users/{user_id} 200': () => t.rest('PATCH', `/users/${user.id}`, { auth: user.token, body: { first_name: 'Augusta', last_name: 'King', is_dark_mode: true } }),
        'PATCH /users/{user_id} 400': () => t.rest('PATCH', `/users/${user.id}`, { auth: user.token, body: { credits: 1_000_000 } }),
        'PATCH /users/{user_id} 401': () => t.rest('PATCH', `/users/${user.id}`, { body: { first_name: 'X' } }),
        'PATCH /users/{user_id} 403': () => t.rest('PATCH', `/users/${other.id}`, { auth: user.token, body: { first_name: 'X' } }),
        'PATCH /users/{user_id} 404': () => t.rest('PATCH', `/users/${missingUser}`, { auth: user.token, body: { first_name: 'X' } }),
        'GET /users/{user_id}/transactions 200': () => t.rest('GET', `/users/${user.id}/transactions?limit=10&offset=0`, { auth: user.token }),
        'GET /users/{user_id}/transactions 401': () => t.rest('GET', `/users/${user.id}/transactions`),
        'GET /users/{user_id}/transactions 403': () => t.rest('GET', `/users/${other.id}/transactions`, { auth: user.token }),
        'GET /users/{user_id}/transactions 404': () => t.rest('GET', `/users/${missingUser}/transactions`, { auth: user.token }),
        'GET /users/{user_id}/transactions/{transaction_id} 200': () => t.rest('GET', `/users/${user.id}/transactions/${transaction.id}`, { auth: user.token }),
        'GET /users/{user_id}/transactions/{transaction_id} 401': () => t.rest('GET', `/users/${user.id}/transactions/${transaction.id}`),
        'GET /users/{user_id}/transactions/{transaction_id} 403': () => t.rest('GET', `/users/${other.id}/transactions/${transaction.id}`, { auth: user.token }),
        'GET /users/{user_id}/transactions/{transaction_id} 404': () => t.rest('GET', `/users/${user.id}/transactions/transaction_00000000000000000000000000000000`, { auth: user.token }),
        'GET /stripe/rate 200': () => t.rest('GET', '/stripe/rate', { auth: user.token }),
        'GET /stripe/rate 401': () => t.rest('GET', '/stripe/rate'),
        'POST /stripe/portal 201': async () => {
          await t.buy(user, 5); // the portal needs the Stripe customer a first purchase creates
          return t.rest('POST', '/stripe/portal', { auth: user.token, body: { return_path: '/billing' } });
        },
        'POST /stripe/portal 400': () => t.rest('POST', '/stripe/portal', { auth: user.token, body: { return_path: 42 } }),
        'POST /stripe/portal 401': () => t.rest('POST', '/stripe/portal', { body: {} }),
        'POST /stripe/buy 201': () => t.rest('POST', '/stripe/buy', { auth: user.token, body: { amount: 5, return_path: '/billing' } }),
        'POST /stripe/buy 400': () => t.rest('POST', '/stripe/buy', { auth: user.token, body: { amount: 'five' } }),
        'POST /stripe/buy 401': () => t.rest('POST', '/stripe/buy', { body: { amount: 5 } }),
        'POST /stripe/buy 404': () => t.rest('POST', '/stripe/buy', { auth: user.token, body: { amount: 1 } }),
        'GET /health 200': () => t.rest('GET', '/health'),
        'GET /version 200': () => t.rest('GET', '/version'),
      };

      const documented = referenceOperations.flatMap(({ path, method, statuses }) => statuses.map((status) => `${method.toUpperCase()} ${path} ${status}`));
      assert.deepEqual(Object.keys(scenarios).sort(), documented.sort(), 'one scenario for each documented status');

      for (const [key, run] of Object.entries(scenarios)) {
        const [method, path, status] = key.split(' ');
        const answer = await run();
        assert.equal(answer.status, Number(status), `${key}: ${JSON.stringify(answer.body)}`);
        const expected = referenceResponse(method.toLowerCase(), path, status);
        if (!expected.schema) {
          assert.equal(answer.body, null, `${key}: no body`);
          continue;
        }
        // Clara labels its JSON as JSON, where the reference says octet-stream for the same bodies.
        assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, key);
        const schema = expected.example === undefined || ajv.validate(expected.schema, expected.example) ? expected.schema : schemaOfExample(expected.example);
        assert.ok(ajv.validate(schema, answer.body), `${key}: ${ajv.errorsText()}\n${JSON.stringify(answer.body)}`);
      }
    });
  });
}
