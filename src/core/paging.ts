import { badRequest } from './errors';

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
