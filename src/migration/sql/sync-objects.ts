import { createHash } from 'node:crypto';
import type { AggregateMapping, ModuleMapping, Side } from '../../platform/mapping/aggregate-mapping.ts';
import { otherSide, SIDES } from '../../platform/mapping/aggregate-mapping.ts';
import { checksumFunctions } from './checksums.ts';
import { documentsQuery, sideTables, type SideRef } from './documents.ts';
import { ident, literal, qualified } from './values.ts';
import { writeStatements } from './writes.ts';

/** Where the two sides of a module's aggregates live, and the roles involved. */
export interface SyncTarget {
  legacySchema: string;
  /** the module's role: owns the generated functions (it may write both its legacy tables and its schema) */
  moduleRole: string;
  /** the migration role: runs backfills and repairs through the generated functions */
  migrationRole: string;
}

export const MIGRATION_SCHEMA = 'migration';
const fn = (name: string) => qualified(MIGRATION_SCHEMA, name);

/** e.g. booking__bookings */
export const baseName = (a: Pick<AggregateMapping, 'module' | 'name'>): string => `${a.module}__${a.name}`;

export function sideRef(mapping: ModuleMapping, a: AggregateMapping, side: Side, legacySchema: string): SideRef {
  return side === 'legacy' ? { schema: legacySchema, spec: a.legacy } : { schema: mapping.ownSchema, spec: a.own };
}

/** Generated function names of an aggregate (all in the migration schema). */
export const functionNames = (a: Pick<AggregateMapping, 'module' | 'name'>) => {
  const base = baseName(a);
  return {
    docs: (side: Side) => `${base}_docs_${side}`,
    write: (side: Side) => `${base}_write_${side}`,
    copyTo: (side: Side) => `${base}_copy_to_${side}`,
    copyMissingTo: (side: Side) => `${base}_copy_missing_to_${side}`,
    backfill: (to: Side) => `${base}_backfill_to_${to}`,
    capture: (side: Side, table: string) => `${base}_capture_${side}_${table}`,
  };
};

const header = `SECURITY DEFINER SET search_path = pg_catalog, pg_temp`;

function docsFunction(a: AggregateMapping, ref: SideRef, side: Side): string {
  return `CREATE OR REPLACE FUNCTION ${fn(functionNames(a).docs(side))}(p_keys uuid[]) RETURNS TABLE(key uuid, doc jsonb)
LANGUAGE sql STABLE ${header} AS $fn$ ${documentsQuery(ref, 't.id = ANY(p_keys)', 'ORDER BY t.id')} $fn$`;
}

/** Writing documents runs with boxoffice.sync = running: the capture triggers then leave the writes alone. */
function writeFunction(a: AggregateMapping, ref: SideRef, side: Side): string {
  const body = writeStatements(ref).map((s) => `  ${s};`).join('\n');
  return `CREATE OR REPLACE FUNCTION ${fn(functionNames(a).write(side))}(p_docs jsonb, p_keys uuid[]) RETURNS integer
LANGUAGE plpgsql ${header} AS $fn$
DECLARE
  previous text := coalesce(current_setting('boxoffice.sync', true), '');
  v_keys uuid[] := ARRAY(SELECT (x.d->>'id')::uuid FROM jsonb_array_elements(p_docs) AS x(d));
  v_new uuid[];
  v_old uuid[];
BEGIN
  PERFORM set_config('boxoffice.sync', 'running', true);
${body}
  PERFORM set_config('boxoffice.sync', previous, true);
  RETURN jsonb_array_length(p_docs);
END $fn$`;
}

/** Copy aggregates by key from the other side: referenced aggregates the side lacks come first. */
function copyFunctions(mapping: ModuleMapping, a: AggregateMapping, side: Side, legacySchema: string): string[] {
  const names = functionNames(a);
  const from = otherSide(side);
  const refs = (a.references ?? []).map((r) => {
    const target = mapping.aggregates.find((x) => x.name === r.aggregate);
    if (!target) throw new Error(`${baseName(a)} references unknown aggregate ${r.aggregate}`);
    return `  PERFORM ${fn(functionNames(target).copyMissingTo(side))}(ARRAY(SELECT DISTINCT (doc->>${literal(r.field)})::uuid FROM jsonb_array_elements(docs) AS x(doc) WHERE doc->>${literal(r.field)} IS NOT NULL));`;
  });
  const table = side === 'legacy' ? qualified(legacySchema, a.legacy.table) : qualified(mapping.ownSchema, a.own.table);
  return [
    `CREATE OR REPLACE FUNCTION ${fn(names.copyTo(side))}(p_keys uuid[]) RETURNS integer
LANGUAGE plpgsql ${header} AS $fn$
DECLARE docs jsonb;
BEGIN
  SELECT coalesce(jsonb_agg(d.doc ORDER BY d.key), '[]'::jsonb) INTO docs FROM ${fn(names.docs(from))}(p_keys) d;
${refs.join('\n')}
  RETURN ${fn(names.write(side))}(docs, p_keys);
END $fn$`,
    `CREATE OR REPLACE FUNCTION ${fn(names.copyMissingTo(side))}(p_keys uuid[]) RETURNS integer
LANGUAGE plpgsql ${header} AS $fn$
DECLARE missing uuid[];
BEGIN
  SELECT array_agg(k) INTO missing FROM unnest(p_keys) AS k WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.id = k);
  IF missing IS NULL THEN RETURN 0; END IF;
  RETURN ${fn(names.copyTo(side))}(missing);
END $fn$`,
  ];
}

/**
 * One batch of a backfill into `to`: the next `p_limit` aggregates of the other side after `p_after`,
 * within the worker's key range [`p_start`, `p_before`), their rows share-locked until commit (an
 * application write to one of them waits, then copies its own newer version itself — the backfill never
 * writes an older copy over it).
 */
function backfillFunction(a: AggregateMapping, to: Side, sourceTable: string): string {
  const names = functionNames(a);
  return `CREATE OR REPLACE FUNCTION ${fn(names.backfill(to))}(p_after uuid, p_start uuid, p_before uuid, p_limit integer) RETURNS TABLE(last_key uuid, copied integer)
LANGUAGE plpgsql ${header} AS $fn$
DECLARE keys uuid[];
BEGIN
  SELECT array_agg(s.id ORDER BY s.id) INTO keys FROM (
    SELECT t.id FROM ${sourceTable} t
     WHERE (p_after IS NULL OR t.id > p_after) AND (p_start IS NULL OR t.id >= p_start) AND (p_before IS NULL OR t.id < p_before)
     ORDER BY t.id LIMIT p_limit FOR SHARE
  ) s;
  IF keys IS NULL THEN RETURN QUERY SELECT NULL::uuid, 0; RETURN; END IF;
  RETURN QUERY SELECT keys[array_length(keys, 1)], ${fn(names.copyTo(to))}(keys);
END $fn$`;
}

/**
 * Statement-level capture trigger of one table: the keys of the aggregates the statement changed go to
 * the other side — in this transaction (lease mode inline), or to the retry queue (mode queue) — while
 * any process holds a dual-write lease for the module. Writes made by the copy itself are skipped.
 */
function captureFunction(a: AggregateMapping, side: Side, table: { table: string; keyColumn: string; ignored: string[] }): string {
  const names = functionNames(a);
  const key = ident(table.keyColumn);
  const strip = table.ignored.map((c) => ` - ${literal(c)}`).join('');
  const direction = side === 'legacy' ? 'to_own' : 'to_legacy';
  return `CREATE OR REPLACE FUNCTION ${fn(names.capture(side, table.table))}() RETURNS trigger
LANGUAGE plpgsql ${header} AS $fn$
DECLARE keys uuid[]; lease text;
BEGIN
  IF coalesce(current_setting('boxoffice.sync', true), '') IN ('running', 'off') THEN RETURN NULL; END IF;
  SELECT max(l.mode) INTO lease FROM migration.dual_write_leases l WHERE l.module = ${literal(a.module)} AND l.expires_at > now();
  IF lease IS NULL THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT n.${key}) INTO keys FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT o.${key}) INTO keys FROM old_rows o;
  ELSE
    SELECT array_agg(DISTINCT k) INTO keys FROM (
      SELECT n.${key} AS k FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
       WHERE o.id IS NULL OR (to_jsonb(n)${strip}) IS DISTINCT FROM (to_jsonb(o)${strip})
      UNION SELECT o.${key} FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.${key} IS DISTINCT FROM o.${key}
    ) s;
  END IF;
  IF keys IS NULL THEN RETURN NULL; END IF;
  IF lease = 'inline' THEN
    PERFORM ${fn(names.copyTo(otherSide(side)))}(keys);
  ELSE
    INSERT INTO migration.dual_write_queue AS q (module, aggregate, key, direction)
      SELECT ${literal(a.module)}, ${literal(a.name)}, k, ${literal(direction)} FROM unnest(keys) AS k
      ON CONFLICT (module, aggregate, key, direction) DO UPDATE SET seq = nextval('migration.dual_write_queue_seq'), queued_at = now();
    PERFORM pg_notify('boxoffice_dual_write', ${literal(a.module)});
  END IF;
  RETURN NULL;
END $fn$`;
}

export interface SyncObjects {
  module: string;
  aggregate: string;
  version: string;
  statements: string[];
}

/** Every function and trigger that keeps one aggregate's two sides equal, with a version hash. */
export function aggregateSyncObjects(mapping: ModuleMapping, a: AggregateMapping, target: SyncTarget): SyncObjects {
  const names = functionNames(a);
  const owner = ident(target.moduleRole);
  const statements: string[] = [];
  const functions: string[] = [];
  const legacyTable = qualified(target.legacySchema, a.legacy.table);
  const add = (name: string, signature: string, ddl: string) => {
    statements.push(ddl);
    functions.push(`${fn(name)}(${signature})`);
  };
  for (const side of SIDES) {
    const ref = sideRef(mapping, a, side, target.legacySchema);
    add(names.docs(side), 'uuid[]', docsFunction(a, ref, side));
    add(names.write(side), 'jsonb, uuid[]', writeFunction(a, ref, side));
    for (const c of checksumFunctions(baseName(a), a, ref, side, header)) add(c.name, c.signature, c.ddl);
  }
  for (const side of SIDES) {
    const [copy, missing] = copyFunctions(mapping, a, side, target.legacySchema);
    add(names.copyTo(side), 'uuid[]', copy!);
    add(names.copyMissingTo(side), 'uuid[]', missing!);
  }
  add(names.backfill('own'), 'uuid, uuid, uuid, integer', backfillFunction(a, 'own', legacyTable));
  add(names.backfill('legacy'), 'uuid, uuid, uuid, integer', backfillFunction(a, 'legacy', qualified(mapping.ownSchema, a.own.table)));
  const triggers: string[] = [];
  for (const side of SIDES) {
    const ref = sideRef(mapping, a, side, target.legacySchema);
    for (const table of sideTables(ref)) {
      add(names.capture(side, table.table), '', captureFunction(a, side, table));
      const on = qualified(ref.schema, table.table);
      const capture = fn(names.capture(side, table.table));
      triggers.push(
        `CREATE OR REPLACE TRIGGER boxoffice_capture_insert AFTER INSERT ON ${on} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${capture}()`,
        `CREATE OR REPLACE TRIGGER boxoffice_capture_update AFTER UPDATE ON ${on} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${capture}()`,
        `CREATE OR REPLACE TRIGGER boxoffice_capture_delete AFTER DELETE ON ${on} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${capture}()`,
      );
    }
  }
  for (const f of functions) {
    statements.push(`ALTER FUNCTION ${f} OWNER TO ${owner}`, `REVOKE ALL ON FUNCTION ${f} FROM PUBLIC`);
    statements.push(`GRANT EXECUTE ON FUNCTION ${f} TO ${ident(target.migrationRole)}`);
  }
  statements.push(...triggers);
  const version = createHash('sha256').update(statements.join('\n')).digest('hex').slice(0, 16);
  return { module: a.module, aggregate: a.name, version, statements };
}

/** The docs and write functions only, for a module's own database (its other side lives elsewhere). */
export function separateDatabaseObjects(mapping: ModuleMapping, a: AggregateMapping, target: SyncTarget): SyncObjects {
  const names = functionNames(a);
  const ref = sideRef(mapping, a, 'own', target.legacySchema);
  const checksums = checksumFunctions(baseName(a), a, ref, 'own', header);
  const statements = [docsFunction(a, ref, 'own'), writeFunction(a, ref, 'own'), ...checksums.map((c) => c.ddl)];
  const version = createHash('sha256').update(statements.join('\n')).digest('hex').slice(0, 16);
  const functions = [`${fn(names.docs('own'))}(uuid[])`, `${fn(names.write('own'))}(jsonb, uuid[])`, ...checksums.map((c) => `${fn(c.name)}(${c.signature})`)];
  return { module: a.module, aggregate: `${a.name}@own-database`, version, statements: [...statements, ...functions.flatMap((f) => [`ALTER FUNCTION ${f} OWNER TO ${ident(target.moduleRole)}`, `REVOKE ALL ON FUNCTION ${f} FROM PUBLIC`])] };
}
