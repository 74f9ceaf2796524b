import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { MODULE_NAMES, type ModuleName } from '../../platform/config.ts';
import { isFlagName, type FlagName } from '../../platform/flags.ts';
import { PHASES, type Phase } from '../phases.ts';

export const GUARD_NAMES = ['backfill_finished', 'no_copies_owed', 'shadow_reads', 'reconciliation_clean', 'own_database_shared', 'service_ready'] as const;
export type DeclaredGuard = (typeof GUARD_NAMES)[number];

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** `30s`, `10m`, `2h`, `1d` → milliseconds */
export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(raw.trim());
  if (!m) throw new Error(`"${raw}" is not a duration like 30s, 10m, 2h or 1d`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const duration = z.string().refine((s) => {
  try {
    parseDuration(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a duration like 30s, 10m, 2h or 1d');
const rollout = z.array(z.number().int().min(1).max(100)).min(1).refine((r) => r.at(-1) === 100 && r.every((p, i) => i === 0 || p > r[i - 1]!), 'must rise and end at 100');
const flagSet = z.record(z.string(), z.boolean());

const planSchema = z.object({
  defaults: z.object({
    hold: duration,
    shadow_reads: z.object({ min_reads: z.number().int().min(1), max_mismatch_rate: z.number().min(0).max(1), window: duration }),
    reconciliation: z.object({ max_age: duration }).default({ max_age: '1h' }),
    auto_rollback: z
      .object({
        enabled: z.boolean().default(true),
        max_drift_rows: z.number().int().min(0).default(0),
        drift_runs: z.number().int().min(1).max(100).default(2),
        max_shadow_mismatch_rate: z.number().min(0).max(1).default(0.01),
        min_shadow_reads: z.number().int().min(1).default(200),
        window: duration.default('10m'),
      })
      .prefault({}),
  }),
  stages: z.array(
    z.union([
      z.object({
        id: z.string(),
        title: z.string(),
        steps: z.array(z.object({ id: z.string(), title: z.string(), set: flagSet, rollout: rollout.optional(), hold: duration.optional(), guards: z.array(z.enum(GUARD_NAMES)).optional() })),
      }),
      z.object({
        id: z.string(),
        title: z.string(),
        modules: z.array(z.enum(MODULE_NAMES)),
        phases: z.array(z.object({ phase: z.enum(PHASES), title: z.string(), set: flagSet.optional(), rollout: rollout.optional(), hold: duration.optional(), guards: z.array(z.enum(GUARD_NAMES)).optional() })),
        requirements: z.partialRecord(z.enum(MODULE_NAMES), z.partialRecord(z.enum(PHASES), z.object({ flags: z.array(z.string()).optional(), modules: z.partialRecord(z.enum(MODULE_NAMES), z.enum(PHASES)).optional() }))).optional(),
      }),
    ]),
  ),
});

export class PlanError extends Error {}

export interface PlanStep {
  /** e.g. `events/use_booking_snapshot`, `databases/booking/READ_NEW` */
  id: string;
  stage: string;
  title: string;
  module?: ModuleName;
  phase?: Phase;
  /** flag values this step sets (rollout steps set them for a share of users) */
  set: Partial<Record<FlagName, boolean>>;
  rollout?: number[];
  guards: DeclaredGuard[];
  holdMs: number;
  requires: { flags: FlagName[]; modules: Partial<Record<ModuleName, Phase>> };
}

export interface Plan {
  path: string;
  steps: PlanStep[];
  /** the module order of the database stage (the first stage that walks modules) */
  modules: ModuleName[];
  shadow: { minReads: number; maxMismatchRate: number; windowMs: number };
  /** the `reconciliation_clean` guard: every aggregate's latest run clean and at most this old */
  reconciliation: { maxAgeMs: number };
  /**
   * READ_NEW → SHADOW_READ without a person (ADR 0051): when the latest `driftRuns` runs of an aggregate,
   * all made since the module entered READ_NEW, each left more than `maxDriftRows` rows different, or when
   * more than `maxShadowMismatchRate` of at least `minShadowReads` shadow reads mismatched within `windowMs`
   * (and since READ_NEW began).
   */
  autoRollback: { enabled: boolean; maxDriftRows: number; driftRuns: number; maxShadowMismatchRate: number; minShadowReads: number; windowMs: number };
}

function flags(set: Record<string, boolean>, where: string, module?: ModuleName): Partial<Record<FlagName, boolean>> {
  const out: Partial<Record<FlagName, boolean>> = {};
  for (const [raw, value] of Object.entries(set)) {
    const name = module ? raw.replaceAll('{module}', module) : raw;
    if (!isFlagName(name)) throw new PlanError(`${where}: ${name} is not a flag of feature-flags/flags.yaml`);
    out[name] = value;
  }
  return out;
}

/** Load and check the plan (every flag must exist, rollouts rise to 100, phases in order). */
export function loadPlan(path: string): Plan {
  const file = isAbsolute(path) ? path : resolve(ROOT, path);
  const parsed = planSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new PlanError(`${file}: ${first.join('; ')}`);
  }
  const doc = parsed.data;
  const steps: PlanStep[] = [];
  let modules: ModuleName[] = [];
  for (const stage of doc.stages) {
    if ('steps' in stage) {
      for (const s of stage.steps) {
        const id = `${stage.id}/${s.id}`;
        steps.push({ id, stage: stage.id, title: s.title, set: flags(s.set, id), ...(s.rollout ? { rollout: s.rollout } : {}), guards: s.guards ?? [], holdMs: parseDuration(s.hold ?? doc.defaults.hold), requires: { flags: [], modules: {} } });
      }
      continue;
    }
    // the first module stage (the databases) sets the module order; a later one (extraction) takes a subset
    if (modules.length === 0) modules = stage.modules;
    for (const module of stage.modules) {
      for (const p of stage.phases) {
        const id = `${stage.id}/${module}/${p.phase}`;
        const req = stage.requirements?.[module]?.[p.phase];
        const reqFlags = (req?.flags ?? []).map((f) => {
          if (!isFlagName(f)) throw new PlanError(`${id}: required flag ${f} is not in flags.yaml`);
          return f;
        });
        steps.push({
          id, stage: stage.id, title: p.title.replaceAll('{module}', module), module, phase: p.phase,
          set: flags(p.set ?? {}, id, module), ...(p.rollout ? { rollout: p.rollout } : {}), guards: p.guards ?? [],
          holdMs: parseDuration(p.hold ?? doc.defaults.hold), requires: { flags: reqFlags, modules: req?.modules ?? {} },
        });
      }
    }
  }
  const s = doc.defaults.shadow_reads;
  const r = doc.defaults.auto_rollback;
  return {
    path: file, steps, modules,
    shadow: { minReads: s.min_reads, maxMismatchRate: s.max_mismatch_rate, windowMs: parseDuration(s.window) },
    reconciliation: { maxAgeMs: parseDuration(doc.defaults.reconciliation.max_age) },
    autoRollback: {
      enabled: r.enabled, maxDriftRows: r.max_drift_rows, driftRuns: r.drift_runs, maxShadowMismatchRate: r.max_shadow_mismatch_rate,
      minShadowReads: r.min_shadow_reads, windowMs: parseDuration(r.window),
    },
  };
}
