import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import type { ServiceProbe } from '../extraction/service-probe.ts';
import { phaseIndex } from '../phases.ts';
import type { Plan, PlanStep } from './plan.ts';
import { stepProgress, type CutoverState } from './state.ts';

export interface GuardResult {
  guard: string;
  ok: boolean;
  detail: string;
}

export interface GuardContext {
  db: Knex;
  plan: Plan;
  state: CutoverState;
  mappings: ReadonlyMap<ModuleName, ModuleMapping>;
  /** modules whose own schema is in a database of their own */
  separateDatabases: ReadonlySet<ModuleName>;
  /** asks a module's own deployment whether it can take the module's traffic (EXTRACTED) */
  services?: ServiceProbe | undefined;
  now: Date;
}

const minutes = (ms: number) => (ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);

/** The step that must be held before `step` (its own earlier share for a gradual step). */
export function previousStep(plan: Plan, step: PlanStep, state: CutoverState): PlanStep | undefined {
  if (step.rollout && stepProgress(step, state).rollout > 0) return step;
  const i = plan.steps.indexOf(step);
  if (step.module) return plan.steps.slice(0, i).reverse().find((s) => s.module === step.module);
  return plan.steps.slice(0, i).reverse().find((s) => s.stage === step.stage);
}

/** Every guard of advancing `step` (to its next share, for a gradual one), passing or not. */
export async function evaluateGuards(ctx: GuardContext, step: PlanStep): Promise<GuardResult[]> {
  const { plan, state } = ctx;
  const results: GuardResult[] = [];
  const i = plan.steps.indexOf(step);

  // the stages before this one are done (the database stage comes after the flag stages)
  const unfinished = plan.steps.slice(0, i).filter((s) => s.stage !== step.stage && !s.module && !stepProgress(s, state).done);
  const sameStage = step.module ? [] : plan.steps.slice(0, i).filter((s) => s.stage === step.stage && !stepProgress(s, state).done);
  const pending = [...unfinished, ...sameStage];
  results.push({ guard: 'previous_steps', ok: pending.length === 0, detail: pending.length === 0 ? 'every earlier step is done' : `not done yet: ${pending.map((s) => s.id).join(', ')}` });

  if (step.module && step.phase) {
    const k = plan.modules.indexOf(step.module);
    const before = plan.modules[k - 1];
    if (before && phaseIndex(step.phase) > phaseIndex('DUAL_WRITE')) {
      const p = state.modules[before].phase;
      const ok = phaseIndex(p) >= phaseIndex('NEW_ONLY');
      results.push({ guard: 'order', ok, detail: ok ? `${before} is ${p}` : `${step.module} may go past DUAL_WRITE only once ${before} is NEW_ONLY (it is ${p})` });
    }
    for (const [m, wanted] of Object.entries(step.requires.modules) as [ModuleName, NonNullable<PlanStep['phase']>][]) {
      const p = state.modules[m].phase;
      const ok = phaseIndex(p) >= phaseIndex(wanted);
      results.push({ guard: 'requires_module', ok, detail: `${m} must be ${wanted} or later (it is ${p})` });
    }
  }
  for (const flag of step.requires.flags) {
    const ok = (state.flags[flag]?.rollout ?? 0) >= 100;
    results.push({ guard: 'requires_flag', ok, detail: `${flag} must be on for everyone (${state.flags[flag]?.rollout ?? 0} %)` });
  }

  const previous = previousStep(plan, step, state);
  if (previous && previous.holdMs > 0) {
    const entry = state.lastEntry.get(previous.id);
    if (!entry || entry.action !== 'advance') {
      results.push({ guard: 'held', ok: false, detail: `no record of when ${previous.id} was reached (it was not advanced with boxoffice cutover); use --force if you know it has held ${minutes(previous.holdMs)}` });
    } else {
      const held = ctx.now.getTime() - new Date(entry.at).getTime();
      results.push({ guard: 'held', ok: held >= previous.holdMs, detail: `${previous.id} held ${minutes(held)} of the ${minutes(previous.holdMs)} the plan asks` });
    }
  }

  for (const guard of step.guards) results.push(await declared(ctx, step, guard));
  return results;
}

async function declared(ctx: GuardContext, step: PlanStep, guard: PlanStep['guards'][number]): Promise<GuardResult> {
  const module = step.module!;
  switch (guard) {
    case 'backfill_finished':
      return backfillFinished(ctx, module);
    case 'no_copies_owed': {
      const [{ n, failing }] = (await ctx.db('migration.dual_write_queue').where({ module }).select(ctx.db.raw('count(*)::int AS n'), ctx.db.raw('count(*) FILTER (WHERE attempts > 0)::int AS failing'))) as [{ n: number; failing: number }];
      return { guard, ok: n === 0, detail: n === 0 ? 'no copies owed to the other side' : `${n} copies owed to the other side (${failing} failed at least once: migration.dual_write_failures)` };
    }
    case 'shadow_reads':
      return shadowReads(ctx, module);
    case 'reconciliation_clean':
      return reconciliationClean(ctx, module);
    case 'service_ready': {
      if (!ctx.services) return { guard, ok: false, detail: `nothing here can reach ${module}'s own deployment (SERVICE_URL_${module.toUpperCase()}, INTERNAL_API_SECRET)` };
      return { guard, ...(await ctx.services(module)) };
    }
    case 'own_database_shared': {
      const ok = !ctx.separateDatabases.has(module);
      return { guard, ok, detail: ok ? 'the own schema shares DATABASE_URL' : `${module.toUpperCase()}_DATABASE_URL puts the own schema in another database: it becomes the write primary only with extraction` };
    }
  }
}

async function backfillFinished(ctx: GuardContext, module: ModuleName): Promise<GuardResult> {
  const mapping = ctx.mappings.get(module);
  const aggregates = mapping?.aggregates.map((a) => a.name) ?? [];
  const dualSince = ctx.state.lastEntry.get(`databases/${module}/DUAL_WRITE`);
  const since = dualSince?.action === 'advance' ? new Date(dualSince.at) : new Date(0);
  const rows = (await ctx.db('migration.backfill_runs')
    .where({ module, direction: 'to_own', status: 'finished' })
    .where('started_at', '>=', since)
    .select('aggregate')) as { aggregate: string }[];
  const done = new Set(rows.map((r) => r.aggregate));
  const missing = aggregates.filter((a) => !done.has(a));
  return {
    guard: 'backfill_finished',
    ok: missing.length === 0,
    detail: missing.length === 0
      ? `every aggregate (${aggregates.join(', ') || 'none'}) backfilled since dual-write began`
      : `no finished backfill since dual-write began for ${missing.join(', ')}: run \`boxoffice backfill ${module}\``,
  };
}

async function shadowReads(ctx: GuardContext, module: ModuleName): Promise<GuardResult> {
  const { minReads, maxMismatchRate, windowMs } = ctx.plan.shadow;
  const since = new Date(ctx.now.getTime() - windowMs);
  const [row] = (await ctx.db('migration.shadow_read_stats')
    .where({ module })
    .where('bucket', '>=', new Date(Math.floor(since.getTime() / 60_000) * 60_000))
    .select(ctx.db.raw('COALESCE(sum(compared), 0)::bigint AS compared'), ctx.db.raw('COALESCE(sum(mismatched), 0)::bigint AS mismatched'))) as { compared: string; mismatched: string }[];
  const compared = Number(row?.compared ?? 0);
  const mismatched = Number(row?.mismatched ?? 0);
  if (compared < minReads) return { guard: 'shadow_reads', ok: false, detail: `only ${compared} shadow reads compared in the last ${minutes(windowMs)}; the plan needs ${minReads}` };
  const rate = mismatched / compared;
  return {
    guard: 'shadow_reads',
    ok: rate <= maxMismatchRate,
    detail: `${mismatched} of ${compared} shadow reads mismatched (${(rate * 100).toFixed(3)} %, at most ${(maxMismatchRate * 100).toFixed(3)} %)${rate > maxMismatchRate ? ': see migration.shadow_mismatches' : ''}`,
  };
}

/** Every aggregate's latest finished reconciliation run is clean and no older than the plan allows. */
async function reconciliationClean(ctx: GuardContext, module: ModuleName): Promise<GuardResult> {
  const aggregates = ctx.mappings.get(module)?.aggregates.map((a) => a.name) ?? [];
  const { rows } = (await ctx.db.raw(
    `SELECT DISTINCT ON (aggregate) id, aggregate, status, finished_at, remaining FROM migration.reconciliation_runs
      WHERE module = ? AND status <> 'running' ORDER BY aggregate, id DESC`,
    [module],
  )) as { rows: { id: number; aggregate: string; status: string; finished_at: Date; remaining: Record<string, number> }[] };
  const latest = new Map(rows.map((r) => [r.aggregate, r]));
  const problems: string[] = [];
  for (const a of aggregates) {
    const run = latest.get(a);
    if (!run) {
      problems.push(`${a} was never reconciled`);
      continue;
    }
    const age = ctx.now.getTime() - new Date(run.finished_at).getTime();
    if (run.status !== 'clean') {
      const left = Object.values(run.remaining ?? {}).reduce((n, x) => n + Number(x), 0);
      problems.push(`${a}: run ${run.id} ${run.status === 'error' ? 'failed' : `left ${left} rows different`}`);
    } else if (age > ctx.plan.reconciliation.maxAgeMs) problems.push(`${a}: the last clean run (${run.id}) is ${minutes(age)} old, the plan allows ${minutes(ctx.plan.reconciliation.maxAgeMs)}`);
  }
  return {
    guard: 'reconciliation_clean',
    ok: problems.length === 0,
    detail: problems.length === 0
      ? `every aggregate (${aggregates.join(', ')}) reconciled clean within ${minutes(ctx.plan.reconciliation.maxAgeMs)}`
      : `${problems.join('; ')}: run \`boxoffice reconcile ${module}\``,
  };
}
