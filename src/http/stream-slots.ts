import { DomainError } from '../core/errors';

export const STREAM_RETRY_AFTER_SECONDS = 5;

/**
 * Open streams per owner and in this instance: each holds a connection (and often polls or keeps a server), so both
 * are bounded. take() answers a release function that frees the slot once, however often it is called; over a cap it
 * throws RATE_LIMITED (429, Retry-After) before the stream opens.
 */
export class StreamSlots {
  private readonly perOwner = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly limits: { perOwner: number; total: number },
    private readonly refusals: { perOwner: (open: number) => string; total: string },
  ) {}

  take(owner: string): () => void {
    const open = this.perOwner.get(owner) ?? 0;
    if (open >= this.limits.perOwner) throw tooManyStreams(this.refusals.perOwner(open));
    if (this.total >= this.limits.total) throw tooManyStreams(this.refusals.total);
    this.perOwner.set(owner, open + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perOwner.get(owner) ?? 1) - 1;
      if (left > 0) this.perOwner.set(owner, left);
      else this.perOwner.delete(owner);
    };
  }
}

function tooManyStreams(message: string): DomainError {
  return new DomainError('RATE_LIMITED', message, { retry_after_seconds: STREAM_RETRY_AFTER_SECONDS });
}
