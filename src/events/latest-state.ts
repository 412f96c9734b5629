import type { EventBus } from './event-bus';

/**
 * A coalescing wake-up: any number of notify() calls between two waits count as one. A follower that reads
 * slowly therefore holds one pending flag, never a queue of events: only the latest state matters.
 */
export class ChangeSignal {
  private pending = false;
  private closed = false;
  private wake?: () => void;

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Ends every wait (at once and from now on) with `false`. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True at a change (at once when one came since the last wait); false after `timeoutMs` or once closed. */
  async wait(timeoutMs?: number): Promise<boolean> {
    if (!this.pending && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = timeoutMs === undefined ? undefined : setTimeout(resolve, timeoutMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    if (this.closed) return false;
    const changed = this.pending;
    this.pending = false;
    return changed;
  }
}

export interface FollowOptions<T> {
  /** Where changes are heard; after its reconnection (`resync`) the state is read again too. */
  events: EventBus;
  /** Starts listening for the changes of this state (call `changed` on each); answers the function that stops. */
  listen(changed: () => void): () => void;
  /** The current state, read again after each change; null when it is gone. */
  read(): Promise<T | null>;
  /** Two reads show the same state: nothing is emitted. */
  same(previous: T, next: T): boolean;
  /** After a final state nothing changes any more: the stream ends once it is emitted. */
  isFinal?(state: T): boolean;
}

/**
 * Follows one piece of state: listens first, then reads it, so no change between the two is missed. Null when
 * the first read finds nothing. The stream emits the current state at once, then the state after each change
 * (changes that come while the consumer is busy coalesce into one read), and ends after a final state, when
 * the state is gone, or when the consumer returns (which also ends a pending wait at once).
 */
export async function followLatest<T>(options: FollowOptions<T>): Promise<AsyncIterableIterator<T> | null> {
  const signal = new ChangeSignal();
  const stopListening = options.listen(() => signal.notify());
  const stopResync = options.events.on('resync', () => signal.notify());
  const stop = () => {
    stopListening();
    stopResync();
  };
  let first: T | null;
  try {
    first = await options.read();
  } catch (error) {
    stop();
    throw error;
  }
  if (first === null) {
    stop();
    return null;
  }
  let last: T | undefined;
  let done = false;
  const finish = (): IteratorReturnResult<undefined> => {
    if (!done) {
      done = true;
      signal.close();
      stop();
    }
    return { done: true, value: undefined };
  };
  const emit = (state: T): IteratorYieldResult<T> => {
    last = state;
    return { done: false, value: state };
  };
  const stream: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => stream,
    async next() {
      if (done) return finish();
      if (last === undefined) return emit(first!);
      while (!(options.isFinal?.(last) ?? false)) {
        if (!(await signal.wait())) return finish();
        const state = await options.read().catch((error: unknown) => {
          finish();
          throw error;
        });
        if (done || state === null) return finish();
        if (!options.same(last, state)) return emit(state);
      }
      return finish();
    },
    async return() {
      return finish();
    },
    async throw(error?: unknown) {
      finish();
      throw error;
    },
  };
  return stream;
}
