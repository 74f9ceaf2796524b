import type { AggregateMapping, ChildSpec, FieldSpec, FieldType, Side } from '../../platform/mapping/aggregate-mapping.ts';
import type { SideRef } from './documents.ts';
import { columnOf, ident, qualified } from './values.ts';

/**
 * Reconciliation's checksums (issue 9, ADR 0051), computed inside Postgres by generated functions. Each
 * root and child row is hashed with `hash_record_extended` over its compared fields as typed values that
 * are equal on the two sides exactly when the canonical documents are equal (money at its two decimals,
 * char trimmed, timestamps as instants) — typed, not the documents' text, because formatting a timestamp
 * costs three times the hash. Fields go in by name, so the two sides' declaration orders need not agree.
 * A segment's checksum is the count and the sum of its rows' hashes: independent of order, so a key range
 * costs one scan of each side, and 2^32 key prefixes (the first 8 hex digits of the uuid) give the ranges.
 */
function typed(type: FieldType, expr: string): string {
  switch (type) {
    case 'uuid':
      return `(${expr})::uuid`;
    case 'text':
      return `(${expr})::text`;
    case 'char':
      return `rtrim(${expr})::text`;
    case 'int':
      return `(${expr})::int8`;
    case 'bool':
      return `(${expr})::boolean`;
    case 'money':
      return `(${expr})::numeric(16,2)`;
    case 'timestamp':
      return `(${expr})::timestamp`;
    case 'timestamptz':
      return `(${expr})::timestamptz`;
    case 'date':
      return `(${expr})::date`;
    case 'jsonb':
      return `(${expr})::jsonb`;
  }
}

function value(field: FieldSpec, alias: string): string {
  const column = columnOf(field);
  return typed(field.type, field.read ?? (column ? `${alias}.${ident(column)}` : 'NULL'));
}

/** The compared fields in name order (a field one side lacks hashes as NULL, as the documents compare it). */
function hashed(a: AggregateMapping, fields: FieldSpec[], names: string[], alias: string): string[] {
  const skip = new Set(Object.keys(a.notCompared ?? {}));
  return names.filter((n) => !skip.has(n)).map((n) => {
    const field = fields.find((f) => f.field === n);
    return field ? value(field, alias) : 'NULL';
  });
}

const fieldNames = (...lists: (FieldSpec[] | undefined)[]) => [...new Set(lists.flatMap((l) => (l ?? []).map((f) => f.field)))].sort();

function rootHash(a: AggregateMapping, side: Side): string {
  const spec = side === 'legacy' ? a.legacy : a.own;
  return `hash_record_extended(ROW(${hashed(a, spec.fields, fieldNames(a.legacy.fields, a.own.fields), 't').join(', ')}), 0)`;
}

function childHash(a: AggregateMapping, side: Side, child: ChildSpec): string {
  const other = (side === 'legacy' ? a.own : a.legacy).children?.find((c) => c.field === child.field);
  const values = [`c.${ident(child.parentKey)}::uuid`, ...hashed(a, child.fields, fieldNames(child.fields, other?.fields), 'c')];
  return `hash_record_extended(ROW(${values.join(', ')}), 0)`;
}

/** the first 32 bits of a uuid as a bigint in [0, 2^32) (bytes, not text: four times cheaper) */
const prefixOf = (key: string): string =>
  `((get_byte(uuid_send(${key}), 0)::int8 << 24) | (get_byte(uuid_send(${key}), 1)::int8 << 16) | (get_byte(uuid_send(${key}), 2)::int8 << 8) | get_byte(uuid_send(${key}), 3)::int8)`;

export const PREFIXES = 2 ** 32;

/** Names of an aggregate's reconciliation functions (in the migration schema). */
export const checksumFunctionNames = (base: string) => ({
  segments: (side: Side) => `${base}_segments_${side}`,
  hashes: (side: Side) => `${base}_hashes_${side}`,
  changed: (side: Side) => `${base}_changed_${side}`,
});

/**
 * `$1`/`$2`: the range's first key and its end (exclusive; NULL = open), as the function body binds
 * them. The whole key space is a plain scan; a sub-range uses the key index.
 */
const RANGE = { all: 'true', from: '%1$s >= $1', between: '%1$s >= $1 AND %1$s < $2' } as const;

function rangeDispatch(query: (condition: string) => string, using: string): string {
  const run = (kind: keyof typeof RANGE) => `RETURN QUERY EXECUTE $q$${query(RANGE[kind])}$q$ USING ${using};`;
  return `  IF p_lo <= 0 AND p_hi >= ${PREFIXES} THEN ${run('all')}
  ELSIF p_hi >= ${PREFIXES} THEN ${run('from')}
  ELSE ${run('between')}
  END IF;`;
}

const BOUNDS = `  v_from uuid := (lpad(to_hex(greatest(p_lo, 0)), 8, '0') || '-0000-0000-0000-000000000000')::uuid;
  v_to uuid := CASE WHEN p_hi >= ${PREFIXES} THEN NULL ELSE (lpad(to_hex(p_hi), 8, '0') || '-0000-0000-0000-000000000000')::uuid END;`;

/** `%1$s` in a range condition: the key column of the scanned table */
const on = (condition: string, key: string) => condition.replaceAll('%1$s', key);

export interface ChecksumFunction {
  name: string;
  signature: string;
  ddl: string;
}

/**
 * The functions reconciliation calls on one side of an aggregate:
 *  - `_segments_<side>(lo, hi, parts)`: keys with a prefix in [lo, hi) split into `parts` equal ranges, one
 *    row per non-empty range: `part`, root count `n` and hash sum `s`, child count `cn` and sum `cs`;
 *  - `_hashes_<side>(lo, hi)`: every key in the range with its hash (root plus its children's) and
 *    whether the root row exists (`root` = 1; 0: only child rows carry the key);
 *  - `_changed_<side>(since)`: keys whose `updated_at` is at or after `since` (when the side has one).
 * SECURITY DEFINER like the other generated functions: the migration role runs them without reading the
 * tables itself. Each runs its query with EXECUTE, planned for the actual range (parallel where it helps).
 */
export function checksumFunctions(base: string, a: AggregateMapping, ref: SideRef, side: Side, header: string): ChecksumFunction[] {
  const names = checksumFunctionNames(base);
  const fn = (name: string) => qualified('migration', name);
  const table = qualified(ref.schema, ref.spec.table);
  const children = ref.spec.children ?? [];
  const part = (key: string) => `((${prefixOf(key)} - $3) * $5 / ($4 - $3))::int`;
  const segments = (condition: string) => {
    const branches = [
      `SELECT ${part('t.id')} AS part, count(*) AS n, sum(${rootHash(a, side)}) AS s, 0::bigint AS cn, 0::numeric AS cs FROM ${table} t WHERE ${on(condition, 't.id')} GROUP BY 1`,
      ...children.map((c) => {
        const key = `c.${ident(c.parentKey)}`;
        return `SELECT ${part(key)}, 0::bigint, 0::numeric, count(*), sum(${childHash(a, side, c)}) FROM ${qualified(ref.schema, c.table)} c WHERE ${on(condition, key)} GROUP BY 1`;
      }),
    ];
    return `SELECT x.part, sum(x.n)::bigint, coalesce(sum(x.s), 0), sum(x.cn)::bigint, coalesce(sum(x.cs), 0) FROM (${branches.join(' UNION ALL ')}) x GROUP BY x.part`;
  };
  const hashes = (condition: string) => {
    const branches = [
      `SELECT t.id AS key, ${rootHash(a, side)}::numeric AS h, 1 AS root FROM ${table} t WHERE ${on(condition, 't.id')}`,
      ...children.map((c) => {
        const key = `c.${ident(c.parentKey)}`;
        return `SELECT ${key}, ${childHash(a, side, c)}::numeric, 0 FROM ${qualified(ref.schema, c.table)} c WHERE ${on(condition, key)}`;
      }),
    ];
    return `SELECT x.key, sum(x.h), max(x.root) FROM (${branches.join(' UNION ALL ')}) x GROUP BY x.key`;
  };
  const settings = `${header} SET TimeZone = 'UTC'`;
  const out: ChecksumFunction[] = [
    {
      name: names.segments(side),
      signature: 'bigint, bigint, integer',
      ddl: `CREATE OR REPLACE FUNCTION ${fn(names.segments(side))}(p_lo bigint, p_hi bigint, p_parts integer)
RETURNS TABLE(part integer, n bigint, s numeric, cn bigint, cs numeric)
LANGUAGE plpgsql STABLE ${settings} AS $fn$
DECLARE
${BOUNDS}
BEGIN
${rangeDispatch(segments, 'v_from, v_to, p_lo, p_hi, p_parts::bigint')}
END $fn$`,
    },
    {
      name: names.hashes(side),
      signature: 'bigint, bigint',
      ddl: `CREATE OR REPLACE FUNCTION ${fn(names.hashes(side))}(p_lo bigint, p_hi bigint)
RETURNS TABLE(key uuid, h numeric, root integer)
LANGUAGE plpgsql STABLE ${settings} AS $fn$
DECLARE
${BOUNDS}
BEGIN
${rangeDispatch(hashes, 'v_from, v_to')}
END $fn$`,
    },
  ];
  const marker = ref.spec.fields.find((f) => f.field === 'updated_at');
  if (marker) {
    out.push({
      name: names.changed(side),
      signature: 'timestamptz',
      ddl: `CREATE OR REPLACE FUNCTION ${fn(names.changed(side))}(p_since timestamptz) RETURNS TABLE(key uuid)
LANGUAGE sql STABLE ${settings} AS $fn$ SELECT t.id FROM ${table} t WHERE ${value({ ...marker, type: 'timestamptz' }, 't')} >= p_since $fn$`,
    });
  }
  return out;
}
