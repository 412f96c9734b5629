import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { generate } from 'otplib';
import { testDatabases } from '../helpers/database';
import { useGoogleIssuer } from '../helpers/google-issuer';
import { ADMIN_KEY, basic, TestApp } from '../helpers/harness';

/*
 * Sessions (list, revoke one / others / all), the per-user security log and the security notice mails,
 * over REST and GraphQL, as the account's owner, another user, an API key and the admin key.
 */

const sessionIdOf = (auth: string) => (jwt.decode(auth.slice('Bearer clara_user_'.length)) as jwt.JwtPayload).sid as string;

const LOG_FIELDS = 'id kind createdAt ip userAgent detail { method reason scope count }';

for (const db of testDatabases()) {
  describe(`sessions, security log and security mails (${db})`, () => {
    let t: TestApp;
    const google = useGoogleIssuer(async (env) => (t = await new TestApp(db, env).start()));

    /** GraphQL with a chosen user agent (the harness's gql sends Node's default). */
    const gql = async (query: string, variables: Record<string, unknown>, auth: string, userAgent = 'clara-tests') => {
      const response = await fetch(`${t.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth, 'user-agent': userAgent },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: any; errors?: { message: string; extensions?: any }[] };
    };
    const loginAs = async (email: string, password: string, userAgent: string, code?: string) => {
      const res = await t.rest('POST', '/auth/session', { auth: basic(email, password), headers: { 'user-agent': userAgent }, ...(code ? { body: { code } } : {}) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return `Bearer ${res.body.data.token}`;
    };
    const works = async (userId: string, auth: string) => (await t.rest('GET', `/users/${userId}`, { auth })).status;
    const restLog = async (userId: string, auth: string, query = '') => t.rest('GET', `/users/${userId}/security_log${query}`, { auth });
    const db$ = () => t.orm.em.fork().getConnection();

    test('the session list shows when, where and with what each session signed in, and marks the current one', async () => {
      const user = await t.activeUser();
      const phone = await loginAs(user.email, user.password, 'Phone/1.0');
      const laptop = await loginAs(user.email, user.password, 'Laptop/2.0 (X11)');
      const res = await t.rest('GET', `/users/${user.id}/sessions`, { auth: phone });
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'success');
      const sessions: any[] = res.body.data;
      assert.equal(sessions.length, 3, 'the registration session and two logins');
      const byId = new Map(sessions.map((s) => [s.id, s]));
      const mine = byId.get(sessionIdOf(phone));
      assert.deepEqual(Object.keys(mine).sort(), ['created_at', 'current', 'expires_at', 'id', 'ip', 'last_used_at', 'user_agent']);
      assert.equal(mine.current, true);
      assert.equal(mine.user_agent, 'Phone/1.0');
      assert.equal(mine.ip, '127.0.0.1');
      assert.match(mine.created_at, /GMT$/);
      assert.ok(mine.last_used_at, 'a new session counts as used');
      assert.equal(byId.get(sessionIdOf(laptop)).user_agent, 'Laptop/2.0 (X11)');
      assert.equal(sessions.filter((s) => s.current).length, 1);
      // GraphQL marks the session of whoever asks.
      const viaGql = await gql('{ viewer { sessions { id current userAgent ip createdAt lastUsedAt expiresAt } } }', {}, laptop);
      const current = viaGql.data.viewer.sessions.filter((s: any) => s.current);
      assert.deepEqual(current.map((s: any) => s.id), [sessionIdOf(laptop)]);
    });

    test('"last used" is written at most once per interval, not on every request', async () => {
      const user = await t.activeUser();
      const auth = await loginAs(user.email, user.password, 'Touch/1.0');
      const sid = sessionIdOf(auth);
      const lastUsed = async () => Number((await db$().execute(`select (extract(epoch from last_used_at) * 1000)::float8 as ms from sessions where id = '${sid}'`))[0].ms);
      // Older than the interval (300 s by default): the next request refreshes it.
      await db$().execute(`update sessions set last_used_at = now() - interval '10 minutes' where id = '${sid}'`);
      const stale = await lastUsed();
      assert.equal(await works(user.id, auth), 200);
      const refreshed = await lastUsed();
      assert.ok(refreshed > stale + 9 * 60_000, 'a stale last use is refreshed');
      // Within the interval: requests leave it alone (no write).
      await db$().execute(`update sessions set last_used_at = now() - interval '1 minute' where id = '${sid}'`);
      const recent = await lastUsed();
      assert.equal(await works(user.id, auth), 200);
      assert.equal(await works(user.id, auth), 200);
      assert.equal(await lastUsed(), recent, 'a recent last use is not written again');
    });

    test('revoking one session refuses its token at once; the others keep working; again is 404', async () => {
      const user = await t.activeUser();
      const keep = await loginAs(user.email, user.password, 'Keep/1.0');
      const stolen = await loginAs(user.email, user.password, 'Stolen/1.0');
      assert.equal(await works(user.id, stolen), 200);
      const out = await t.rest('DELETE', `/users/${user.id}/sessions/${sessionIdOf(stolen)}`, { auth: keep });
      assert.equal(out.status, 204);
      assert.equal(out.body, null);
      const refused = await t.rest('GET', `/users/${user.id}`, { auth: stolen });
      assert.equal(refused.status, 401);
      assert.deepEqual(Object.keys(refused.body).sort(), ['data', 'message', 'request_id', 'status']);
      assert.equal(await works(user.id, keep), 200);
      assert.equal((await t.rest('DELETE', `/users/${user.id}/sessions/${sessionIdOf(stolen)}`, { auth: keep })).status, 404, 'already ended');
      assert.equal((await t.rest('DELETE', `/users/${user.id}/sessions/not-a-session-id`, { auth: keep })).status, 404);
      const listed = (await t.rest('GET', `/users/${user.id}/sessions`, { auth: keep })).body.data.map((s: any) => s.id);
      assert.ok(!listed.includes(sessionIdOf(stolen)), 'an ended session is not listed');
      // GraphQL: the same through revokeSession.
      const third = await loginAs(user.email, user.password, 'Third/1.0');
      const viaGql = await gql('mutation ($s: ID!) { revokeSession(input: { sessionId: $s }) { done userErrors { code } } }', { s: sessionIdOf(third) }, keep);
      assert.deepEqual(viaGql.data.revokeSession, { done: true, userErrors: [] });
      assert.equal(await works(user.id, third), 401);
    });

    test('revoking all other sessions keeps the caller signed in; revoking all ends the caller too', async () => {
      const user = await t.activeUser();
      const a = await loginAs(user.email, user.password, 'A/1.0');
      const b = await loginAs(user.email, user.password, 'B/1.0');
      const c = await loginAs(user.email, user.password, 'C/1.0');
      const others = await t.rest('DELETE', `/users/${user.id}/sessions?scope=others`, { auth: a });
      assert.equal(others.status, 200);
      assert.deepEqual(others.body.data, { revoked: 3 }, 'b, c and the registration session');
      assert.equal(await works(user.id, b), 401);
      assert.equal(await works(user.id, c), 401);
      assert.equal(await works(user.id, user.token), 401);
      assert.equal(await works(user.id, a), 200);
      const d = await loginAs(user.email, user.password, 'D/1.0');
      const viaGql = await gql('mutation { revokeSessions(input: { scope: ALL }) { revokedCount } }', {}, d);
      assert.equal(viaGql.data.revokeSessions.revokedCount, 2);
      assert.equal(await works(user.id, a), 401);
      assert.equal(await works(user.id, d), 401, 'the caller itself is signed out by ALL');
      const e = await loginAs(user.email, user.password, 'E/1.0');
      const all = await t.rest('DELETE', `/users/${user.id}/sessions?scope=all`, { auth: e });
      assert.deepEqual([all.status, all.body.data], [200, { revoked: 1 }]);
      assert.equal(await works(user.id, e), 401);
    });

    test('a scope is required and must be others or all', async () => {
      const user = await t.activeUser();
      for (const query of ['', '?scope=', '?scope=everyone', '?scope=others&extra=1']) {
        const res = await t.rest('DELETE', `/users/${user.id}/sessions${query}`, { auth: user.token });
        assert.equal(res.status, 400, query);
        assert.equal(res.body.status, 'error');
      }
      assert.equal(await works(user.id, user.token), 200, 'nothing was revoked');
    });

    test("another user's session id is 404 and that session keeps working; another user's path is 403", async () => {
      const victim = await t.activeUser();
      const attacker = await t.activeUser();
      const victimSession = sessionIdOf(victim.token);
      const res = await t.rest('DELETE', `/users/${attacker.id}/sessions/${victimSession}`, { auth: attacker.token });
      assert.equal(res.status, 404);
      assert.doesNotMatch(JSON.stringify(res.body), new RegExp(victim.id));
      const viaGql = await gql('mutation ($s: ID!) { revokeSession(input: { sessionId: $s }) { done userErrors { code } } }', { s: victimSession }, attacker.token);
      assert.deepEqual(viaGql.data.revokeSession, { done: null, userErrors: [{ code: 'NOT_FOUND' }] });
      assert.equal(await works(victim.id, victim.token), 200, "the victim's session was not ended");
      assert.equal((await t.rest('GET', `/users/${victim.id}/sessions`, { auth: attacker.token })).status, 403);
      assert.equal((await t.rest('DELETE', `/users/${victim.id}/sessions/${victimSession}`, { auth: attacker.token })).status, 403);
      assert.equal((await t.rest('DELETE', `/users/${victim.id}/sessions?scope=all`, { auth: attacker.token })).status, 403);
      assert.equal(await works(victim.id, victim.token), 200);
    });

    test('an API key cannot list or revoke sessions (403), nor read the security log', async () => {
      const user = await t.activeUser();
      const key = `Bearer ${(await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token })).body.data.token}`;
      assert.equal((await t.rest('GET', `/users/${user.id}/sessions`, { auth: key })).status, 403);
      assert.equal((await t.rest('DELETE', `/users/${user.id}/sessions/${sessionIdOf(user.token)}`, { auth: key })).status, 403);
      assert.equal((await t.rest('DELETE', `/users/${user.id}/sessions?scope=all`, { auth: key })).status, 403);
      assert.equal((await restLog(user.id, key)).status, 403);
      const viaGql = await gql('{ viewer { sessions { id } } }', {}, key);
      assert.equal(viaGql.errors?.[0].extensions.code, 'FORBIDDEN');
      assert.equal(await works(user.id, user.token), 200);
      assert.equal((await t.rest('GET', `/users/${user.id}/sessions`)).status, 401, 'no credentials');
    });

    test('every kind of event is logged with time, IP, user agent and detail, and the sensitive ones are mailed', async () => {
      const user = await t.activeUser();
      const mails = () => t.mailbox.received.filter((m) => m.to === user.email).map((m) => m.subject);
      const ua = 'Security/1.0';
      // Sign-ins: a wrong password, a right one.
      assert.equal((await t.rest('POST', '/auth/session', { auth: basic(user.email, 'wrong password'), headers: { 'user-agent': 'Attacker/6.6' } })).status, 401);
      const auth = await loginAs(user.email, user.password, ua);
      // 2FA on; a wrong code at sign-in; a right one.
      const enable = await t.rest('POST', `/users/${user.id}/2fa`, { auth, headers: { 'user-agent': ua }, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      assert.equal(enable.status, 200);
      const wrongCode = await t.rest('POST', '/auth/session', { auth: basic(user.email, user.password), headers: { 'user-agent': 'Attacker/6.6' }, body: { code: '000000' } });
      assert.equal(wrongCode.status, 401);
      const withCode = await loginAs(user.email, user.password, ua, await t.otp(user.email, 'TWO_FACTOR_AUTH'));
      // 2FA off: mailed.
      let before = t.mailbox.countTo(user.email);
      const disable = await t.rest('DELETE', `/users/${user.id}/2fa`, { auth: withCode, headers: { 'user-agent': ua }, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      assert.equal(disable.status, 204);
      assert.match((await t.mailbox.nextMail(user.email, before + 1)).subject, /Two-factor authentication was turned off/);
      // A new API key: mailed.
      before = t.mailbox.countTo(user.email);
      assert.equal((await t.rest('POST', `/users/${user.id}/api_key`, { auth, headers: { 'user-agent': ua } })).status, 201);
      const keyMail = await t.mailbox.nextMail(user.email, before);
      assert.match(keyMail.subject, /A new API key was created/);
      assert.match(keyMail.text, /From IP address: 127\.0\.0\.1/, 'the mail says from where');
      assert.doesNotMatch(keyMail.text, /Security\/1\.0/, 'but not the client-chosen user agent');
      // A session revoked.
      assert.equal((await t.rest('DELETE', `/users/${user.id}/sessions/${sessionIdOf(withCode)}`, { auth, headers: { 'user-agent': ua } })).status, 204);
      // The password changed while signed in: other sessions end; mailed.
      before = t.mailbox.countTo(user.email);
      const code = await t.otp(user.email, 'CHANGE_PASSWORD');
      const changed = await t.rest('PATCH', `/users/${encodeURIComponent(user.email)}/password`, { auth, headers: { 'user-agent': ua }, body: { password: 'a brand new password', code } });
      assert.equal(changed.status, 200);
      assert.match((await t.mailbox.nextMail(user.email, before + 1)).subject, /Your password was changed/);
      // Google linked to the account: mailed.
      before = t.mailbox.countTo(user.email);
      const linked = await t.rest('POST', '/auth/google', { headers: { 'user-agent': 'Google/1.0' }, body: { id_token: await google.idToken({ sub: `g-${user.id}`, email: user.email, name: 'Ada' }) } });
      assert.equal(linked.status, 201);
      assert.match((await t.mailbox.nextMail(user.email, before)).subject, /Google sign-in was linked/);
      assert.equal(mails().filter((s) => /turned off|API key|password was changed|Google/.test(s)).length, 4, 'one mail per sensitive change');

      const res = await restLog(user.id, auth, '?limit=100');
      assert.equal(res.status, 200);
      assert.equal(res.body.message, 'Security log fetched successfully.');
      const log: any[] = res.body.data;
      const find = (kind: string, detail: Record<string, unknown> = {}) =>
        log.find((e) => e.kind === kind && Object.entries(detail).every(([k, v]) => e.detail[k] === v));
      const expected: [string, Record<string, unknown>, string][] = [
        ['SIGN_IN_FAILED', { reason: 'wrong_password' }, 'Attacker/6.6'],
        ['SIGN_IN', { method: 'password' }, ua],
        ['TWO_FACTOR_ENABLED', { method: 'email' }, ua],
        ['SIGN_IN_FAILED', { reason: 'wrong_code' }, 'Attacker/6.6'],
        ['TWO_FACTOR_DISABLED', { method: 'email' }, ua],
        ['API_KEY_RESET', { reason: 'user_request' }, ua],
        ['SESSIONS_REVOKED', { scope: 'one', reason: 'user_request', count: 1 }, ua],
        ['PASSWORD_CHANGED', { reason: 'user_request' }, ua],
        ['SESSIONS_REVOKED', { scope: 'others', reason: 'password_changed', count: 1 }, ua],
        ['GOOGLE_LINKED', {}, 'Google/1.0'],
        ['SIGN_IN', { method: 'google' }, 'Google/1.0'],
      ];
      for (const [kind, detail, agent] of expected) {
        const entry = find(kind, detail);
        assert.ok(entry, `${kind} ${JSON.stringify(detail)} is logged: ${JSON.stringify(log)}`);
        assert.equal(entry.user_agent, agent, kind);
        assert.equal(entry.ip, '127.0.0.1', kind);
        assert.match(entry.created_at, /GMT$/);
        assert.match(entry.id, /^security_event_[0-9a-f]{32}$/);
      }
      assert.equal(log.filter((e) => e.kind === 'SIGN_IN_FAILED').length, 2);
      assert.deepEqual(Object.keys(log[0]).sort(), ['created_at', 'detail', 'id', 'ip', 'kind', 'user_agent']);
      const times = log.map((e) => Date.parse(e.created_at));
      assert.deepEqual(times, [...times].sort((x, y) => y - x), 'newest first');

      // GraphQL shows the same log.
      const viaGql = await gql(`query ($u: ID!) { userSecurityLog(userId: $u, first: 100) { edges { node { ${LOG_FIELDS} } } } }`, { u: user.id }, auth);
      assert.deepEqual(viaGql.data.userSecurityLog.edges.map((e: any) => e.node.id), log.map((e) => e.id));
      const failed = viaGql.data.userSecurityLog.edges.find((e: any) => e.node.detail.reason === 'wrong_code').node;
      assert.deepEqual(failed.detail, { method: null, reason: 'wrong_code', scope: null, count: null });
    });

    test('authenticator-app 2FA turned on and off is logged as totp, and turning it off is mailed', async () => {
      const user = await t.activeUser();
      const setup = await t.rest('POST', `/users/${user.id}/2fa/totp`, { auth: user.token, body: { code: await t.otp(user.email, 'TWO_FACTOR_AUTH') } });
      const { secret } = setup.body.data;
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa/totp/confirm`, { auth: user.token, body: { code: await generate({ secret }) } })).status, 200);
      const before = t.mailbox.countTo(user.email);
      // The next time step's code: the confirming one is used up.
      const off = await t.rest('DELETE', `/users/${user.id}/2fa`, { auth: user.token, body: { code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }) } });
      assert.equal(off.status, 204);
      assert.match((await t.mailbox.nextMail(user.email, before)).subject, /Two-factor authentication was turned off/);
      const log = (await restLog(user.id, user.token)).body.data.map((e: any) => `${e.kind}:${e.detail.method}`);
      assert.deepEqual(log.filter((k: string) => k.startsWith('TWO_FACTOR')).sort(), ['TWO_FACTOR_DISABLED:totp', 'TWO_FACTOR_ENABLED:totp']);
    });

    test('an entry is written with its change or not at all: a refused change leaves no entry', async () => {
      const user = await t.activeUser();
      const count = async () => Number((await db$().execute(`select count(*) as n from security_events where user_id = '${user.id}'`))[0].n);
      const start = await count();
      await t.otp(user.email, 'CHANGE_PASSWORD');
      const wrong = await t.rest('PATCH', `/users/${encodeURIComponent(user.email)}/password`, { auth: user.token, body: { password: 'another new password', code: '000000' } });
      assert.equal(wrong.status, 401);
      assert.equal((await t.rest('POST', `/users/${user.id}/2fa`, { auth: user.token, body: { code: '000000' } })).status, 401);
      assert.equal(await count(), start, 'no PASSWORD_CHANGED or TWO_FACTOR_ENABLED for refused changes');
      assert.equal((await t.login('nobody-here@example.com', 'whatever1')).status, 401);
      assert.equal(await count(), start);
    });

    test('the log pages by cursor (GraphQL) and by limit/offset (REST), newest first, with nothing lost or repeated', async () => {
      const user = await t.activeUser();
      for (let i = 0; i < 4; i++) await loginAs(user.email, user.password, `Pager/${i}`);
      for (let i = 0; i < 3; i++) await t.rest('POST', '/auth/session', { auth: basic(user.email, `wrong-${i}-password`) });
      const all = (await restLog(user.id, user.token, '?limit=100')).body.data.map((e: any) => e.id);
      assert.equal(all.length, 7);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (;;) {
        const page: any = await gql(`query ($a: String) { viewer { securityLog(first: 3, after: $a) { edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } } }`, { a: cursor }, user.token);
        const { edges, pageInfo } = page.data.viewer.securityLog;
        seen.push(...edges.map((e: any) => e.node.id));
        assert.ok(edges.length <= 3);
        if (!pageInfo.hasNextPage) break;
        cursor = pageInfo.endCursor;
      }
      assert.deepEqual(seen, all, 'the cursor pages are the REST order, complete');
      const offsetPages = [...(await restLog(user.id, user.token, '?limit=3&offset=0')).body.data, ...(await restLog(user.id, user.token, '?limit=3&offset=3')).body.data, ...(await restLog(user.id, user.token, '?limit=3&offset=6')).body.data];
      assert.deepEqual(offsetPages.map((e: any) => e.id), all);
      assert.equal((await restLog(user.id, user.token, '?limit=0')).status, 400);
      assert.equal((await restLog(user.id, user.token, '?limit=101')).status, 400);
      assert.equal((await restLog(user.id, user.token, '?offset=-1')).status, 400);
      const badCursor = await gql('query ($u: ID!) { userSecurityLog(userId: $u, after: "bm90LWEtY3Vyc29y") { edges { cursor } } }', { u: user.id }, user.token);
      assert.equal(badCursor.errors?.[0].extensions.code, 'BAD_REQUEST');
    });

    test("the admin key reads anyone's log (GraphQL); another user's log is refused; unknown users are 404", async () => {
      const owner = await t.activeUser();
      const other = await t.activeUser();
      await t.rest('POST', '/auth/session', { auth: basic(owner.email, 'not the password') });
      const asAdmin = await gql(`query ($u: ID!) { userSecurityLog(userId: $u) { edges { node { ${LOG_FIELDS} } } } }`, { u: owner.id }, ADMIN_KEY);
      assert.equal(asAdmin.errors, undefined);
      assert.deepEqual(asAdmin.data.userSecurityLog.edges.map((e: any) => e.node.kind), ['SIGN_IN_FAILED']);
      assert.deepEqual((await restLog(owner.id, ADMIN_KEY)).body.data.map((e: any) => e.kind), ['SIGN_IN_FAILED'], 'the REST path too');
      const unknown = await gql('query ($u: ID!) { userSecurityLog(userId: $u) { edges { cursor } } }', { u: `user_${'0'.repeat(32)}` }, ADMIN_KEY);
      assert.equal(unknown.errors?.[0].extensions.code, 'NOT_FOUND');
      const snoop = await restLog(owner.id, other.token);
      assert.equal(snoop.status, 403);
      assert.doesNotMatch(JSON.stringify(snoop.body), /SIGN_IN/);
      const snoopGql = await gql('query ($u: ID!) { userSecurityLog(userId: $u) { edges { node { kind } } } }', { u: owner.id }, other.token);
      assert.equal(snoopGql.errors?.[0].extensions.code, 'FORBIDDEN');
      assert.equal(snoopGql.data, null);
      assert.equal((await restLog(owner.id, 'not-a-key')).status, 401);
    });

    test('a forgotten-password reset (public key) ends every session, replaces the API key and logs both', async () => {
      const user = await t.activeUser();
      const code = await t.otp(user.email, 'CHANGE_PASSWORD');
      const before = t.mailbox.countTo(user.email);
      const reset = await t.rest('PATCH', `/users/${encodeURIComponent(user.email)}/password`, { auth: 'test_public_api_key', body: { password: 'recovered password', code } });
      assert.equal(reset.status, 200);
      assert.match((await t.mailbox.nextMail(user.email, before)).subject, /Your password was changed/);
      assert.equal(await works(user.id, user.token), 401);
      const auth = await loginAs(user.email, 'recovered password', 'Recovered/1.0');
      const kinds = (await restLog(user.id, auth)).body.data.map((e: any) => `${e.kind}:${e.detail.reason ?? ''}:${e.detail.scope ?? ''}`);
      for (const kind of ['PASSWORD_CHANGED:password_reset:', 'SESSIONS_REVOKED:password_changed:all', 'API_KEY_RESET:password_reset:']) assert.ok(kinds.includes(kind), `${kind} in ${kinds}`);
    });
  });
}
