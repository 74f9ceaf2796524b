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
  lastKey: string | null;
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
  /** rows per second at most (0 or undefined: as fast as it goes) */
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

interface RunRow {
  id: number;
  status: string;
  last_key: string | null;
  rows_copied: string;
}

/**
 * Copy a module's legacy aggregates into its own schema in key order, in batches (ADR 0050):
 *  - idempotent: documents are upserted and equal rows are not rewritten, so a second run changes nothing;
 *  - resumable: each batch commits together with its checkpoint (migration.backfill_runs.last_key), so a
 *    crashed run resumes after the last committed batch;
 *  - safe under dual-write: each batch share-locks its legacy rows until it commits, so an application
 *    write to one of them waits and then copies its own, newer version — never the other way round;
 *  - throttled by --rate, one run per aggregate at a time (a session advisory lock).
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
  const results: BackfillResult[] = [];
  for (const aggregate of mapping.aggregates.filter((a) => wanted.includes(a.name))) {
    results.push(await backfillAggregate(options, aggregate));
    if (options.signal?.aborted) break;
  }
  return results;
}

async function backfillAggregate(options: BackfillOptions, aggregate: AggregateMapping): Promise<BackfillResult> {
  const { db, mapping, batchSize } = options;
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
    let copied = Number(run.row.rows_copied);
    const copiedBefore = copied;
    let lastKey = run.row.last_key;
    const report = (done: boolean) => {
      const seconds = (performance.now() - started) / 1000;
      const rowsPerSecond = seconds > 0 ? (copied - copiedBefore) / seconds : 0;
      const left = Math.max(estimate - copied, 0);
      options.onProgress?.({
        module: mapping.module, aggregate: aggregate.name, runId: run.row.id, copied, estimate, rowsPerSecond,
        etaSeconds: rowsPerSecond > 0 ? left / rowsPerSecond : null, lastKey, resumed: run.resumed, done,
      });
    };
    report(false);
    for (;;) {
      if (options.signal?.aborted) {
        await db('migration.backfill_runs').where({ id: run.row.id }).update({ status: 'failed', error: 'interrupted', updated_at: db.fn.now() });
        return { aggregate: aggregate.name, runId: run.row.id, copied, seconds: (performance.now() - started) / 1000, resumed: run.resumed, interrupted: true };
      }
      const batch = await copyBatch(options, aggregate, run.row.id, lastKey, batchSize);
      if (batch.copied === 0) break;
      copied += batch.copied;
      lastKey = batch.lastKey;
      report(false);
      if (options.rate && options.rate > 0) {
        const due = ((copied - copiedBefore) / options.rate) * 1000 - (performance.now() - started);
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      }
    }
    await db('migration.backfill_runs').where({ id: run.row.id }).update({ status: 'finished', finished_at: db.fn.now(), updated_at: db.fn.now() });
    report(true);
    return { aggregate: aggregate.name, runId: run.row.id, copied, seconds: (performance.now() - started) / 1000, resumed: run.resumed, interrupted: false };
  } finally {
    await session('SELECT pg_advisory_unlock(hashtext(?))', [lockKey]).catch(() => undefined);
    await db.client.releaseConnection(conn);
  }
}

/** The unfinished run to resume (its checkpoint), or a new one. */
async function openRun(options: BackfillOptions, aggregate: AggregateMapping): Promise<{ row: RunRow; resumed: boolean }> {
  const { db, mapping } = options;
  return db.transaction(async (trx) => {
    const direction = `to_${options.to ?? 'own'}`;
    const latest = (await trx('migration.backfill_runs').where({ module: mapping.module, aggregate: aggregate.name, direction }).orderBy('id', 'desc').first()) as RunRow | undefined;
    if (latest && latest.status !== 'finished' && !options.restart) {
      await trx('migration.backfill_runs').where({ id: latest.id }).update({ status: 'running', error: null, host: hostname(), batch_size: options.batchSize, rate: options.rate ?? null, updated_at: trx.fn.now() });
      return { row: latest, resumed: true };
    }
    if (latest && latest.status === 'running') await trx('migration.backfill_runs').where({ id: latest.id }).update({ status: 'failed', error: 'abandoned by --restart' });
    const [row] = (await trx('migration.backfill_runs')
      .insert({ module: mapping.module, aggregate: aggregate.name, direction, status: 'running', batch_size: options.batchSize, rate: options.rate ?? null, host: hostname() })
      .returning(['id', 'status', 'last_key', 'rows_copied'])) as RunRow[];
    return { row: row!, resumed: false };
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

/** One batch and its checkpoint, committed together (in one database) or checkpoint last (two databases). */
async function copyBatch(options: BackfillOptions, aggregate: AggregateMapping, runId: number, after: string | null, limit: number): Promise<{ copied: number; lastKey: string | null }> {
  const { db } = options;
  const checkpoint = (trx: Knex | Knex.Transaction, lastKey: string | null, copied: number) =>
    trx('migration.backfill_runs').where({ id: runId }).update({ last_key: lastKey, rows_copied: db.raw('rows_copied + ?', [copied]), updated_at: db.fn.now() });
  if (!options.separate || options.to === 'legacy') {
    if (options.separate) throw new BackfillRefused('copying back to the legacy tables from a module database of its own is not supported (it never becomes the write primary before extraction)');
    return db.transaction(async (trx) => {
      const { rows: [r] } = (await trx.raw(`SELECT last_key, copied FROM migration.${functionNames(aggregate).backfill(options.to ?? 'own')}(?::uuid, ?)`, [after, limit])) as {
        rows: { last_key: string | null; copied: number }[];
      };
      if (!r || r.copied === 0) return { copied: 0, lastKey: after };
      await checkpoint(trx, r.last_key, r.copied);
      return { copied: r.copied, lastKey: r.last_key };
    });
  }
  const { legacy, own } = options.separate;
  const ref = sideRef(options.mapping, aggregate, 'legacy', options.legacySchema);
  return legacy.transaction(async (locked) => {
    const { rows } = (await locked.raw(documentsQuery(ref, '(?::uuid IS NULL OR t.id > ?::uuid)', 'ORDER BY t.id LIMIT ? FOR SHARE OF t'), [after, after, limit])) as {
      rows: { key: string; doc: unknown }[];
    };
    if (rows.length === 0) return { copied: 0, lastKey: after };
    const keys = rows.map((r) => r.key);
    await own.raw(`SELECT migration.${functionNames(aggregate).write('own')}(?::jsonb, NULL)`, [JSON.stringify(rows.map((r) => r.doc))]);
    await checkpoint(db, keys.at(-1)!, rows.length);
    return { copied: rows.length, lastKey: keys.at(-1)! };
  });
}
