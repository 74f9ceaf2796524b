import type { Knex } from '../../platform/db.ts';
import type { AggregateMapping, ModuleMapping, Side } from '../../platform/mapping/aggregate-mapping.ts';
import { diff, type FieldDifference } from '../compare.ts';
import { checksumFunctionNames, PREFIXES } from '../sql/checksums.ts';
import { baseName, functionNames, sideRef } from '../sql/sync-objects.ts';
import { placeable } from './placeable.ts';

export type FindingKind = 'missing_in_own' | 'missing_in_legacy' | 'fields' | 'orphan';

export interface Finding {
  key: string;
  kind: FindingKind;
  fields: FieldDifference[];
  legacy: unknown;
  own: unknown;
  reason?: string;
}

export interface CompareOptions {
  mapping: ModuleMapping;
  aggregate: AggregateMapping;
  legacySchema: string;
  /** the migration role on DATABASE_URL: runs the generated functions of the legacy side (and of own, in one database) */
  legacyDb: Knex;
  /** where the own side's functions run: the same pool, or the module database's */
  ownDb: Knex;
  sameDatabase: boolean;
  /** incremental: only aggregates changed at or after this (by their updated_at) */
  since?: Date | undefined;
  /**
   * a segment with at most this many rows is compared row by row (default 128: a row hash read through
   * the key index costs a random heap read, ~5 µs, so small leaves pay off; more first-level parts cost little)
   */
  leafRows?: number;
  /** keys with a copy still owed (module in its own database): in flight, not drift */
  owed?: (keys: string[]) => Promise<Set<string>>;
  onProgress?: (p: { compared: number; estimate: number; segments: number }) => void;
}

export interface CompareResult {
  rowsCompared: number;
  segments: number;
  findings: Finding[];
}

interface Checksum { n: string; s: string; cn: string; cs: string }
const FANOUT = 16;

async function call<T>(db: Knex | Knex.Transaction, fn: string, args: unknown[]): Promise<T[]> {
  return ((await db.raw(`SELECT * FROM migration.${fn}(${args.map(() => '?').join(', ')})`, args as never[])) as { rows: T[] }).rows;
}

/**
 * Both sides read under ONE snapshot when they share a database (a second connection imports the first's
 * exported snapshot): dual-write keeps them equal at every commit, so nothing written during the run can
 * look like drift. Two databases cannot share a snapshot; their findings are read again instead.
 */
async function withReaders<T>(o: CompareOptions, fn: (legacy: Knex.Transaction, own: Knex.Transaction) => Promise<T>): Promise<T> {
  return o.legacyDb.transaction(async (a) => {
    await a.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows: [snap] } = (await a.raw('SELECT pg_export_snapshot() AS s')) as { rows: { s: string }[] };
    return o.ownDb.transaction(async (b) => {
      await b.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (o.sameDatabase) await b.raw(`SET TRANSACTION SNAPSHOT '${snap!.s.replace(/'/g, '')}'`);
      return fn(a, b);
    });
  });
}

const same = (a: Checksum | undefined, b: Checksum | undefined) =>
  (a?.n ?? 0) === (b?.n ?? 0) && (a?.s ?? '0') === (b?.s ?? '0') && (a?.cn ?? 0) === (b?.cn ?? 0) && (a?.cs ?? '0') === (b?.cs ?? '0');

/**
 * Compare one aggregate, legacy against own (the approach of data-diff): checksums of key ranges computed
 * in Postgres on both sides, only mismatching ranges split again (16 ways) until they are small enough to
 * compare row hashes; keys whose hashes differ are then explained field by field from the mapping's
 * documents. An unchanged pair costs one scan of each side.
 */
export async function compareAggregate(o: CompareOptions): Promise<CompareResult> {
  const legacy = sideRef(o.mapping, o.aggregate, 'legacy', o.legacySchema);
  const fns = checksumFunctionNames(baseName(o.aggregate));
  const leafRows = o.leafRows ?? 128;
  const result = await withReaders(o, async (a, b) => {
    const estimate = await estimateRows(a, legacy.schema, legacy.spec.table);
    let candidates: string[];
    let compared = 0;
    let segments = 0;
    if (o.since) {
      const hasMarker = (side: 'legacy' | 'own') => (side === 'legacy' ? o.aggregate.legacy : o.aggregate.own).fields.some((f) => f.field === 'updated_at');
      if (!hasMarker('legacy') || !hasMarker('own')) throw new Error(`${o.mapping.module}/${o.aggregate.name} has no updated_at: compare it in full`);
      const since = o.since.toISOString();
      const [l, r] = await Promise.all([call<{ key: string }>(a, fns.changed('legacy'), [since]), call<{ key: string }>(b, fns.changed('own'), [since])]);
      candidates = [...new Set([...l, ...r].map((x) => x.key))];
      compared = candidates.length;
    } else {
      candidates = [];
      // the first level: the whole key space in parts of about leafRows rows each, in one scan per side;
      // then level by level, every mismatching range of a level in one call per side
      const parts = Math.min(65_536, Math.max(FANOUT, 2 ** Math.ceil(Math.log2(Math.max(1, estimate) / leafRows))));
      let level: Range[] = [{ lo: 0, hi: PREFIXES }];
      let n = parts;
      while (level.length > 0) {
        const [l, r] = await Promise.all([segmentsOf(a, fns.segments('legacy'), level, n), segmentsOf(b, fns.segments('own'), level, n)]);
        if (level[0]!.lo === 0 && level[0]!.hi === PREFIXES) compared = Math.max(sumRows(l), sumRows(r));
        const next: Range[] = [];
        const leaves: Range[] = [];
        const id = (x: Segment) => `${x.lo}:${x.part}`;
        const left = new Map(l.map((x) => [id(x), x]));
        const right = new Map(r.map((x) => [id(x), x]));
        for (const key of new Set([...left.keys(), ...right.keys()])) {
          segments++;
          const x = left.get(key);
          const y = right.get(key);
          if (same(x, y)) continue;
          const { lo, hi, part } = (x ?? y)!;
          const range = { lo: lo + Math.ceil((part * (hi - lo)) / n), hi: lo + Math.ceil(((part + 1) * (hi - lo)) / n) };
          const rows = Math.max(Number(x?.n ?? 0) + Number(x?.cn ?? 0), Number(y?.n ?? 0) + Number(y?.cn ?? 0));
          (rows <= leafRows || range.hi - range.lo <= 1 ? leaves : next).push(range);
        }
        candidates.push(...(await differingRows(fns, a, b, leaves)));
        o.onProgress?.({ compared, estimate, segments });
        level = next;
        n = FANOUT;
      }
    }
    return { compared, segments, findings: await explain(o, a, b, candidates) };
  });
  const findings = o.sameDatabase ? result.findings : await recheck(o, result.findings);
  return { rowsCompared: result.compared, segments: result.segments, findings };
}

interface Range { lo: number; hi: number }
/** a sub-range's checksum, with the range it is part of */
type Segment = Checksum & Range & { part: number };
const sumRows = (xs: Checksum[]) => xs.reduce((s, x) => s + Number(x.n), 0);
/** ranges at most per call: a level's leaves hold about leafRows rows each */
const RANGES_PER_CALL = 256;

/** the ranges in calls of at most RANGES_PER_CALL */
const chunked = (ranges: Range[]): Range[][] => Array.from({ length: Math.ceil(ranges.length / RANGES_PER_CALL) }, (_, k) => ranges.slice(k * RANGES_PER_CALL, (k + 1) * RANGES_PER_CALL));

/** `migration.<fn>(lo, hi, ...extra)` over each range of a chunk, in one statement; each row says which range it came from */
async function overRanges<T>(db: Knex.Transaction, fn: string, chunk: Range[], extra: unknown[] = []): Promise<(T & Range)[]> {
  const { rows } = (await db.raw(
    `SELECT r.lo::float8 AS lo, r.hi::float8 AS hi, f.* FROM unnest(?::bigint[], ?::bigint[]) r(lo, hi), LATERAL migration.${fn}(r.lo, r.hi${extra.map(() => ', ?').join('')}) f`,
    [chunk.map((x) => x.lo), chunk.map((x) => x.hi), ...extra] as never[],
  )) as { rows: (T & Range)[] };
  return rows;
}

/** The checksums of `parts` sub-ranges of each range. */
async function segmentsOf(db: Knex.Transaction, fn: string, ranges: Range[], parts: number): Promise<Segment[]> {
  const out: Segment[] = [];
  for (const chunk of chunked(ranges)) out.push(...(await overRanges<Checksum & { part: number }>(db, fn, chunk, [parts])));
  return out;
}

/** Keys whose row hashes differ (or that one side lacks) within the ranges, one call per side per chunk of ranges. */
async function differingRows(fns: ReturnType<typeof checksumFunctionNames>, a: Knex.Transaction, b: Knex.Transaction, ranges: Range[]): Promise<string[]> {
  const keys = new Set<string>();
  type Hash = { key: string; h: string; root: number };
  for (const chunk of chunked(ranges)) {
    const [l, r] = await Promise.all([overRanges<Hash>(a, fns.hashes('legacy'), chunk), overRanges<Hash>(b, fns.hashes('own'), chunk)]);
    const right = new Map(r.map((x) => [x.key, x]));
    for (const x of l) if (right.get(x.key)?.h !== x.h || right.get(x.key)?.root !== x.root) keys.add(x.key);
    const left = new Set(l.map((x) => x.key));
    for (const y of r) if (!left.has(y.key)) keys.add(y.key);
  }
  return [...keys];
}

async function docs(db: Knex | Knex.Transaction, aggregate: AggregateMapping, side: Side, keys: string[]): Promise<Map<string, unknown>> {
  if (keys.length === 0) return new Map();
  const { rows } = (await db.raw(`SELECT key::text AS key, doc FROM migration.${functionNames(aggregate).docs(side)}(?::uuid[])`, [keys])) as { rows: { key: string; doc: unknown }[] };
  return new Map(rows.map((r) => [r.key, r.doc]));
}

/** What differs for each candidate key, from the documents: which side lacks it, or which fields with both values. */
async function explain(o: CompareOptions, a: Knex | Knex.Transaction, b: Knex | Knex.Transaction, keys: string[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  const ignored = Object.keys(o.aggregate.notCompared ?? {});
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const [l, r] = await Promise.all([docs(a, o.aggregate, 'legacy', chunk), docs(b, o.aggregate, 'own', chunk)]);
    for (const key of chunk) {
      const legacy = l.get(key);
      const own = r.get(key);
      if (legacy === undefined && own === undefined) continue;
      if (legacy === undefined || own === undefined) {
        const [present, missingOn]: [unknown, Side] = legacy === undefined ? [own, 'legacy'] : [legacy, 'own'];
        const problem = await placeable(o.legacyDb, o.ownDb, o.mapping, o.aggregate, o.legacySchema, missingOn, present);
        findings.push(problem
          ? { key, kind: 'orphan', fields: [], legacy: legacy ?? null, own: own ?? null, reason: problem }
          : { key, kind: missingOn === 'own' ? 'missing_in_own' : 'missing_in_legacy', fields: [], legacy: legacy ?? null, own: own ?? null });
        continue;
      }
      const fields = diff(legacy, own, { ignored, limit: 50 });
      if (fields.length > 0) findings.push({ key, kind: 'fields', fields, legacy, own });
    }
  }
  return findings;
}

/**
 * Two databases share no snapshot: a finding is reported only if it still holds when read again, a few
 * times and apart, and no copy of that key is owed at the time (a copy in flight, not drift). A real
 * difference survives every round; a write racing the run does not survive one.
 */
async function recheck(o: CompareOptions, findings: Finding[], rounds = 3, pauseMs = 300): Promise<Finding[]> {
  let still = findings;
  for (let round = 0; round < rounds && still.length > 0; round++) {
    await new Promise((r) => setTimeout(r, pauseMs));
    const again = await explain(o, o.legacyDb, o.ownDb, still.map((f) => f.key));
    const inFlight = (await o.owed?.(again.map((f) => f.key))) ?? new Set<string>();
    still = again.filter((f) => !inFlight.has(f.key));
  }
  return still;
}

async function estimateRows(db: Knex | Knex.Transaction, schema: string, table: string): Promise<number> {
  const { rows: [r] } = (await db.raw(
    `SELECT greatest(c.reltuples, 0)::bigint AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = ? AND c.relname = ?`,
    [schema, table],
  )) as { rows: { n: string }[] };
  return Number(r?.n ?? 0);
}
