import assert from 'node:assert/strict';

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Checks `condition` every `intervalMs` until it answers something truthy, and answers that; fails the test
 * with `what` (the state waited for) once `timeoutMs` has passed. Bounded, so a state that never comes fails
 * the test instead of hanging it; a function `what` is read only then, so it can tell what was seen last.
 */
export async function until<T>(
  condition: () => T | Promise<T>,
  what: string | (() => string),
  { timeoutMs = 15_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) assert.fail(`${typeof what === 'string' ? what : what()}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
