import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { FlagName } from '../../platform/flags.ts';
import { phaseFlags, phaseIndex, type Phase } from '../phases.ts';
import type { FlagState, FlagStore } from './flag-store.ts';
import type { Plan, PlanStep } from './plan.ts';

export interface ModuleState {
  module: ModuleName;
  phase: Phase;
  /** READ_NEW: the share of users reading the own schema */
  rollout: number;
  /** when the module reached its current phase, as the cutover log says (undefined: not through this tool) */
  since: Date | undefined;
}

export interface LogEntry {
  id: number;
  at: Date;
  actor: string;
  action: 'advance' | 'rollback' | 'retire' | 'restore';
  step: string;
  module: string | null;
  from_phase: string | null;
  to_phase: string | null;
  flags: Record<string, number>;
  guards: { guard: string; ok: boolean; detail: string }[];
  forced: boolean;
  reason: string | null;
}

export interface CutoverState {
  flags: Record<string, FlagState>;
  modules: Record<ModuleName, ModuleState>;
  /** the newest log entry of each step (when it was last advanced or rolled back) */
  lastEntry: Map<string, LogEntry>;
}

/** The flags every plan step and every module phase reads. */
export function planFlags(plan: Plan): FlagName[] {
  const names = new Set<FlagName>();
  for (const step of plan.steps) for (const f of Object.keys(step.set)) names.add(f as FlagName);
  for (const m of plan.modules) for (const f of Object.values(phaseFlags(m))) names.add(f);
  for (const step of plan.steps) for (const f of step.requires.flags) names.add(f);
  return [...names];
}

/** the phases a module enters for a growing share of users (sticky), not all at once */
export const GRADUAL_PHASES: readonly Phase[] = ['READ_NEW', 'EXTRACTED'];

export const phaseLabel = (phase: Phase, rollout: number): string => (GRADUAL_PHASES.includes(phase) && rollout < 100 ? `${phase} ${rollout}%` : phase);

/** A module's phase from its flags (as the app evaluates them) and, for BACKFILLED, the cutover log. */
function modulePhase(m: ModuleName, flags: Record<string, FlagState>, lastOfModule: LogEntry | undefined): { phase: Phase; rollout: number } {
  const f = phaseFlags(m);
  const on = (name: string) => (flags[name]?.rollout ?? 0) > 0;
  if (on(f.routeToService)) return { phase: 'EXTRACTED', rollout: flags[f.routeToService]!.rollout };
  if (on(f.stopLegacyWrites)) return { phase: 'NEW_ONLY', rollout: 100 };
  if (on(f.readNew)) return { phase: 'READ_NEW', rollout: flags[f.readNew]!.rollout };
  if (on(f.dualWrite) && on(f.verifyReads)) return { phase: 'SHADOW_READ', rollout: 0 };
  if (on(f.dualWrite)) return { phase: lastOfModule?.to_phase === 'BACKFILLED' ? 'BACKFILLED' : 'DUAL_WRITE', rollout: 0 };
  return { phase: 'LEGACY', rollout: 0 };
}

export async function readLog(db: Knex, filter: { module?: string; limit?: number } = {}): Promise<LogEntry[]> {
  const q = db('migration.cutover_log').orderBy('id', 'desc').limit(filter.limit ?? 100);
  if (filter.module) q.where({ module: filter.module });
  return (await q) as LogEntry[];
}

export async function readState(db: Knex, store: FlagStore, plan: Plan): Promise<CutoverState> {
  const flags = await store.read(planFlags(plan));
  const { rows } = (await db.raw(`SELECT DISTINCT ON (step) * FROM migration.cutover_log ORDER BY step, id DESC`)) as { rows: LogEntry[] };
  const lastEntry = new Map(rows.map((r) => [r.step, r]));
  const { rows: perModule } = (await db.raw(`SELECT DISTINCT ON (module) * FROM migration.cutover_log WHERE module IS NOT NULL ORDER BY module, id DESC`)) as { rows: LogEntry[] };
  const lastOf = new Map(perModule.map((r) => [r.module!, r]));
  const modules = {} as Record<ModuleName, ModuleState>;
  for (const m of plan.modules) {
    const { phase, rollout } = modulePhase(m, flags, lastOf.get(m));
    const last = lastOf.get(m);
    modules[m] = { module: m, phase, rollout, since: last?.to_phase === phaseLabel(phase, rollout) ? new Date(last.at) : undefined };
  }
  return { flags, modules, lastEntry };
}

/** How far a step has got: done, not started, or (gradual steps) at a share. */
export function stepProgress(step: PlanStep, state: CutoverState): { done: boolean; rollout: number } {
  if (step.module && step.phase) {
    const m = state.modules[step.module];
    if (GRADUAL_PHASES.includes(step.phase) && m.phase === step.phase) return { done: m.rollout >= 100, rollout: m.rollout };
    return { done: phaseIndex(m.phase) >= phaseIndex(step.phase), rollout: phaseIndex(m.phase) >= phaseIndex(step.phase) ? 100 : 0 };
  }
  const shares = Object.entries(step.set).map(([flag, target]) => {
    const r = state.flags[flag]?.rollout ?? 0;
    return target ? r : 100 - r;
  });
  const rollout = Math.min(...shares);
  return { done: rollout >= 100, rollout };
}
