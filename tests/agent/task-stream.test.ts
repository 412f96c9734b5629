import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grantCredits, postAnalysis } from '../helpers/agent';
import { testDatabases } from '../helpers/database';
import { TestApp } from '../helpers/harness';

/*
 * The SSE task stream waits for the database's change events instead of polling: while the task does not
 * change it reads nothing, and a change made by anyone (here: a statement on the database, as another
 * process would) is sent at once.
 */
for (const db of testDatabases()) {
  describe(`the SSE task stream follows change events (${db})`, () => {
    // No worker: the task stays queued until the test changes it. A keep-alive comment every 500 ms.
    const t = new TestApp(db, { AGENT_WORKER_IN_PROCESS: 'false', CONNECTION_TIMEOUT_MS: '1000' }, { recordQueries: true });
    before(() => t.start());
    after(() => t.stop());

    test('no reads while the task is unchanged; each committed change is sent, the final one ends the stream', async () => {
      const user = await t.activeUser();
      await grantCredits(t, user.id, 20);
      const task = (await postAnalysis(t, user, {}, { prompt: 'Wait for me: 5 oceans.' })).body.data;
      const response = await fetch(`${t.baseUrl}/api/v1/users/${user.id}/tasks/${task.id}/events`, { headers: { authorization: user.token } });
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      let text = '';
      const readUntil = async (condition: () => boolean, what: string) => {
        while (!condition()) {
          const { value, done } = await reader.read();
          if (done) assert.fail(`the stream ended before ${what}: ${text}`);
          text += Buffer.from(value!).toString('utf8');
        }
      };
      const events = () => [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]).status as string);
      const keepAlives = () => (text.match(/^: keep-alive$/gm) ?? []).length;

      await readUntil(() => events().length === 1, 'the first event');
      const mark = t.queries.length;
      await readUntil(() => keepAlives() >= 3, 'three keep-alive comments');
      assert.deepEqual(t.queries.slice(mark).filter((query) => /"tasks"/.test(query)), [], 'the task was not read while nothing changed');

      const setStatus = (status: string) => t.orm.em.getConnection().execute('update tasks set status = ?, updated_at = now() where id = ?', [status, task.id]);
      await setStatus('running');
      await readUntil(() => events().length === 2, 'the running state');
      await setStatus('completed');
      await readUntil(() => events().length === 3, 'the completed state');
      const { done } = await reader.read();
      assert.equal(done, true, 'the stream ends after the final state');
      assert.deepEqual(events(), ['queued', 'running', 'completed']);
    });
  });
}
