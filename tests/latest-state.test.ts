import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { EventBus } from '../src/events/event-bus';
import { followLatest } from '../src/events/latest-state';

/** A followed state whose changes the test announces; counts reads and whether listening stopped. */
function followed(states: number[], isFinal?: (state: number) => boolean) {
  let changed = () => {};
  const probe = { reads: 0, listening: false, announce: () => changed() };
  const stream = followLatest<number>({
    // Never started: only its `resync` listener is used, and never fires here.
    events: new EventBus({ databaseUrl: 'postgresql://unused', log: pino({ level: 'silent' }) }),
    listen(onChange) {
      changed = onChange;
      probe.listening = true;
      return () => (probe.listening = false);
    },
    async read() {
      const state = states[Math.min(probe.reads, states.length - 1)];
      probe.reads++;
      return state ?? null;
    },
    same: (a, b) => a === b,
    isFinal,
  });
  return { stream, probe };
}

describe('following the latest state', () => {
  test('changes announced while the consumer is busy are one read, of the latest state: memory stays bounded', async () => {
    const { stream, probe } = followed([1, 2, 3, 4]);
    const iterator = (await stream)!;
    assert.deepEqual(await iterator.next(), { done: false, value: 1 });
    for (let i = 0; i < 10_000; i++) probe.announce();
    assert.deepEqual(await iterator.next(), { done: false, value: 2 });
    assert.equal(probe.reads, 2, 'ten thousand announcements, one read');
    await iterator.return!();
  });

  test('a read that shows no change emits nothing; the stream waits for the next change', async () => {
    const { stream, probe } = followed([5, 5, 6]);
    const iterator = (await stream)!;
    assert.equal((await iterator.next()).value, 5);
    const next = iterator.next();
    probe.announce();
    await new Promise((resolve) => setImmediate(resolve));
    probe.announce();
    assert.deepEqual(await next, { done: false, value: 6 });
    assert.equal(probe.reads, 3);
    await iterator.return!();
  });

  test('return() ends a pending wait at once and stops listening', async () => {
    const { stream, probe } = followed([1]);
    const iterator = (await stream)!;
    await iterator.next();
    const pending = iterator.next();
    assert.deepEqual(await iterator.return!(), { done: true, value: undefined });
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.equal(probe.listening, false);
  });

  test('the stream ends after a final state, and listening stops', async () => {
    const { stream, probe } = followed([1, 9], (state) => state === 9);
    const iterator = (await stream)!;
    await iterator.next();
    probe.announce();
    assert.deepEqual(await iterator.next(), { done: false, value: 9 });
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
    assert.equal(probe.listening, false);
  });

  test('nothing to follow: null, and nothing is left listening', async () => {
    const { stream, probe } = followed([]);
    assert.equal(await stream, null);
    assert.equal(probe.listening, false);
  });
});
