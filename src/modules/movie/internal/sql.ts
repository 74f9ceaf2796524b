import type { Knex } from '../../../platform/db.ts';

/** Rows a filtered query would return, ignoring its select list, order and page. */
export async function countRows(q: Knex.QueryBuilder): Promise<number> {
  const row = (await q.clone().clearSelect().clearOrder().count({ n: '*' }).first()) as { n: string | number } | undefined;
  return Number(row?.n ?? 0);
}

/** `%text%` for ILIKE … ESCAPE '\', with the caller's wildcards taken literally. */
export const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;
