import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { FlagName } from '../../platform/flags.ts';
import type { ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import { phaseFlags, type Phase } from '../phases.ts';
import type { FlagStore } from './flag-store.ts';
import type { ServiceProbe } from '../extraction/service-probe.ts';
import { evaluateGuards, type GuardContext, type GuardResult } from './guards.ts';
import type { Plan, PlanStep } from './plan.ts';
import { phaseLabel, readState, stepProgress, type CutoverState } from './state.ts';

export interface CutoverDeps {
  /** the migration role's pool */
  db: Knex;
  flags: FlagStore;
  plan: Plan;
  mappings: ReadonlyMap<ModuleName, ModuleMapping>;
  separateDatabases: ReadonlySet<ModuleName>;
  /** the EXTRACTED step's `service_ready` guard asks the module's own deployment through this */
  services?: ServiceProbe | undefined;
  now?: () => Date;
}

export interface StepView {
  step: PlanStep;
  /** for a gradual step: the share it moves to */
  targetRollout: number;
  changes: { flag: FlagName; rollout: number }[];
  from: string;
  to: string;
  guards: GuardResult[];
}

export class CutoverRefused extends Error {
  readonly guards: GuardResult[];
  constructor(message: string, guards: GuardResult[] = []) {
    super(message);
    this.guards = guards;
  }
}

const now = (deps: CutoverDeps) => deps.now?.() ?? new Date();
const guardContext = (deps: CutoverDeps, state: CutoverState): GuardContext => ({ db: deps.db, plan: deps.plan, state, mappings: deps.mappings, separateDatabases: deps.separateDatabases, services: deps.services, now: now(deps) });

/** The step a module (or, without one, the whole plan) takes next; undefined when it is all done. */
export function nextStep(plan: Plan, state: CutoverState, module?: ModuleName): PlanStep | undefined {
  return plan.steps.find((s) => (!module || s.module === module) && !stepProgress(s, state).done);
}

function describeStep(step: PlanStep, state: CutoverState): Omit<StepView, 'guards'> {
  const progress = stepProgress(step, state);
  const targetRollout = step.rollout ? (step.rollout.find((p) => p > progress.rollout) ?? 100) : 100;
  const changes = Object.entries(step.set).map(([flag, on]) => ({ flag: flag as FlagName, rollout: on ? targetRollout : 0 }));
  if (step.module && step.phase) {
    const m = state.modules[step.module];
    return { step, targetRollout, changes, from: phaseLabel(m.phase, m.rollout), to: phaseLabel(step.phase, targetRollout) };
  }
  return { step, targetRollout, changes, from: progress.rollout > 0 ? `${progress.rollout}%` : 'off', to: step.rollout ? `${targetRollout}%` : 'on' };
}

export async function status(deps: CutoverDeps): Promise<{ state: CutoverState; next: StepView | undefined; perModule: Partial<Record<ModuleName, StepView>> }> {
  const state = await readState(deps.db, deps.flags, deps.plan);
  const view = async (step: PlanStep | undefined) =>
    step ? { ...describeStep(step, state), guards: await evaluateGuards(guardContext(deps, state), step) } : undefined;
  const perModule: Partial<Record<ModuleName, StepView>> = {};
  for (const m of deps.plan.modules) {
    const v = await view(nextStep(deps.plan, state, m));
    if (v) perModule[m] = v;
  }
  return { state, next: await view(nextStep(deps.plan, state)), perModule };
}

async function log(db: Knex, entry: { actor: string; action: 'advance' | 'rollback'; step: PlanStep | string; module?: string | undefined; from: string; to: string; changes: { flag: string; rollout: number }[]; guards?: GuardResult[]; forced?: boolean; reason?: string | undefined }) {
  await db('migration.cutover_log').insert({
    actor: entry.actor,
    action: entry.action,
    step: typeof entry.step === 'string' ? entry.step : entry.step.id,
    module: entry.module ?? null,
    from_phase: entry.from,
    to_phase: entry.to,
    flags: JSON.stringify(Object.fromEntries(entry.changes.map((c) => [c.flag, c.rollout]))),
    guards: JSON.stringify(entry.guards ?? []),
    forced: entry.forced ?? false,
    reason: entry.reason ?? null,
  });
}

/**
 * Take the next step of the plan (of one module, or the first undone one overall): every guard must
 * pass, or `force` with a reason overrides them (logged). Flags change in Unleash; the log records who,
 * when, what, the guards and the reason.
 */
export async function advance(deps: CutoverDeps, options: { module?: ModuleName; actor: string; force?: boolean; reason?: string }): Promise<StepView> {
  if (options.force && !options.reason?.trim()) throw new CutoverRefused('--force needs --reason "…": why the guards may be overridden goes into the cutover log');
  const state = await readState(deps.db, deps.flags, deps.plan);
  const step = nextStep(deps.plan, state, options.module);
  if (!step) throw new CutoverRefused(options.module ? `${options.module} has taken every step of the plan` : 'every step of the plan is done');
  const view: StepView = {
    ...describeStep(step, state),
    guards: await evaluateGuards(guardContext(deps, state), step),
  };
  const failed = view.guards.filter((g) => !g.ok);
  if (failed.length > 0 && !options.force) {
    throw new CutoverRefused(`refused: ${step.id} (${view.from} → ${view.to}): ${failed.map((g) => `${g.guard}: ${g.detail}`).join('; ')}`, view.guards);
  }
  if (view.changes.length > 0) await deps.flags.write(view.changes);
  await log(deps.db, { actor: options.actor, action: 'advance', step, module: step.module, from: view.from, to: view.to, changes: view.changes, guards: view.guards, forced: failed.length > 0, reason: options.reason });
  return view;
}

/** What undoing a module's current phase sets, and the phase it returns to. */
function moduleRollback(state: CutoverState, module: ModuleName): { to: Phase; changes: { flag: FlagName; rollout: number }[]; note?: string } {
  const f = phaseFlags(module);
  const m = state.modules[module];
  switch (m.phase) {
    case 'EXTRACTED':
      return { to: 'NEW_ONLY', changes: [{ flag: f.routeToService, rollout: 0 }] };
    case 'NEW_ONLY':
      return {
        to: 'READ_NEW',
        changes: [{ flag: f.stopLegacyWrites, rollout: 0 }],
        note: `the shared tables missed every write made while ${module} was NEW_ONLY: run \`boxoffice backfill ${module} --to legacy\` now (dual-write is back on, so it can run while traffic flows)`,
      };
    case 'READ_NEW':
      return { to: 'SHADOW_READ', changes: [{ flag: f.readNew, rollout: 0 }] };
    case 'SHADOW_READ':
      return { to: 'BACKFILLED', changes: [{ flag: f.verifyReads, rollout: 0 }] };
    case 'BACKFILLED':
      return { to: 'DUAL_WRITE', changes: [] };
    case 'DUAL_WRITE':
      return { to: 'LEGACY', changes: [{ flag: f.dualWrite, rollout: 0 }], note: `the own schema of ${module} stops following the shared tables: a later DUAL_WRITE needs a new backfill` };
    case 'LEGACY':
      throw new CutoverRefused(`${module} is LEGACY: there is nothing to roll back`);
  }
}

/**
 * Return a module to its previous phase (or undo a flag step, by its id) in one command; in effect
 * within the flag refresh interval. Never refused (a rollback is the way out), always logged.
 */
export async function rollback(deps: CutoverDeps, target: string, options: { actor: string; reason?: string; evidence?: GuardResult[] }): Promise<{ step: string; from: string; to: string; changes: { flag: FlagName; rollout: number }[]; note?: string | undefined }> {
  const state = await readState(deps.db, deps.flags, deps.plan);
  if ((deps.plan.modules as string[]).includes(target)) {
    const module = target as ModuleName;
    const m = state.modules[module];
    const back = moduleRollback(state, module);
    const stepId = `databases/${module}/${m.phase}`;
    const from = phaseLabel(m.phase, m.rollout);
    if (back.changes.length > 0) await deps.flags.write(back.changes);
    await log(deps.db, { actor: options.actor, action: 'rollback', step: stepId, module, from, to: back.to, changes: back.changes, reason: options.reason, guards: options.evidence });
    return { step: stepId, from, to: back.to, changes: back.changes, note: back.note };
  }
  const step = deps.plan.steps.find((s) => s.id === target && !s.module);
  if (!step) throw new CutoverRefused(`"${target}" is neither a module (${deps.plan.modules.join(', ')}) nor a step of the plan`);
  const progress = stepProgress(step, state);
  const changes = Object.entries(step.set).map(([flag, on]) => ({ flag: flag as FlagName, rollout: on ? 0 : 100 }));
  await deps.flags.write(changes);
  const from = progress.rollout > 0 ? `${progress.rollout}%` : 'off';
  await log(deps.db, { actor: options.actor, action: 'rollback', step, from, to: 'off', changes, reason: options.reason });
  return { step: step.id, from, to: 'off', changes };
}

