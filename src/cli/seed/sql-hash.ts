/**
 * SQL snippets for deterministic pseudo-random values. Every generated value is a pure function of
 * (seed, entity, key) through Postgres' `md5()`, so the same options give byte-identical rows on any
 * machine, and any statement can recompute a value another statement wrote (a booking's seat ids, a
 * showtime's price) without reading it back.
 */

/** A single-quoted SQL string literal. Vocabulary and constants only; never user input. */
export function lit(value: string): string {
  if (value.includes('?')) throw new Error(`seed literal must not contain "?" (knex placeholder): ${value}`);
  return `'${value.replaceAll("'", "''")}'`;
}

/** 32 hex digits: md5 of `<seed>:<entity>:<key>` (key is an SQL expression, usually an integer). */
export function md5Of(seed: number, entity: string, keySql: string): string {
  return `md5('${seed}:${entity}:' || (${keySql}))`;
}

/** The i-th of four independent 28-bit non-negative integers (0 … 268435455) in an md5 hex value. */
export function rnd(hexSql: string, i: 0 | 1 | 2 | 3): string {
  return `(('x' || substr(${hexSql}, ${1 + 7 * i}, 7))::bit(28)::int)`;
}

/** 2^28: divide `rnd()` by it for a fraction in [0, 1). */
export const RND_RANGE = 268_435_456;

/**
 * A UUID in version-4 layout (version nibble 4, variant 8) made from an md5 hex value. The hex expression
 * appears once, so an inline `md5(…)` is computed once per row.
 */
export function uuidFromHex(hexSql: string): string {
  return `overlay(overlay(${hexSql} placing '4' from 13) placing '8' from 17)::uuid`;
}

/** The primary key of the row `key` of `entity` (kept apart from the hash its attributes come from). */
export function idOf(seed: number, entity: string, keySql: string): string {
  return uuidFromHex(md5Of(seed, `id:${entity}`, keySql));
}

/** One element of a constant list, chosen by a non-negative integer expression. */
export function pick(list: readonly string[], intSql: string): string {
  return `(ARRAY[${list.map(lit).join(', ')}])[1 + (${intSql}) % ${list.length}]`;
}

/** A constant integer array, indexed 1-based in SQL. */
export function intArray(values: readonly number[], type: 'int' | 'bigint' = 'int'): string {
  for (const v of values) if (!Number.isSafeInteger(v)) throw new Error(`not an integer: ${v}`);
  return `'{${values.join(',')}}'::${type}[]`;
}

/** A `timestamp without time zone` literal for midnight of a YYYY-MM-DD day. */
export function dayLiteral(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a YYYY-MM-DD day: ${day}`);
  return `timestamp '${day} 00:00:00'`;
}

/** An interval of n seconds (n an SQL integer expression). */
export function seconds(intSql: string): string {
  return `((${intSql}) * interval '1 second')`;
}
