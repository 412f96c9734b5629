import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';
import { RestContract } from '../helpers/openapi-contract';

type Operation = { security?: Record<string, string[]>[]; responses: Record<string, unknown> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, Record<string, string>> } };

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
const operationsOf = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).filter(([method]) => METHODS.has(method)).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, operation })));

for (const db of testDatabases()) {
  describe(`OpenAPI document and docs page (${db})`, () => {
    let t: TestApp;
    let document: Document;
    before(async () => {
      t = await new TestApp(db).start();
      const response = await fetch(`${t.baseUrl}/api/v1/openapi.json`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      document = (await response.json()) as Document;
    });
    after(() => t.stop());

    test('is OpenAPI 3.1 and passes the swagger-parser validation (lint)', async () => {
      assert.equal(document.openapi, '3.1.0');
      await SwaggerParser.validate(structuredClone(document) as never);
      assert.ok(operationsOf(document).length >= 30, `${operationsOf(document).length} operations`);
    });

    test('declares the five credentials, and each operation lists only declared ones', () => {
      const schemes = document.components.securitySchemes;
      assert.deepEqual(schemes.publicKey, { ...schemes.publicKey, type: 'apiKey', in: 'header', name: 'Authorization' });
      assert.deepEqual(schemes.adminKey, { ...schemes.adminKey, type: 'apiKey', in: 'header', name: 'Authorization' });
      assert.deepEqual(schemes.userToken, { ...schemes.userToken, type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
      assert.deepEqual(schemes.apiKey, { ...schemes.apiKey, type: 'http', scheme: 'bearer' });
      assert.deepEqual(schemes.basicAuth, { ...schemes.basicAuth, type: 'http', scheme: 'basic' });
      for (const { key, operation } of operationsOf(document)) {
        assert.ok(operation.security?.length, `${key} lists the credentials it accepts`);
        for (const requirement of operation.security) for (const name of Object.keys(requirement)) assert.ok(schemes[name], `${key}: ${name} is declared`);
      }
      const accepted = (key: string) => operationsOf(document).find((op) => op.key === key)!.operation.security!.map((requirement) => Object.keys(requirement)[0] ?? 'none');
      assert.deepEqual(accepted('POST /auth/session'), ['basicAuth']);
      assert.deepEqual(accepted('POST /auth/register'), ['publicKey']);
      assert.deepEqual(accepted('GET /users/{user_id}'), ['userToken', 'apiKey']);
      assert.deepEqual(accepted('POST /users/{user_id}/api_key'), ['userToken']);
      assert.deepEqual(accepted('GET /users/{user_id}/security_log'), ['userToken', 'adminKey']);
      assert.deepEqual(accepted('GET /health'), ['none']);
    });

    test('the docs page loads only this server\'s assets, under a CSP that allows nothing else', async () => {
      const page = await fetch(`${t.baseUrl}/api/v1/docs`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const html = await page.text();
      assert.doesNotMatch(html, /https?:|\/\/[a-z]/i, 'no absolute or protocol-relative URL in the page');
      const assets = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
      assert.ok(assets.length >= 1, 'the page loads its script');
      for (const asset of assets) {
        const response = await fetch(new URL(asset, page.url));
        assert.equal(response.status, 200, asset);
        assert.ok((await response.arrayBuffer()).byteLength > 100_000, `${asset} is the bundled reference`);
      }

      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /https?:|\*|'unsafe-eval'/);
      const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1] ?? '';
      assert.doesNotMatch(scriptSrc, /'unsafe-inline'/);
      for (const [, inline] of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
        assert.ok(scriptSrc.includes(`'sha256-${createHash('sha256').update(inline).digest('base64')}'`), 'the inline start script is allowed by its hash');
      }
      assert.match(html, /"url": "\/api\/v1\/openapi\.json"/, 'the page reads the document this server serves');
    });

    test('the contract the harness applies to every REST answer refuses what the document does not say', () => {
      const contract = new RestContract(document as never);
      const user = { id: 'user_31e827070dcf44198ec11a9112a9a572', first_name: 'Ada', last_name: null, email: 'a@example.com', credits: 0, is_active: true, is_2fa_enabled: false, is_dark_mode: false, created_at: 'Thu, 27 Nov 2025 00:39:09 GMT', updated_at: 'Thu, 27 Nov 2025 00:39:09 GMT' };
      const answer = (status: number, body: unknown, path = `/users/${user.id}`, method = 'GET') => contract.problem({ method, path, status, contentType: 'application/json; charset=utf-8', body });
      assert.equal(answer(200, { data: user, message: 'User fetched successfully.', status: 'success' }), null);
      assert.match(answer(200, { data: { ...user, password_hash: 'x' }, message: 'ok', status: 'success' })!, /does not match/, 'an undocumented field');
      assert.match(answer(200, { data: { ...user, created_at: '2025-11-27T00:39:09Z' }, message: 'ok', status: 'success' })!, /does not match/, 'an ISO date where RFC 1123 is documented');
      assert.match(answer(500, { data: null, message: 'Internal server error.', status: 'error' })!, /not documented/, 'an undocumented status');
      assert.match(answer(403, { data: { secret: 1 }, message: 'no', status: 'error' })!, /does not match/, 'error data that status does not carry');
      assert.equal(answer(401, { data: { is_2fa_enabled: true }, message: 'code', status: 'error' }, '/auth/session', 'POST'), null);
      assert.equal(answer(204, null, '/auth/session', 'DELETE'), null);
      assert.match(answer(204, { data: null }, '/auth/session', 'DELETE')!, /without a body/);
      assert.equal(answer(404, { data: null, message: 'The requested URL was not found.', status: 'error' }, '/no/such/path'), null);
      assert.match(answer(200, { data: null, message: 'ok', status: 'success' }, '/no/such/path')!, /not in the OpenAPI document/);
      assert.match(answer(200, { data: null, message: 'ok', status: 'success' }, '/health', 'PUT')!, /not in the OpenAPI document/);
    });
  });
}
