import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../../src/core/errors';
import { newId } from '../../src/core/ids';
import { testDatabases } from '../helpers/database';
import { ADMIN_KEY, TestApp } from '../helpers/harness';

for (const db of testDatabases()) {
  describe(`credit ledger (${db})`, () => {
    let t: TestApp;
    before(async () => {
      t = await new TestApp(db).start();
    });
    after(() => t.stop());

    const em = () => t.orm.em.fork() as EntityManager;
    const credits = () => t.app.services.credits;
    const grant = (userId: string, amount: number) => credits().adjust(em(), userId, amount, 'test balance');
    const ledger = async (userId: string) =>
      (await em().getConnection().execute('select * from transactions where user_id = ? order by created_at, id', [userId])) as any[];

    test('200 concurrent spends against one balance end exact and never negative', async () => {
      const user = await t.activeUser();
      await grant(user.id, 1000);
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, () => credits().spend(em(), user.id, 7, { kind: 'analysis', reference: newId('task') })),
      );
      const spent = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(spent.length, Math.floor(1000 / 7));
      assert.ok(refused.every((r) => r.reason instanceof DomainError && r.reason.code === 'INSUFFICIENT_CREDITS'), String(refused[0]?.reason));
      const balance = await t.rest('GET', `/users/${user.id}`, { auth: user.token });
      assert.equal(balance.body.data.credits, 1000 - 7 * spent.length);

      // The ledger tells the same story: one row per change, each balance the previous one minus 7.
      const rows = await ledger(user.id);
      assert.equal(rows.length, 1 + spent.length);
      const debits = rows.filter((r) => r.type === 'DEBIT').map((r) => r.balance_after).sort((a, b) => b - a);
      assert.deepEqual(debits, Array.from({ length: spent.length }, (_, i) => 1000 - 7 * (i + 1)));
      assert.ok(rows.every((r) => r.balance_after >= 0));
    });

    test('concurrent credits and debits lose no update', async () => {
      const user = await t.activeUser();
      await grant(user.id, 300);
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          i % 2 ? credits().spend(em(), user.id, 3, { kind: 'analysis', reference: newId('task') }) : grant(user.id, 3),
        ),
      );
      const rows = await ledger(user.id);
      const total = rows.reduce((sum, r) => sum + (r.type === 'CREDIT' ? r.value_in_credits : -r.value_in_credits), 0);
      const [{ credits: balance }] = await em().getConnection().execute('select credits from users where id = ?', [user.id]);
      assert.equal(balance, 300);
      assert.equal(total, balance);
    });

    test('spend and refund are idempotent per reference; a refund never exceeds the charge', async () => {
      const user = await t.activeUser();
      await grant(user.id, 100);
      const task = newId('task');
      const first = await credits().spend(em(), user.id, 20, { kind: 'analysis', reference: task });
      const again = await credits().spend(em(), user.id, 20, { kind: 'analysis', reference: task });
      assert.equal(again.id, first.id);
      assert.equal(first.balanceAfter, 80);
      await assert.rejects(credits().refund(em(), user.id, 21, { reference: task }), (e: DomainError) => e.code === 'BAD_REQUEST');
      await assert.rejects(credits().refund(em(), user.id, 5, { reference: newId('task') }), (e: DomainError) => e.code === 'NOT_FOUND');
      const refunds = await Promise.all(Array.from({ length: 10 }, () => credits().refund(em(), user.id, 20, { reference: task })));
      assert.equal(new Set(refunds.map((r) => r.id)).size, 1);
      assert.equal(refunds[0].type, 'CREDIT');
      assert.equal(refunds[0].kind, 'refund');
      await assert.rejects(credits().spend(em(), user.id, 30, { kind: 'analysis', reference: task }), (e: DomainError) => e.code === 'CONFLICT');
      const rows = await ledger(user.id);
      assert.deepEqual(rows.map((r) => [r.kind, r.type, r.value_in_credits, r.balance_after]), [
        ['admin', 'CREDIT', 100, 100],
        ['analysis', 'DEBIT', 20, 80],
        ['refund', 'CREDIT', 20, 100],
      ]);
      assert.match(rows[1].description, new RegExp(`Spent 20 credits on analysis ${task}`));
    });

    test('a spend beyond the balance is refused with INSUFFICIENT_CREDITS (403) and writes nothing', async () => {
      const user = await t.activeUser();
      await grant(user.id, 10);
      await assert.rejects(credits().spend(em(), user.id, 11, { kind: 'analysis', reference: newId('task') }), (e: DomainError) => e.status === 403);
      await assert.rejects(credits().spend(em(), user.id, 0, { kind: 'analysis', reference: newId('task') }), (e: DomainError) => e.code === 'BAD_REQUEST');
      await assert.rejects(credits().spend(em(), newId('user'), 1, { kind: 'analysis', reference: newId('task') }), (e: DomainError) => e.code === 'NOT_FOUND');
      assert.equal((await ledger(user.id)).length, 1);
    });

    test('admin: adjustCredits needs the bare admin key and writes a ledger row with the reason', async () => {
      const user = await t.activeUser();
      const adjust = 'mutation ($u: ID!, $a: Int!, $r: String!) { adjustCredits(input: { userId: $u, amount: $a, reason: $r }) { transaction { type kind valueInCredits valueInFiat { amount } balanceAfter description } userErrors { code message } } }';
      /** The payload's row, or the first user error as a GraphQL-error-like shape, so each case reads the same. */
      const run = async (variables: Record<string, unknown>, auth: string) => {
        const res = await t.gql(adjust, variables, auth);
        const payload = res.body.data?.adjustCredits;
        const refusal = payload?.userErrors?.[0];
        return { body: { data: { adjustCredits: payload?.transaction }, errors: res.body.errors ?? (refusal ? [{ message: refusal.message, extensions: { code: refusal.code } }] : undefined) } };
      };
      const granted = await run({ u: user.id, a: 10, r: 'welcome bonus' }, ADMIN_KEY);
      assert.equal(granted.body.errors, undefined, JSON.stringify(granted.body.errors));
      assert.deepEqual(granted.body.data.adjustCredits, {
        type: 'CREDIT', kind: 'ADMIN', valueInCredits: 10, valueInFiat: { amount: '0.10' }, balanceAfter: 10, description: 'Admin updated credits from 0 to 10: welcome bonus',
      });
      const removed = await run({ u: user.id, a: -4, r: 'correction' }, ADMIN_KEY);
      assert.equal(removed.body.data.adjustCredits.type, 'DEBIT');
      assert.equal(removed.body.data.adjustCredits.balanceAfter, 6);

      const asUser = await run({ u: user.id, a: 1000, r: 'free money' }, user.token);
      assert.equal(asUser.body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
      const asPublic = await run({ u: user.id, a: 1000, r: 'free money' }, 'test_public_api_key');
      assert.equal(asPublic.body.errors?.[0].extensions.code, 'UNAUTHENTICATED');
      const huge = await run({ u: user.id, a: 2_000_000_000, r: 'too large' }, ADMIN_KEY);
      assert.equal(huge.body.errors?.[0].extensions.code, 'BAD_REQUEST');
      await run({ u: user.id, a: 1_000_000_000, r: 'big' }, ADMIN_KEY);
      const overflow = await run({ u: user.id, a: 1_000_000_000, r: 'bigger' }, ADMIN_KEY);
      assert.equal(overflow.body.errors, undefined);
      const beyond = await run({ u: user.id, a: 1_000_000_000, r: 'beyond the integer range' }, ADMIN_KEY);
      assert.equal(beyond.body.errors?.[0].extensions.code, 'BAD_REQUEST', JSON.stringify(beyond.body));
      for (let i = 0; i < 2; i++) await run({ u: user.id, a: -1_000_000_000, r: 'back' }, ADMIN_KEY);
      const tooMuch = await run({ u: user.id, a: -7, r: 'too much' }, ADMIN_KEY);
      assert.equal(tooMuch.body.errors?.[0].extensions.code, 'INSUFFICIENT_CREDITS');
      const nobody = await run({ u: newId('user'), a: 5, r: 'x' }, ADMIN_KEY);
      assert.equal(nobody.body.errors?.[0].extensions.code, 'NOT_FOUND');
      const zero = await run({ u: user.id, a: 0, r: 'x' }, ADMIN_KEY);
      assert.equal(zero.body.errors?.[0].extensions.code, 'BAD_REQUEST');
      const noReason = await run({ u: user.id, a: 5, r: '  ' }, ADMIN_KEY);
      assert.equal(noReason.body.errors?.[0].extensions.code, 'BAD_REQUEST');
      assert.equal((await t.rest('GET', `/users/${user.id}`, { auth: user.token })).body.data.credits, 6);
    });
  });
}
