import type { QueryBuilder } from '@mikro-orm/postgresql';
import { badRequest } from './errors';
import { isId, type IdKind } from './ids';
import { pageOffset, pageSize } from './paging';

/** Where a row stands in a newest-first list: its creation time, then its id to break ties. */
export interface Position { createdAt: Date; id: string }

/**
 * A page request in Relay's terms: `first`/`after` pages towards older rows, `last`/`before` towards newer
 * ones. `offset` (forward only) serves the documented REST paths' limit/offset paging.
 */
export interface PageRequest { first?: number | null; after?: string | null; last?: number | null; before?: string | null; offset?: number | null }

export interface Page<T> { items: T[]; hasNextPage: boolean; hasPreviousPage: boolean }

/** Opaque to clients; the row's position, so a page costs the same at any depth. */
export function encodeCursor(row: Position): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

export function decodeCursor(cursor: string, kind: IdKind): Position {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso);
  const year = createdAt.getUTCFullYear();
  // A forged cursor's date must also be one PostgreSQL can compare with.
  if (!isId(kind, id) || Number.isNaN(year) || year < 1970 || year > 9999) throw badRequest('The cursor is not valid.');
  return { createdAt, id };
}

/**
 * Reads one page of a newest-first list with a keyset condition on (created_at, id), which the
 * `(user_id, created_at desc, id desc)` indexes serve in order. `qb` is already filtered (owner, type, …);
 * `alias` is its table alias. One statement, plus nothing: the extra row fetched tells whether more follow.
 */
export async function keysetPage<T extends Position>(qb: QueryBuilder<T>, alias: string, kind: IdKind, request: PageRequest): Promise<Page<T>> {
  const { first, after, last, before, offset } = request;
  if (first != null && last != null) throw badRequest('Ask for first or last, not both.');
  if (offset != null && (after != null || before != null || last != null)) throw badRequest('offset pages forward from the start: use it without after, before or last.');
  const backward = last != null || (before != null && first == null);
  const limit = pageSize(backward ? last : first);
  const keyset = `(${alias}.created_at, ${alias}.id)`;
  if (after != null) {
    const { createdAt, id } = decodeCursor(after, kind);
    qb.andWhere(`${keyset} < (?, ?)`, [createdAt, id]);
  }
  if (before != null) {
    const { createdAt, id } = decodeCursor(before, kind);
    qb.andWhere(`${keyset} > (?, ?)`, [createdAt, id]);
  }
  const direction = backward ? 'asc' : 'desc';
  qb.orderBy({ createdAt: direction, id: direction } as never).limit(limit + 1);
  if (offset != null) qb.offset(pageOffset(offset));
  const rows = (await qb.getResultList()) as T[];
  const more = rows.length > limit;
  const items = rows.slice(0, limit);
  if (backward) items.reverse();
  // The side the cursor came from has at least the cursor's own row.
  return backward
    ? { items, hasPreviousPage: more, hasNextPage: before != null }
    : { items, hasNextPage: more, hasPreviousPage: after != null || (offset ?? 0) > 0 };
}
