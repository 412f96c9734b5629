import { badRequest } from './errors';
import { isId, type IdKind } from './ids';

const PAGE_DEFAULT = 20;
const PAGE_MAX = 100;

/** The size of one page of a list (transactions, tasks): 1 to 100, 20 when not asked. */
export function pageSize(requested: number | null | undefined): number {
  const size = requested ?? PAGE_DEFAULT;
  if (!Number.isInteger(size) || size < 1 || size > PAGE_MAX) throw badRequest(`The page size must be between 1 and ${PAGE_MAX}.`);
  return size;
}

/** How many rows an offset page skips (as in PostgreSQL): 0 when not asked. */
export function pageOffset(requested: number | null | undefined): number {
  const offset = requested ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw badRequest('offset must be a whole number >= 0.');
  return offset;
}

/** A keyset cursor over (created_at desc, id desc), the order of every newest-first list. */
export function encodeKeysetCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

export function decodeKeysetCursor(cursor: string, kind: IdKind): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso);
  const year = createdAt.getUTCFullYear();
  // A forged cursor's date must also be one PostgreSQL can compare with.
  if (!isId(kind, id) || Number.isNaN(year) || year < 1970 || year > 9999) throw badRequest('The cursor is not valid.');
  return { createdAt, id };
}
