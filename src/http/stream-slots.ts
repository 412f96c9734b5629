import { DomainError } from '../core/errors';

export const STREAM_RETRY_AFTER_SECONDS = 5;
const HEARTBEAT_MS = 15_000;

/** How often an open stream sends a comment line, so it does not look idle (CONNECTION_TIMEOUT_MS, proxies). */
export function heartbeatMs(connectionTimeoutMs: number): number {
  return connectionTimeoutMs > 0 ? Math.min(HEARTBEAT_MS, Math.max(1, Math.floor(connectionTimeoutMs / 2))) : HEARTBEAT_MS;
}

/**
 * Open streams per owner and in this instance: each holds a connection (and often polls or keeps a server), so both
 * are bounded. take() answers a release function that frees the slot once, however often it is called; over a cap it
 * throws RATE_LIMITED (429, Retry-After) before the stream opens, and tells `onRefused` (the metrics). Once `closing`
 * is aborted (shutdown has begun) it throws SERVICE_UNAVAILABLE: a stream opened after the open ones were ended
 * would hold the server for its whole grace period.
 */
export class StreamSlots {
  private readonly perOwner = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly limits: { perOwner: number; total: number },
    private readonly refusals: { perOwner: (open: number) => string; total: string },
    private readonly hooks: { onRefused?: () => void; closing?: AbortSignal } = {},
  ) {}

  take(owner: string): () => void {
    if (this.hooks.closing?.aborted) throw new DomainError('SERVICE_UNAVAILABLE', 'This instance is shutting down; reconnect in a moment.', { retry_after_seconds: STREAM_RETRY_AFTER_SECONDS });
    const open = this.perOwner.get(owner) ?? 0;
    if (open >= this.limits.perOwner) throw this.refused(this.refusals.perOwner(open));
    if (this.total >= this.limits.total) throw this.refused(this.refusals.total);
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

  private refused(message: string): DomainError {
    this.hooks.onRefused?.();
    return new DomainError('RATE_LIMITED', message, { retry_after_seconds: STREAM_RETRY_AFTER_SECONDS });
  }
}
