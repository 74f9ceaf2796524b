import type { Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import type { ModuleName } from '../../platform/config.ts';
import type { Databases, Knex } from '../../platform/db.ts';
import type { JobPlatform } from '../../platform/jobs/job-platform.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Worker } from '../../platform/module.ts';
import { resolveRoute, type FlagReader } from '../phases.ts';
import { reconcile } from './reconcile.ts';
import { FINDING_KINDS, runStore, type RunRow } from './runs.ts';

/** The BullMQ queue of scheduled reconciliation runs (one job scheduler per module, shown at /admin/queues). */
export const RECONCILE_QUEUE = 'migration-reconcile';

export interface ReconcileJob {
  module: ModuleName;
}

export interface ReconcileJobResult {
  module: ModuleName;
  skipped?: string;
  runs?: { runId: number; aggregate: string; status: string; rowsCompared: number; remaining: number }[];
}

export interface ScheduleOptions {
  jobs: JobPlatform;
  databases: Databases;
  legacySchema: string;
  mappings: ModuleMapping[];
  flags: FlagReader;
  /** RECONCILE_INTERVAL_MS: 0 removes the schedules */
  intervalMs: number;
  mode: 'full' | 'incremental';
  logger: Logger;
}

/**
 * Scheduled reconciliation: a BullMQ job scheduler per hosted module (`reconcile-<module>`, every
 * RECONCILE_INTERVAL_MS), so however many workers run, one of them runs each module's reconciliation per
 * interval. A run compares and records (repairs stay an operator's decision); it is skipped while there
 * is nothing to compare yet — the module not dual-writing, or no backfill of it finished.
 */
export function reconcileSchedule(o: ScheduleOptions): { queue: Queue<ReconcileJob, ReconcileJobResult>; worker: Worker } {
  const queue = o.jobs.queue<ReconcileJob, ReconcileJobResult>(RECONCILE_QUEUE, { attempts: 1, keepCompleted: 200, keepFailed: 200 });
  const db = o.databases.forRole('migration', 'migration');
  const log = o.logger.child({ component: 'reconcile-schedule' });
  const modules = o.mappings.map((m) => m.module);
  const jobs = o.jobs.worker<ReconcileJob, ReconcileJobResult>(RECONCILE_QUEUE, async (job) => {
    const module = job.data.module;
    const why = await skipReason(db, o.flags, module);
    if (why) return { module, skipped: why };
    const reports = await reconcile({
      databases: o.databases, legacySchema: o.legacySchema, mappings: o.mappings, modules: [module], mode: o.mode, repair: 'none',
      phaseOf: async (m) => resolveRoute(o.flags, m).phase, trigger: 'schedule',
      onProgress: (p) => void job.updateProgress({ aggregate: p.aggregate, compared: p.compared, estimate: p.estimate }).catch(() => undefined),
    });
    const runs = reports.map((r) => ({ runId: r.runId, aggregate: r.aggregate, status: r.status, rowsCompared: r.rowsCompared, remaining: FINDING_KINDS.reduce((n, k) => n + r.remaining[k], 0) }));
    const drift = runs.filter((r) => r.status !== 'clean');
    if (drift.length > 0) log.warn({ module, runs: drift }, 'reconciliation found differences (boxoffice reconcile, /admin/migration)');
    return { module, runs };
  }, { lockDurationMs: 120_000 });
  let stopped = false;
  /** put each module's job scheduler in place; while Redis is away, keep trying in the background */
  const schedule = async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        for (const module of modules) {
          const id = `reconcile-${module}`;
          if (o.intervalMs > 0) await queue.upsertJobScheduler(id, { every: o.intervalMs }, { name: 'reconcile', data: { module } });
          else await queue.removeJobScheduler(id);
        }
        return;
      } catch (err) {
        if (stopped) return;
        log.warn({ err: err instanceof Error ? err.message : String(err), attempt }, 'could not set the reconciliation schedules yet; trying again');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1_000 * 2 ** attempt)).unref());
      }
    }
  };
  const worker: Worker = {
    name: 'reconcile-schedule',
    async start() {
      stopped = false;
      // start-up does not wait for Redis (a BullMQ queue call waits until it is connected): readiness reports Redis
      void schedule();
      await jobs.start();
    },
    stop: () => {
      stopped = true;
      return jobs.stop();
    },
  };
  return { queue, worker };
}

async function skipReason(db: Knex, flags: FlagReader, module: ModuleName): Promise<string | undefined> {
  const route = resolveRoute(flags, module);
  if (!route.dualWrite) return `${module} is ${route.phase}: its two sides are not kept equal`;
  const backfilled = await db('migration.backfill_runs').where({ module, direction: 'to_own', status: 'finished' }).first('id');
  if (!backfilled) return `no backfill of ${module} finished yet (boxoffice backfill ${module})`;
  return undefined;
}

/**
 * migration_drift_rows{module,aggregate,kind}: what each aggregate's latest run left different;
 * migration_seconds_since_clean_reconciliation{module}: since every aggregate of the module was last
 * reconciled clean (+Inf until each has been; no series for a module never reconciled). Read from migration.reconciliation_runs at scrape time
 * (at most every 5 s), so every process reports every module.
 */
export function registerReconciliationGauges(metrics: Metrics, db: Knex, mappings: ModuleMapping[], now: () => number = Date.now): void {
  if (metrics.registry.getSingleMetric('migration_drift_rows')) return;
  let cache: { at: number; latest: RunRow[]; clean: Map<string, Date> } | undefined;
  const read = async () => {
    if (cache && now() - cache.at < 5_000) return cache;
    const latest = await runStore.latest(db);
    const { rows } = (await db.raw(`SELECT module, aggregate, max(finished_at) AS at FROM migration.reconciliation_runs WHERE status = 'clean' GROUP BY module, aggregate`)) as { rows: { module: string; aggregate: string; at: Date }[] };
    cache = { at: now(), latest, clean: new Map(rows.map((r) => [`${r.module}/${r.aggregate}`, new Date(r.at)])) };
    return cache;
  };
  new Gauge({
    name: 'migration_drift_rows',
    help: 'Rows the latest reconciliation run of an aggregate left different, by kind',
    labelNames: ['module', 'aggregate', 'kind'],
    registers: [metrics.registry],
    async collect() {
      const c = await read().catch(() => cache);
      this.reset();
      for (const r of c?.latest ?? []) for (const kind of FINDING_KINDS) this.set({ module: r.module, aggregate: r.aggregate, kind }, Number(r.remaining?.[kind] ?? 0));
    },
  });
  new Gauge({
    name: 'migration_seconds_since_clean_reconciliation',
    help: 'Seconds since every aggregate of the module was last reconciled clean (+Inf: not yet; absent: never reconciled)',
    labelNames: ['module'],
    registers: [metrics.registry],
    async collect() {
      const c = await read().catch(() => cache);
      if (!c) return;
      this.reset();
      const reconciled = new Set(c.latest.map((r) => r.module));
      for (const m of mappings) {
        // a module never reconciled (still LEGACY, say) has no series: nothing to be stale yet
        if (!reconciled.has(m.module)) continue;
        const times = m.aggregates.map((a) => c.clean.get(`${m.module}/${a.name}`)?.getTime());
        const oldest = times.some((t) => t === undefined) ? undefined : Math.min(...(times as number[]));
        this.set({ module: m.module }, oldest === undefined ? Infinity : Math.max(0, (now() - oldest) / 1000));
      }
    },
  });
}
