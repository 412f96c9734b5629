import assert from 'node:assert/strict';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestApp } from './harness';

export interface Received { data?: any; errors?: { message: string; extensions?: any }[] }

/** One subscription's messages as the graphql-ws client hands them over, and its end. */
export class Watch {
  readonly results: Received[] = [];
  /** Errors sent as an `error` message (refused before it ran), or the close event that ended it. */
  failure: unknown;
  completed = false;
  readonly unsubscribe: () => void;
  private wakers: (() => void)[] = [];

  constructor(client: Client, query: string, variables: Record<string, unknown> = {}, extensions?: Record<string, unknown>) {
    this.unsubscribe = client.subscribe({ query, variables, ...(extensions ? { extensions } : {}) }, {
      next: (result) => this.record(() => this.results.push(result as Received)),
      error: (error) => this.record(() => (this.failure = error)),
      complete: () => this.record(() => (this.completed = true)),
    });
  }

  get ended(): boolean {
    return this.completed || this.failure !== undefined;
  }

  /** Waits (bounded) until the condition holds; wakes on every message. */
  async until(condition: (watch: this) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this)) {
      if (Date.now() > deadline) assert.fail(`${what}: not seen; got ${JSON.stringify({ results: this.results, failure: describe(this.failure), completed: this.completed })}`);
      await new Promise<void>((resolve) => {
        this.wakers.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  }

  private record(change: () => void): void {
    change();
    this.wakers.splice(0).forEach((wake) => wake());
  }
}

/** A graphql-ws client on the app's /graphql socket; `closes` records how the server closed it. */
export function subscriptionClient(t: TestApp, authorization?: string, baseUrl = t.baseUrl) {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: authorization === undefined ? {} : { authorization },
    retryAttempts: 0,
    on: { closed: (event) => closes.push({ code: (event as { code: number }).code, reason: String((event as { reason: unknown }).reason) }) },
  });
  return {
    client,
    closes,
    watch: (query: string, variables?: Record<string, unknown>) => new Watch(client, query, variables),
    dispose: () => client.dispose(),
  };
}

function describe(value: unknown): unknown {
  if (value && typeof value === 'object' && 'code' in value) return { code: (value as { code: unknown }).code, reason: (value as { reason?: unknown }).reason };
  return value;
}
