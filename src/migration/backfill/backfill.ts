import { hostname } from 'node:os';
import type { Knex } from '../../platform/db.ts';
import type { AggregateMapping, ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import { documentsQuery } from '../sql/documents.ts';
import { functionNames, sideRef } from '../sql/sync-objects.ts';

export interface BackfillProgress {
  module: string;
  aggregate: string;
  runId: number;
  copied: number;
  estimate: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
  resumed: boolean;
  done: boolean;
}

export interface BackfillOptions {
  /** the migration role's pool: runs the generated backfill functions, keeps the checkpoints */
  db: Knex;
  /** with the module's own schema in a database of its own: the module's pool on DATABASE_URL (share-locks its legacy rows) and the module database's */
  separate?: { legacy: Knex; own: Knex } | undefined;
  legacySchema: string;
  mapping: ModuleMapping;
  /** only these aggregates (default: all, in declaration order) */
  aggregates?: string[] | undefined;
  batchSize: number;
  /** key ranges copied at once, each by a worker of its own (a new run; a resumed run keeps its ranges) */
  jobs?: number | undefined;
  /** rows per second at most, all workers together (0 or undefined: as fast as it goes) */
  rate?: number | undefined;
  /** start over instead of resuming an unfinished run */
  restart?: boolean | undefined;
  /** copy even though no process dual-writes the module (rows written later would not follow) */
  force?: boolean | undefined;
  /** `own` (default): legacy → own. `legacy`: own → legacy, to bring the shared tables back up to date after a rollback from NEW_ONLY */
  to?: 'own' | 'legacy' | undefined;
  onProgress?: (p: BackfillProgress) => void;
  signal?: AbortSignal | undefined;
}

export interface BackfillResult {
  aggregate: string;
  runId: number;
  copied: number;
  seconds: number;
  resumed: boolean;
  interrupted: boolean;
}

export class BackfillRefused extends Error {}

interface Part {
  part: number;
  range_start: string | null;
  range_end: string | null;
  last_key: string | null;
  rows_copied: string;
  finished: boolean;
}

/** `n` ranges of the uuid key space, split on the first 32 bits: [start, end) with null for open ends. */
export function keyRanges(n: number): { start: string | null; end: string | null }[] {
  const bound = (i: number) => `${Math.floor((i * 2 ** 32) / n).toString(16).padStart(8, '0')}-0000-0000-0000-000000000000`;
  return Array.from({ length: n }, (_, i) => ({ start: i === 0 ? null : bound(i), end: i === n - 1 ? null : bound(i + 1) }));
}

/**
 * Copy a module's legacy aggregates into its own schema in key order, in batches (ADR 0050):
 *  - idempotent: documents are upserted and equal rows are not rewritten, so a second run changes nothing;
 *  - resumable: each batch commits together with its checkpoint (migration.backfill_parts.last_key), so a
 *    crashed run resumes after the last committed batch of each key range;
 *  - safe under dual-write: each batch share-locks its legacy rows until it commits, so an application
 *    write to one of them waits and then copies its own, newer version — never the other way round;
 *  - throttled by --rate, parallel over --jobs key ranges, one run per aggregate at a time.
 * Refuses to start unless some process dual-writes the module: a row written behind the backfill would
 * never reach the own schema.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillResult[]> {
  const { db, mapping } = options;
  if (!options.force) {
    const [{ n }] = (await db('migration.dual_write_leases').where({ module: mapping.module }).where('expires_at', '>', db.fn.now()).count({ n: '*' })) as [{ n: string }];
    if (Number(n) === 0) {
      throw new BackfillRefused(
        `no process dual-writes ${mapping.module} (turn on dual_write_${mapping.module}_db first — \`boxoffice cutover advance ${mapping.module}\`): ` +
          'rows written after the backfill passed them would never reach the own schema; --force copies anyway',
      );
    }
  }
  const wanted = options.aggregates ?? mapping.aggregates.map((a) => a.name);
  const unknown = wanted.filter((w) => !mapping.aggregates.some((a) => a.name === w));
  if (unknown.length > 0) throw new BackfillRefused(`${mapping.module} has no aggregate ${unknown.join(', ')} (it has ${mapping.aggregates.map((a) => a.name).join(', ')})`);
  if (options.separate && options.to === 'legacy') throw new BackfillRefused('copying back to the legacy tables from a module database of its own is not supported (it never becomes the write primary before extraction)');
  const results: BackfillResult[] = [];
  for (const aggregate of mapping.aggregates.filter((a) => wanted.includes(a.name))) {
    results.push(await backfillAggregate(options, aggregate));
    if (options.signal?.aborted) break;
  }
  return results;
}

async function backfillAggregate(options: BackfillOptions, aggregate: AggregateMapping): Promise<BackfillResult> {
  const { db, mapping } = options;
  const lockKey = `backfill:${mapping.module}:${aggregate.name}:${options.to ?? 'own'}`;
  // a dedicated session holds the run's lock: the run is alive exactly as long as this connection
  const conn = await db.client.acquireConnection();
  const session = (sql: string, bindings: Knex.RawBinding[]) => db.raw(sql, bindings).connection(conn);
  try {
    const { rows: [lock] } = (await session('SELECT pg_try_advisory_lock(hashtext(?)) AS ok', [lockKey])) as { rows: { ok: boolean }[] };
    if (!lock?.ok) throw new BackfillRefused(`another backfill of ${mapping.module}/${aggregate.name} is running`);
    const run = await openRun(options, aggregate);
    const estimate = options.to === 'legacy'
      ? await estimateRows(db, mapping.ownSchema, aggregate.own.table)
      : await estimateRows(db, options.legacySchema, aggregate.legacy.table);
    const started = performance.now();
    const before = run.parts.reduce((n, p) => n + Number(p.rows_copied), 0);
    let copied = before;
    const report = (done: boolean) => {
      const seconds = (performance.now() - started) / 1000;
      const rowsPerSecond = seconds > 0 ? (copied - before) / seconds : 0;
      options.onProgress?.({
        module: mapping.module, aggregate: aggregate.name, runId: run.id, copied, estimate, rowsPerSecond,
        etaSeconds: rowsPerSecond > 0 ? Math.max(estimate - copied, 0) / rowsPerSecond : null, resumed: run.resumed, done,
      });
    };
    report(false);
    const worker = async (part: Part) => {
      let after = part.last_key;
      while (!part.finished && !options.signal?.aborted) {
        const batch = await copyBatch(options, aggregate, run.id, part, after);
        if (batch.copied === 0) break;
        copied += batch.copied;
        after = batch.lastKey;
        report(false);
        if (options.rate && options.rate > 0) {
          const due = ((copied - before) / options.rate) * 1000 - (performance.now() - started);
          if (due > 0) await new Promise((r) => setTimeout(r, due));
        }
      }
    };
    await Promise.all(run.parts.filter((p) => !p.finished).map(worker));
    const seconds = (performance.now() - started) / 1000;
    if (options.signal?.aborted) {
      await db('migration.backfill_runs').where({ id: run.id }).update({ status: 'failed', error: 'interrupted', updated_at: db.fn.now() });
      return { aggregate: aggregate.name, runId: run.id, copied, seconds, resumed: run.resumed, interrupted: true };
    }
    await db('migration.backfill_runs').where({ id: run.id }).update({ status: 'finished', rows_copied: copied, finished_at: db.fn.now(), updated_at: db.fn.now() });
    report(true);
    return { aggregate: aggregate.name, runId: run.id, copied, seconds, resumed: run.resumed, interrupted: false };
  } finally {
    await session('SELECT pg_advisory_unlock(hashtext(?))', [lockKey]).catch(() => undefined);
    await db.client.releaseConnection(conn);
  }
}

/** The unfinished run to resume (its ranges and checkpoints), or a new one with `jobs` ranges. */
async function openRun(options: BackfillOptions, aggregate: AggregateMapping): Promise<{ id: number; parts: Part[]; resumed: boolean }> {
  const { db, mapping } = options;
  const direction = `to_${options.to ?? 'own'}`;
  return db.transaction(async (trx) => {
    const latest = (await trx('migration.backfill_runs').where({ module: mapping.module, aggregate: aggregate.name, direction }).orderBy('id', 'desc').first()) as { id: number; status: string } | undefined;
    if (latest && latest.status !== 'finished' && !options.restart) {
      await trx('migration.backfill_runs').where({ id: latest.id }).update({ status: 'running', error: null, host: hostname(), batch_size: options.batchSize, rate: options.rate ?? null, updated_at: trx.fn.now() });
      return { id: latest.id, parts: (await trx('migration.backfill_parts').where({ run_id: latest.id }).orderBy('part')) as Part[], resumed: true };
    }
    if (latest && latest.status === 'running') await trx('migration.backfill_runs').where({ id: latest.id }).update({ status: 'failed', error: 'abandoned by --restart' });
    const ranges = keyRanges(Math.max(1, options.jobs ?? 1));
    const [row] = (await trx('migration.backfill_runs')
      .insert({ module: mapping.module, aggregate: aggregate.name, direction, status: 'running', parts: ranges.length, batch_size: options.batchSize, rate: options.rate ?? null, host: hostname() })
      .returning(['id'])) as { id: number }[];
    const parts = (await trx('migration.backfill_parts')
      .insert(ranges.map((r, part) => ({ run_id: row!.id, part, range_start: r.start, range_end: r.end })))
      .returning('*')) as Part[];
    return { id: row!.id, parts, resumed: false };
  });
}

/** the planner's estimate: exact counts of a million-row table would cost a scan before the copy starts */
async function estimateRows(db: Knex, schema: string, table: string): Promise<number> {
  const { rows: [r] } = (await db.raw(`SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = to_regclass(?)`, [`"${schema}"."${table}"`])) as { rows: { n: string }[] };
  if (r && Number(r.n) > 0) return Number(r.n);
  try {
    const [{ n }] = (await db.withSchema(schema).table(table).count({ n: '*' })) as [{ n: string }];
    return Number(n);
  } catch {
    return 0; // no privilege to count: the progress shows no total
  }
}

/** One batch of a key range and its checkpoint, committed together (one database) or checkpoint last (two). */
async function copyBatch(options: BackfillOptions, aggregate: AggregateMapping, runId: number, part: Part, after: string | null): Promise<{ copied: number; lastKey: string | null }> {
  const { db, batchSize } = options;
  const checkpoint = async (trx: Knex | Knex.Transaction, lastKey: string | null, copied: number) => {
    await trx('migration.backfill_parts').where({ run_id: runId, part: part.part })
      .update({ last_key: lastKey, rows_copied: trx.raw('rows_copied + ?', [copied]), finished: copied === 0, updated_at: trx.fn.now() });
  };
  if (!options.separate) {
    return db.transaction(async (trx) => {
      const { rows: [r] } = (await trx.raw(`SELECT last_key, copied FROM migration.${functionNames(aggregate).backfill(options.to ?? 'own')}(?::uuid, ?::uuid, ?::uuid, ?)`, [after, part.range_start, part.range_end, batchSize])) as {
        rows: { last_key: string | null; copied: number }[];
      };
      const copied = r?.copied ?? 0;
      await checkpoint(trx, copied > 0 ? r!.last_key : after, copied);
      return { copied, lastKey: copied > 0 ? r!.last_key : after };
    });
  }
  const { legacy, own } = options.separate;
  const ref = sideRef(options.mapping, aggregate, 'legacy', options.legacySchema);
  return legacy.transaction(async (locked) => {
    const { rows } = (await locked.raw(
      documentsQuery(ref, '(?::uuid IS NULL OR t.id > ?::uuid) AND (?::uuid IS NULL OR t.id >= ?::uuid) AND (?::uuid IS NULL OR t.id < ?::uuid)', 'ORDER BY t.id LIMIT ? FOR SHARE OF t'),
      [after, after, part.range_start, part.range_start, part.range_end, part.range_end, batchSize],
    )) as { rows: { key: string; doc: unknown }[] };
    if (rows.length === 0) {
      await checkpoint(db, after, 0);
      return { copied: 0, lastKey: after };
    }
    const lastKey = rows.at(-1)!.key;
    await own.raw(`SELECT migration.${functionNames(aggregate).write('own')}(?::jsonb, NULL)`, [JSON.stringify(rows.map((r) => r.doc))]);
    await checkpoint(db, lastKey, rows.length);
    return { copied: rows.length, lastKey };
  });
}
