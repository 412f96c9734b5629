import type { EntityClass } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { plainRowReader } from '../database/plain-rows';
import { rawQuery } from '../database/shared-pool';
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
 * A newest-first list of one entity's rows: equality filters by column (a null or undefined value is no
 * filter), e.g. `{ user_id: userId, type: request.type }`. Column names come from our code, never from a
 * request; values are always bound parameters.
 */
export interface KeysetList<T> {
  entity: EntityClass<T>;
  kind: IdKind;
  /** Equality filters by column; null values are left out. */
  where: Record<string, unknown>;
  /** Further conditions in SQL (e.g. a search); `param(value)` answers the value's placeholder. */
  filters?: (param: (value: unknown) => string) => string[];
}

/**
 * Reads one page of a newest-first list with a keyset condition on (created_at, id), which the
 * `(user_id, created_at desc, id desc)` indexes serve in order. One hand-written statement into unmanaged
 * objects (src/database/plain-rows.ts): a page is only read, and building the query and hydrating managed
 * entities cost many times the query. The extra row fetched tells whether more follow.
 */
export async function keysetPage<T extends Position>(em: EntityManager, list: KeysetList<T>, request: PageRequest): Promise<Page<T>> {
  const { first, after, last, before, offset } = request;
  if (first != null && last != null) throw badRequest('Ask for first or last, not both.');
  if (offset != null && (after != null || before != null || last != null)) throw badRequest('offset pages forward from the start: use it without after, before or last.');
  const backward = last != null || (before != null && first == null);
  const limit = pageSize(backward ? last : first);
  const { conditions, values } = filtersOf(list);
  if (after != null) {
    const { createdAt, id } = decodeCursor(after, list.kind);
    conditions.push(`("created_at", "id") < ($${values.push(createdAt)}, $${values.push(id)})`);
  }
  if (before != null) {
    const { createdAt, id } = decodeCursor(before, list.kind);
    conditions.push(`("created_at", "id") > ($${values.push(createdAt)}, $${values.push(id)})`);
  }
  const direction = backward ? 'asc' : 'desc';
  const reader = plainRowReader(em, list.entity);
  let sql = `select ${reader.columns} from "${reader.table}" where ${conditions.join(' and ')} order by "created_at" ${direction}, "id" ${direction} limit $${values.push(limit + 1)}`;
  if (offset != null) sql += ` offset $${values.push(pageOffset(offset))}`;
  const { rows } = await rawQuery(em, sql, values);
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map(reader.read);
  if (backward) items.reverse();
  // The side the cursor came from has at least the cursor's own row.
  return backward
    ? { items, hasPreviousPage: more, hasNextPage: before != null }
    : { items, hasNextPage: more, hasPreviousPage: after != null || (offset ?? 0) > 0 };
}

/** How many rows the list holds in all (a connection's totalCount), with the same filters. */
export async function keysetCount(em: EntityManager, list: KeysetList<unknown>): Promise<number> {
  const { conditions, values } = filtersOf(list);
  const { rows } = await rawQuery<{ count: number }>(em, `select count(*)::int as count from "${plainRowReader(em, list.entity).table}" where ${conditions.join(' and ')}`, values);
  return rows[0].count;
}

function filtersOf(list: KeysetList<unknown>): { conditions: string[]; values: unknown[] } {
  const values: unknown[] = [];
  const conditions = Object.entries(list.where)
    .filter(([, value]) => value != null)
    .map(([column, value]) => `"${column}" = $${values.push(value)}`);
  conditions.push(...(list.filters?.((value) => `$${values.push(value)}`) ?? []));
  return { conditions: conditions.length ? conditions : ['true'], values };
}
