import type { EntityManager } from '@mikro-orm/postgresql';
import type { Caller } from '../auth/caller';
import type { SecretBox } from '../auth/secret-box';
import { DomainError } from '../core/errors';

/** As Stripe's: a key is any string of 1 to 255 characters the client chooses (a UUID is a good choice). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const KEY_FIELD = ['input', 'idempotencyKey'];
const HOUR_MS = 3_600_000;

export interface IdempotentRequest {
  scope: string;
  key: string;
  /** The mutation's name. */
  operation: string;
  /** The mutation's input without the key: what makes two requests with one key "the same request". */
  input: unknown;
}

/** Either the key is now this request's (run it, then `complete` or `release`), or the first answer is replayed. */
export type IdempotencyClaim = { claimed: string } | { replay: unknown };

/** Whose keys these are: a user's session, an API key (not shared with its user's sessions), the admin key, the public key. */
export function idempotencyScope(caller: Caller): string {
  switch (caller.kind) {
    case 'user':
      return `user:${caller.user.id}`;
    case 'apiKey':
      return `api_key:${caller.apiKeyId}`;
    default:
      return caller.kind;
  }
}

/**
 * Idempotency keys for the mutations that create or spend (one mechanism for GraphQL, REST and MCP): the first
 * complete answer under a key is kept (encrypted) and replayed for `ttlHours`; the key is claimed in its own
 * committed statement before the work starts, so a concurrent request with it is refused while it runs.
 */
export class IdempotencyService {
  constructor(private readonly deps: { box: SecretBox; ttlHours: number }) {}

  async begin(em: EntityManager, request: IdempotentRequest, now = new Date()): Promise<IdempotencyClaim> {
    const { scope, key, operation } = request;
    if (!key.length || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw new DomainError('BAD_REQUEST', `An idempotency key has 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`, null, KEY_FIELD);
    }
    // An HMAC, not a plain hash: the input can hold a password.
    const fingerprint = this.deps.box.digest(`${operation}\n${canonicalJson(request.input)}`);
    const connection = em.getConnection();
    // A key released (after a server error) between the insert and the select is simply claimed again.
    for (let attempt = 0; attempt < 3; attempt++) {
      // An expired key is free again, whether or not the expiry has removed it yet: it is taken over in the
      // same statement (a concurrent taker waits on the row, then sees it fresh and is refused), with a new id,
      // so a request still running under the expired claim cannot complete or release the new one.
      const inserted = await connection.execute<{ id: string }[]>(
        `insert into idempotency_keys (scope, key, operation, fingerprint, state, created_at) values (?, ?, ?, ?, 'IN_PROGRESS', ?)
         on conflict (scope, key) do update
           set id = default, operation = excluded.operation, fingerprint = excluded.fingerprint, state = 'IN_PROGRESS', response = null, completed_at = null, created_at = excluded.created_at
           where idempotency_keys.created_at < ?
         returning id`,
        [scope, key, operation, fingerprint, now, this.expiredBefore(now)],
      );
      if (inserted.length) return { claimed: String(inserted[0].id) };
      const [held] = await connection.execute<{ operation: string; fingerprint: string; state: string; response: string | null }[]>(
        'select operation, fingerprint, state, response from idempotency_keys where scope = ? and key = ?',
        [scope, key],
      );
      if (!held) continue;
      if (held.operation !== operation || held.fingerprint !== fingerprint) {
        throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was used for a different request; use a new key for a new request.', null, KEY_FIELD);
      }
      if (held.state !== 'COMPLETED' || held.response === null) {
        throw new DomainError('IDEMPOTENCY_KEY_IN_USE', 'A request with this idempotency key is still running; retry once it has finished.', null, KEY_FIELD);
      }
      return { replay: JSON.parse(this.deps.box.decrypt(held.response)) };
    }
    throw new DomainError('IDEMPOTENCY_KEY_IN_USE', 'A request with this idempotency key is still running; retry once it has finished.', null, KEY_FIELD);
  }

  /** Keeps the request's answer (a payload snapshot or a user error, JSON) to replay. */
  async complete(em: EntityManager, claimed: string, answer: unknown, now = new Date()): Promise<void> {
    await em.getConnection().execute(
      `update idempotency_keys set state = 'COMPLETED', response = ?, completed_at = ? where id = ?`,
      [this.deps.box.encrypt(JSON.stringify(answer)), now, claimed],
      'run',
    );
  }

  /** Frees the key after a failure that was not the client's (a 5xx): a retry runs the request again. */
  async release(em: EntityManager, claimed: string): Promise<void> {
    await em.getConnection().execute(`delete from idempotency_keys where id = ? and state = 'IN_PROGRESS'`, [claimed], 'run');
  }

  /** Deletes the keys older than the retention period (run periodically by the worker); returns how many. */
  async removeExpired(em: EntityManager, now = new Date()): Promise<number> {
    const result = await em.getConnection().execute<{ affectedRows: number }>('delete from idempotency_keys where created_at < ?', [this.expiredBefore(now)], 'run');
    return result.affectedRows;
  }

  private expiredBefore(now: Date): Date {
    return new Date(now.getTime() - this.deps.ttlHours * HOUR_MS);
  }
}

/** JSON with object keys sorted, so the same input always reads the same whatever order its fields came in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) =>
    field !== null && typeof field === 'object' && !Array.isArray(field)
      ? Object.fromEntries(Object.entries(field as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : field,
  );
}
