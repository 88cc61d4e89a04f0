import type { Knex } from 'knex';
import type { Page } from './tables.js';

/** Keyset pagination on a unique text column: the cursor is the last key, base64url-encoded. */
export async function paginate<Raw, Row>(
  query: Knex.QueryBuilder,
  key: string,
  opts: { limit: number; cursor?: string },
  toRow: (raw: Raw) => Row,
): Promise<Page<Row>> {
  if (opts.cursor) query = query.where(key, '>', Buffer.from(opts.cursor, 'base64url').toString('utf8'));
  const raws = (await query.orderBy(key, 'asc').limit(opts.limit + 1)) as Array<Raw & Record<string, string>>;
  const more = raws.length > opts.limit;
  const page = more ? raws.slice(0, opts.limit) : raws;
  const last = page[page.length - 1];
  return {
    items: page.map(toRow),
    nextCursor: more && last ? Buffer.from(String(last[key]), 'utf8').toString('base64url') : null,
  };
}
