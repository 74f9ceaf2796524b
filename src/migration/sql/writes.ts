import type { ChildSpec, ExtraColumn, FieldSpec } from '../../platform/mapping/aggregate-mapping.ts';
import type { SideRef } from './documents.ts';
import { columnOf, ident, qualified, writeField } from './values.ts';

/** A column write: the column, its value, and what an update sets (undefined: insert only). */
interface ColumnWrite {
  column: string;
  value: string;
  update: string | undefined;
}

function fieldWrites(fields: FieldSpec[], source: string, current: string): ColumnWrite[] {
  return fields.flatMap((f) => {
    const column = columnOf(f);
    if (!column) return [];
    const value = writeField(f, source);
    return [{ column, value, update: f.insertOnly ? undefined : current === 'EXCLUDED' ? `EXCLUDED.${ident(column)}` : value }];
  });
}

function extraWrites(extras: ExtraColumn[], current: string): ColumnWrite[] {
  return extras.map((x) => {
    const same = current === 'EXCLUDED' ? `EXCLUDED.${ident(x.column)}` : x.write;
    const update = x.onUpdate === 'keep' ? undefined : x.onUpdate === undefined || x.onUpdate === 'same' ? same : x.onUpdate;
    return { column: x.column, value: x.write, update };
  });
}

const DOCS = 'jsonb_array_elements(p_docs) AS x(d)';

function rootUpsert(side: SideRef): string {
  const { spec } = side;
  const writes = [...fieldWrites(spec.fields, 'd', 'EXCLUDED'), ...extraWrites(spec.extraColumns ?? [], 'EXCLUDED')];
  const updates = writes.filter((w) => w.update !== undefined && w.column !== 'id');
  const onConflict = updates.length === 0
    ? 'DO NOTHING'
    : `DO UPDATE SET ${updates.map((w) => `${ident(w.column)} = ${w.update}`).join(', ')} ` +
      `WHERE (${updates.map((w) => `t.${ident(w.column)}`).join(', ')}) IS DISTINCT FROM (${updates.map((w) => w.update).join(', ')})`;
  // key order: concurrent copies lock rows in one order, so they queue instead of deadlocking; the keys of
  // rows it inserted go to v_new (those have no child rows yet: the child statements skip them)
  return `WITH up AS (INSERT INTO ${qualified(side.schema, spec.table)} AS t (${writes.map((w) => ident(w.column)).join(', ')}) ` +
    `SELECT ${writes.map((w) => w.value).join(', ')} FROM ${DOCS} ORDER BY (d->>'id')::uuid ON CONFLICT (id) ${onConflict} ` +
    `RETURNING t.id, (t.xmax = 0) AS inserted) SELECT coalesce(array_agg(id) FILTER (WHERE inserted), '{}') INTO v_new FROM up`;
}

/**
 * A child table's rows of the written documents, reached by the parent-key index: `v_old` (the keys of
 * the roots that existed before this write) selects the existing rows, and the documents' elements are
 * materialised once per statement as `want(parent, d, e)`. (Joining the jsonb arrays straight against
 * the table made the planner hash the whole table for every batch.)
 */
function childStatements(side: SideRef, child: ChildSpec): string[] {
  const table = qualified(side.schema, child.table);
  const parent = `c.${ident(child.parentKey)}`;
  const want = `WITH want AS MATERIALIZED (SELECT (x.d->>'id')::uuid AS parent, x.d AS d, y.e AS e ` +
    `FROM jsonb_array_elements(p_docs) AS x(d), jsonb_array_elements(x.d->'${child.field}') AS y(e))`;
  const identity = child.identity.map((name) => {
    const f = child.fields.find((x) => x.field === name);
    if (!f || !columnOf(f)) throw new Error(`${child.table}: identity field ${name} is not a stored field`);
    return `c.${ident(columnOf(f)!)} = ${writeField(f, 'e')}`;
  });
  const match = identity.join(' AND ');
  const writes = [...fieldWrites(child.fields, 'e', 'c'), ...extraWrites(child.extraColumns ?? [], 'c')];
  const identityColumns = new Set(child.identity.map((name) => columnOf(child.fields.find((x) => x.field === name)!)));
  const updates = writes.filter((w) => w.update !== undefined && !identityColumns.has(w.column));
  // rows of aggregates that existed before this write: those no longer in their document go, the others are updated
  const existing = [`${want} DELETE FROM ${table} c WHERE ${parent} = ANY(v_old) AND NOT EXISTS (SELECT 1 FROM want WHERE want.parent = ${parent} AND ${match})`];
  if (updates.length > 0) {
    existing.push(
      `${want} UPDATE ${table} c SET ${updates.map((w) => `${ident(w.column)} = ${w.update}`).join(', ')} FROM want ` +
        `WHERE ${parent} = ANY(v_old) AND want.parent = ${parent} AND ${match} ` +
        `AND (${updates.map((w) => `c.${ident(w.column)}`).join(', ')}) IS DISTINCT FROM (${updates.map((w) => w.update).join(', ')})`,
    );
  }
  const statements = [
    // rows of aggregates whose document is gone (deleted on the other side)
    `DELETE FROM ${table} c WHERE ${parent} = ANY(p_keys) AND NOT EXISTS (SELECT 1 FROM ${DOCS} WHERE (d->>'id')::uuid = ${parent})`,
    // a backfill into an empty side inserts only: skip the rest
    `IF cardinality(v_old) > 0 THEN ${existing.join('; ')}; END IF`,
  ];
  statements.push(
    `${want} INSERT INTO ${table} (${[child.parentKey, ...writes.map((w) => w.column)].map(ident).join(', ')}) ` +
      `SELECT want.parent, ${writes.map((w) => w.value).join(', ')} FROM want ` +
      `WHERE NOT EXISTS (SELECT 1 FROM ${table} c WHERE ${parent} = want.parent AND ${match}) ORDER BY want.parent`,
  );
  return statements;
}

/**
 * The statements that write documents into a side, in order, with the documents in `p_docs` (a jsonb
 * array), their keys in `v_keys`, and, when copying a set of keys, those keys in `p_keys` (a key whose
 * document is absent is deleted on this side; NULL when only writing). `v_new` receives the keys of the
 * roots the upsert inserted, `v_old` the others: only those can have child rows to delete or update. Each statement skips rows that are already equal, so
 * writing the same documents again changes nothing.
 */
export function writeStatements(side: SideRef): string[] {
  const { spec } = side;
  const statements: string[] = [];
  // children of vanished aggregates first (a side may lack ON DELETE CASCADE)
  for (const child of spec.children ?? []) statements.push(...childStatements(side, child).slice(0, 1));
  statements.push(
    `DELETE FROM ${qualified(side.schema, spec.table)} t WHERE t.id = ANY(p_keys) ` +
      `AND NOT EXISTS (SELECT 1 FROM ${DOCS} WHERE (d->>'id')::uuid = t.id)`,
  );
  statements.push(rootUpsert(side));
  if ((spec.children ?? []).length > 0) statements.push(`v_old := ARRAY(SELECT unnest(v_keys) EXCEPT SELECT unnest(v_new))`);
  for (const child of spec.children ?? []) statements.push(...childStatements(side, child).slice(1));
  for (const sql of spec.afterWrite ?? []) statements.push(`WITH docs(d) AS (SELECT value FROM jsonb_array_elements(p_docs)) ${sql}`);
  return statements;
}
