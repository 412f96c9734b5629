import { DomainError } from '../core/errors';

const RETRY_AFTER_SECONDS = 5;

/**
 * Open live streams (SSE task streams, GraphQL subscriptions) per user and in this instance: each holds a
 * connection and listeners, so both are bounded. take() answers a release function that frees the slot
 * once, however often it is called; over a cap it throws RATE_LIMITED with the given words.
 */
export class StreamSlots {
  private readonly perUser = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxPerUser: number,
    private readonly maxTotal: number,
    private readonly words: { perUser: (open: number) => string; total: string },
  ) {}

  take(userId: string): () => void {
    const open = this.perUser.get(userId) ?? 0;
    if (open >= this.maxPerUser) throw tooMany(this.words.perUser(open));
    if (this.total >= this.maxTotal) throw tooMany(this.words.total);
    this.perUser.set(userId, open + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perUser.get(userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    };
  }
}

function tooMany(message: string): DomainError {
  return new DomainError('RATE_LIMITED', message, { retry_after_seconds: RETRY_AFTER_SECONDS });
}
