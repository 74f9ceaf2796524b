import type { Counter } from 'prom-client';
import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Worker } from '../../platform/module.ts';
import { rollback } from './cutover.ts';
import type { FlagStore } from './flag-store.ts';
import type { GuardResult } from './guards.ts';
import type { Plan } from './plan.ts';
import { readState } from './state.ts';

export const AUTO_ROLLBACK_ACTOR = 'auto-rollback';
/** one decision-maker at a time, however many workers watch */
const LOCK = `hashtext('boxoffice:auto-rollback')`;

export interface AutoRollbackOptions {
  /** the migration role's pool */
  db: Knex;
  flags: FlagStore;
  plan: Plan;
  mappings: ReadonlyMap<ModuleName, ModuleMapping>;
  /** AUTO_ROLLBACK_CHECK_MS */
  intervalMs: number;
  logger: Logger;
  metrics?: Metrics;
  now?: () => Date;
}

export interface Decision {
  module: ModuleName;
  rolledBack: boolean;
  evidence: GuardResult[];
  error?: string;
}

/**
 * The READ_NEW watchdog (ADR 0051). Every check, under a transaction-scoped advisory lock (one decider
 * across processes; a check that finds the lock taken skips its turn), it reads each module's phase from
 * the flag store — not from a cached client — and for a module in READ_NEW weighs only evidence gathered
 * since the module entered READ_NEW:
 *  - drift: the plan's `drift_runs` latest reconciliation runs of one aggregate each left more than
 *    `max_drift_rows` rows different (one bad run is not enough);
 *  - shadow reads: over `min_shadow_reads` compared within the window, more than `max_shadow_mismatch_rate`
 *    mismatched.
 * Either rolls the module back to SHADOW_READ through the flag store and the cutover log (actor
 * auto-rollback, the evidence as its guards), logs an error and counts it. It only ever rolls back; going
 * forward again is a person's `boxoffice cutover advance`, after which older evidence no longer counts —
 * so a decision cannot flap.
 */
export class AutoRollback implements Worker {
  readonly name = 'auto-rollback';
  private readonly o: AutoRollbackOptions;
  private readonly log: Logger;
  private readonly counter: Counter<'module' | 'cause'> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(options: AutoRollbackOptions) {
    this.o = options;
    this.log = options.logger.child({ component: 'auto-rollback' });
    this.counter = options.metrics?.counter('migration_auto_rollbacks_total', 'Modules rolled back from READ_NEW to SHADOW_READ by the watchdog', ['module', 'cause']);
  }

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }

  /** One pass over the modules in READ_NEW; what it decided (empty when another process held the lock). */
  async check(): Promise<Decision[]> {
    return this.o.db.transaction(async (trx) => {
      const { rows: [lock] } = (await trx.raw(`SELECT pg_try_advisory_xact_lock(${LOCK}) AS ok`)) as { rows: { ok: boolean }[] };
      if (!lock?.ok) return [];
      const state = await readState(trx, this.o.flags, this.o.plan);
      const decisions: Decision[] = [];
      for (const module of this.o.plan.modules) {
        if (state.modules[module].phase !== 'READ_NEW') continue;
        const since = await readNewSince(trx, module);
        const evidence = [...(await this.drift(trx, module, since)), ...(await this.shadow(trx, module, since))];
        const failing = evidence.filter((e) => !e.ok);
        if (failing.length === 0) {
          decisions.push({ module, rolledBack: false, evidence });
          continue;
        }
        const reason = `automatic rollback: ${failing.map((e) => e.detail).join('; ')}`;
        try {
          const done = await rollback({ db: trx, flags: this.o.flags, plan: this.o.plan, mappings: this.o.mappings, separateDatabases: new Set() }, module, { actor: AUTO_ROLLBACK_ACTOR, reason, evidence });
          for (const e of failing) this.counter?.inc({ module, cause: e.guard });
          this.log.error({ module, from: done.from, to: done.to, evidence: failing }, `${module} rolled back ${done.from} → ${done.to}: ${reason}`);
          decisions.push({ module, rolledBack: true, evidence });
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          this.log.error({ module, evidence: failing, err: error }, `${module} should roll back to SHADOW_READ but could not: ${error}`);
          decisions.push({ module, rolledBack: false, evidence, error });
        }
      }
      return decisions;
    });
  }

  private async drift(db: Knex, module: ModuleName, since: Date | undefined): Promise<GuardResult[]> {
    const { maxDriftRows, driftRuns } = this.o.plan.autoRollback;
    const out: GuardResult[] = [];
    for (const a of this.o.mappings.get(module)?.aggregates ?? []) {
      const q = db('migration.reconciliation_runs').where({ module, aggregate: a.name }).whereIn('status', ['clean', 'drift']).orderBy('id', 'desc').limit(driftRuns);
      if (since) q.where('started_at', '>=', since);
      const runs = (await q.select('id', 'remaining')) as { id: number; remaining: Record<string, number> }[];
      const left = runs.map((r) => Object.values(r.remaining ?? {}).reduce((n, x) => n + Number(x), 0));
      const bad = runs.length === driftRuns && left.every((n) => n > maxDriftRows);
      if (runs.length > 0) {
        out.push({
          guard: 'drift',
          ok: !bad,
          detail: `${a.name}: run${runs.length > 1 ? 's' : ''} ${runs.map((r) => r.id).join(', ')} left ${left.join(', ')} rows different (rolls back when ${driftRuns} in a row exceed ${maxDriftRows})`,
        });
      }
    }
    return out;
  }

  private async shadow(db: Knex, module: ModuleName, since: Date | undefined): Promise<GuardResult[]> {
    const { minShadowReads, maxShadowMismatchRate, windowMs } = this.o.plan.autoRollback;
    const windowStart = new Date(this.now().getTime() - windowMs);
    // buckets are whole minutes: count the one READ_NEW began in only from the next
    const from = since && since > windowStart ? new Date(Math.ceil(since.getTime() / 60_000) * 60_000) : new Date(Math.floor(windowStart.getTime() / 60_000) * 60_000);
    const [row] = (await db('migration.shadow_read_stats')
      .where({ module })
      .where('bucket', '>=', from)
      .select(db.raw('COALESCE(sum(compared), 0)::bigint AS compared'), db.raw('COALESCE(sum(mismatched), 0)::bigint AS mismatched'))) as { compared: string; mismatched: string }[];
    const compared = Number(row?.compared ?? 0);
    const mismatched = Number(row?.mismatched ?? 0);
    if (compared < minShadowReads) return [];
    const rate = mismatched / compared;
    return [{
      guard: 'shadow_reads',
      ok: rate <= maxShadowMismatchRate,
      detail: `${mismatched} of ${compared} shadow reads mismatched (${(rate * 100).toFixed(2)} %, rolls back above ${(maxShadowMismatchRate * 100).toFixed(2)} %)`,
    }];
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.check()
        .catch((err: unknown) => this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'automatic rollback check failed; trying again'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.o.intervalMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

/** When the module last entered READ_NEW (from below), as the cutover log says; undefined if not through the tool. */
async function readNewSince(db: Knex, module: ModuleName): Promise<Date | undefined> {
  const row = (await db('migration.cutover_log')
    .where({ module })
    .where('to_phase', 'like', 'READ_NEW%')
    .where((q) => q.whereNull('from_phase').orWhere('from_phase', 'not like', 'READ_NEW%'))
    .orderBy('id', 'desc')
    .first('at')) as { at: Date } | undefined;
  return row ? new Date(row.at) : undefined;
}
