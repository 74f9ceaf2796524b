import type { Knex } from '../../platform/db.ts';
import type { AggregateMapping, ModuleMapping, Side } from '../../platform/mapping/aggregate-mapping.ts';
import { columnOf } from '../sql/values.ts';

const notNullCache = new Map<string, Promise<Set<string>>>();

function notNullColumns(db: Knex, schema: string, table: string): Promise<Set<string>> {
  const id = `${schema}.${table}`;
  let cached = notNullCache.get(id);
  if (!cached) {
    // by name through the catalogs: the migration role may lack USAGE on the schema (to_regclass needs it)
    cached = db.raw(
      `SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull`,
      [schema, table],
    ).then((r: { rows: { attname: string }[] }) => new Set(r.rows.map((x) => x.attname)));
    notNullCache.set(id, cached);
  }
  return cached;
}

/**
 * Why a document cannot be written into a side (an orphan: the mapping cannot place it there), or
 * undefined. A field the side stores NOT NULL but the document has no value for — e.g. an old booking
 * whose seat was deleted from the catalog has no seat snapshot, which the booking schema requires.
 */
export async function placeable(legacyDb: Knex, ownDb: Knex, mapping: ModuleMapping, a: AggregateMapping, legacySchema: string, side: Side, doc: unknown): Promise<string | undefined> {
  const spec = side === 'legacy' ? a.legacy : a.own;
  const schema = side === 'legacy' ? legacySchema : mapping.ownSchema;
  const db = side === 'legacy' ? legacyDb : ownDb;
  const d = doc as Record<string, unknown>;
  const required = await notNullColumns(db, schema, spec.table);
  for (const f of spec.fields) {
    const column = columnOf(f);
    if (column && required.has(column) && (d[f.field] === null || d[f.field] === undefined)) return `${schema}.${spec.table}.${column} cannot be empty, and ${f.field} has no value`;
  }
  for (const child of spec.children ?? []) {
    const rows = (d[child.field] as Record<string, unknown>[] | undefined) ?? [];
    const childRequired = await notNullColumns(db, schema, child.table);
    for (const row of rows) {
      for (const f of child.fields) {
        const column = columnOf(f);
        if (column && childRequired.has(column) && (row[f.field] === null || row[f.field] === undefined)) {
          return `${schema}.${child.table}.${column} cannot be empty, and ${child.field}[].${f.field} has no value`;
        }
      }
    }
  }
  return undefined;
}
