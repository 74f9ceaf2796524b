import type { ChildSpec, SideSpec } from '../../platform/mapping/aggregate-mapping.ts';
import { buildObject, ident, literal, qualified, readField } from './values.ts';

/** One side of an aggregate, located: its spec and the schema its tables are in. */
export interface SideRef {
  schema: string;
  spec: SideSpec;
}

function childArray(schema: string, child: ChildSpec): string {
  const object = buildObject(child.fields.map((f) => [f.field, readField(f, 'c')]));
  return `COALESCE((SELECT jsonb_agg(${object} ORDER BY ${child.orderBy}) FROM ${qualified(schema, child.table)} c ` +
    `WHERE c.${ident(child.parentKey)} = t.id), '[]'::jsonb)`;
}

/** The canonical document of the row `t` of the side's root table, as a jsonb SQL expression. */
export function documentExpr(side: SideRef): string {
  const pairs: [string, string][] = side.spec.fields.map((f) => [f.field, readField(f, 't')]);
  for (const child of side.spec.children ?? []) pairs.push([child.field, childArray(side.schema, child)]);
  return buildObject(pairs);
}

/**
 * `SELECT key, doc` for the aggregates of a side whose root row `t` satisfies `where` — by key list
 * (`t.id = ANY($1)`), key range, or anything else. `tail` is appended (ORDER BY, LIMIT, FOR SHARE).
 */
export function documentsQuery(side: SideRef, where: string, tail = ''): string {
  return `SELECT t.id AS key, ${documentExpr(side)} AS doc FROM ${qualified(side.schema, side.spec.table)} t WHERE ${where} ${tail}`.trim();
}

/**
 * The tables of a side with the column that holds the aggregate key (root: id; child: its parent key)
 * and the columns whose changes alone do not change the document.
 */
export function sideTables(side: SideRef): { table: string; keyColumn: string; ignored: string[] }[] {
  return [
    { table: side.spec.table, keyColumn: 'id', ignored: side.spec.ignoredColumns ?? [] },
    ...(side.spec.children ?? []).map((c) => ({ table: c.table, keyColumn: c.parentKey, ignored: c.ignoredColumns ?? [] })),
  ];
}

export const sqlList = (values: string[]): string => values.map(literal).join(', ');
