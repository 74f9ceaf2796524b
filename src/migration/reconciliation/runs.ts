import type { Knex } from '../../platform/db.ts';
import type { Finding, FindingKind } from './engine.ts';

export const FINDING_KINDS: FindingKind[] = ['missing_in_own', 'missing_in_legacy', 'fields', 'orphan'];
export type Counts = Record<FindingKind, number>;
export const noCounts = (): Counts => ({ missing_in_own: 0, missing_in_legacy: 0, fields: 0, orphan: 0 });

export interface RunRow {
  id: number;
  invocation: string;
  module: string;
  aggregate: string;
  mode: 'full' | 'incremental';
  repair: 'none' | 'dry_run' | 'apply';
  direction: 'to_own' | 'to_legacy' | null;
  phase: string | null;
  trigger: string;
  status: 'running' | 'clean' | 'drift' | 'error';
  started_at: Date;
  finished_at: Date | null;
  hwm: Date | null;
  rows_compared: string;
  rows_per_second: number | null;
  segments_compared: number;
  counts: Counts;
  remaining: Counts;
  error: string | null;
}

export type RepairOutcome = 'none' | 'would_insert' | 'would_update' | 'would_delete' | 'inserted' | 'updated' | 'deleted' | 'failed' | 'skipped';

export interface RecordedFinding extends Finding {
  repair: RepairOutcome;
  before?: unknown;
  after?: unknown;
  stillDifferent?: boolean;
}

/** A row of migration.reconciliation_findings: both sides' documents, the differing fields, what repair did. */
export interface FindingRow {
  id: number;
  run_id: number;
  key: string;
  kind: FindingKind;
  fields: { field: string; legacy: unknown; own: unknown }[];
  legacy: unknown;
  own: unknown;
  reason: string | null;
  repair: RepairOutcome;
  before: unknown;
  after: unknown;
  still_different: boolean | null;
  detected_at: Date;
}

/** the most findings kept per run (the counts stay exact) */
export const MAX_FINDINGS = 10_000;

/** migration.reconciliation_runs / _findings: what every run compared and found, for the CLI, the API and the dashboard. */
export const runStore = {
  async start(db: Knex, run: Pick<RunRow, 'invocation' | 'module' | 'aggregate' | 'mode' | 'repair' | 'direction' | 'phase' | 'trigger' | 'hwm'>): Promise<number> {
    const [row] = (await db('migration.reconciliation_runs').insert({ ...run, status: 'running' }).returning('id')) as { id: number }[];
    return Number(row!.id);
  },

  async finish(db: Knex, id: number, result: { rowsCompared: number; seconds: number; segments: number; counts: Counts; remaining: Counts; findings: RecordedFinding[] }): Promise<void> {
    const drift = Object.values(result.remaining).some((n) => n > 0);
    await db.transaction(async (trx) => {
      const kept = result.findings.slice(0, MAX_FINDINGS);
      for (let i = 0; i < kept.length; i += 500) {
        await trx('migration.reconciliation_findings').insert(
          kept.slice(i, i + 500).map((f) => ({
            run_id: id, key: f.key, kind: f.kind, fields: JSON.stringify(f.fields), legacy: JSON.stringify(f.legacy ?? null), own: JSON.stringify(f.own ?? null),
            reason: f.reason ?? null, repair: f.repair, before: f.before === undefined ? null : JSON.stringify(f.before),
            after: f.after === undefined ? null : JSON.stringify(f.after), still_different: f.stillDifferent ?? null,
          })),
        );
      }
      await trx('migration.reconciliation_runs').where({ id }).update({
        status: drift ? 'drift' : 'clean', finished_at: trx.fn.now(), rows_compared: result.rowsCompared,
        rows_per_second: result.seconds > 0 ? result.rowsCompared / result.seconds : null, segments_compared: result.segments,
        counts: JSON.stringify(result.counts), remaining: JSON.stringify(result.remaining),
      });
    });
  },

  async fail(db: Knex, id: number, err: unknown): Promise<void> {
    await db('migration.reconciliation_runs').where({ id }).update({ status: 'error', finished_at: db.fn.now(), error: (err instanceof Error ? err.message : String(err)).slice(0, 2000) });
  },

  /** where an incremental run starts: the last finished run's start, less a margin for transactions that were in flight */
  async highWaterMark(db: Knex, module: string, aggregate: string, marginMs = 5 * 60_000): Promise<Date | undefined> {
    const row = (await db('migration.reconciliation_runs').where({ module, aggregate }).whereIn('status', ['clean', 'drift']).orderBy('id', 'desc').first('started_at')) as { started_at: Date } | undefined;
    return row ? new Date(new Date(row.started_at).getTime() - marginMs) : undefined;
  },

  /** the newest finished run of each aggregate (of one module, or all) */
  async latest(db: Knex, module?: string): Promise<RunRow[]> {
    const q = db.raw(
      `SELECT DISTINCT ON (module, aggregate) * FROM migration.reconciliation_runs WHERE status <> 'running' ${module ? 'AND module = ?' : ''} ORDER BY module, aggregate, id DESC`,
      module ? [module] : [],
    );
    return ((await q) as { rows: RunRow[] }).rows.map(normalizeRun);
  },

  /** runs newest first, a page at a time: `before` is the id of the last run of the previous page (keyset, stable while runs are added) */
  async page(db: Knex, filter: { module?: string | undefined; aggregate?: string | undefined; limit: number; before?: number | undefined }): Promise<{ items: RunRow[]; nextBefore: number | null }> {
    const q = db('migration.reconciliation_runs').orderBy('id', 'desc').limit(filter.limit + 1);
    if (filter.module) q.where({ module: filter.module });
    if (filter.aggregate) q.where({ aggregate: filter.aggregate });
    if (filter.before !== undefined) q.where('id', '<', filter.before);
    const rows = (await q) as RunRow[];
    const items = rows.slice(0, filter.limit).map(normalizeRun);
    return { items, nextBefore: rows.length > filter.limit ? items.at(-1)!.id : null };
  },

  async get(db: Knex, id: number): Promise<RunRow | undefined> {
    const row = (await db('migration.reconciliation_runs').where({ id }).first()) as RunRow | undefined;
    return row && normalizeRun(row);
  },

  /** a run's findings in the order found, a page at a time: `after` is the id of the last finding of the previous page */
  async findings(db: Knex, runId: number, page: { limit: number; after?: number | undefined; kind?: FindingKind | undefined }): Promise<{ items: FindingRow[]; total: number; nextAfter: number | null }> {
    const base = () => {
      const q = db('migration.reconciliation_findings').where({ run_id: runId });
      if (page.kind) q.where({ kind: page.kind });
      return q;
    };
    const [{ n }] = (await base().count({ n: '*' })) as [{ n: string }];
    const q = base().orderBy('id').limit(page.limit + 1);
    if (page.after !== undefined) q.where('id', '>', page.after);
    const rows = (await q) as FindingRow[];
    const items = rows.slice(0, page.limit).map((f) => ({ ...f, id: Number(f.id), run_id: Number(f.run_id) }));
    return { items, total: Number(n), nextAfter: rows.length > page.limit ? items.at(-1)!.id : null };
  },

  /** finished runs since `since`, oldest first, at most `limit` (the newest ones): the drift chart's points */
  async history(db: Knex, options: { since: Date; limit: number }): Promise<RunRow[]> {
    const rows = (await db('migration.reconciliation_runs')
      .whereIn('status', ['clean', 'drift'])
      .where('started_at', '>=', options.since)
      .orderBy('id', 'desc')
      .limit(options.limit)) as RunRow[];
    return rows.reverse().map(normalizeRun);
  },
};

/** BIGINT columns arrive as strings from pg: the API and pages show numbers */
function normalizeRun(row: RunRow): RunRow {
  return { ...row, id: Number(row.id) };
}
