import { randomUUID } from 'node:crypto';
import type { ModuleName } from '../../platform/config.ts';
import type { Databases } from '../../platform/db.ts';
import type { AggregateMapping, ModuleMapping, Side } from '../../platform/mapping/aggregate-mapping.ts';
import { phaseIndex, type Phase } from '../phases.ts';
import { compareAggregate } from './engine.ts';
import { repair } from './repair.ts';
import { FINDING_KINDS, noCounts, runStore, type Counts, type RecordedFinding } from './runs.ts';

export interface ReconcileOptions {
  databases: Databases;
  legacySchema: string;
  mappings: ModuleMapping[];
  /** modules to compare (each in order, every aggregate) */
  modules: ModuleName[];
  mode: 'full' | 'incremental';
  repair: 'none' | 'dry_run' | 'apply';
  /** each module's phase (the repair direction follows it) */
  phaseOf(module: ModuleName): Promise<Phase>;
  trigger?: 'cli' | 'schedule' | 'api';
  leafRows?: number;
  onProgress?: (p: { module: string; aggregate: string; compared: number; estimate: number; segments: number }) => void;
}

export interface AggregateReport {
  runId: number;
  module: ModuleName;
  aggregate: string;
  mode: 'full' | 'incremental';
  status: 'clean' | 'drift' | 'error';
  rowsCompared: number;
  seconds: number;
  counts: Counts;
  remaining: Counts;
  findings: RecordedFinding[];
  error?: string;
}

/** legacy → own while the legacy tables are primary (up to SHADOW_READ); own → legacy from READ_NEW on */
export const repairTarget = (phase: Phase): Side => (phaseIndex(phase) >= phaseIndex('READ_NEW') ? 'legacy' : 'own');

const countOf = (findings: RecordedFinding[], still: boolean) => {
  const c = noCounts();
  for (const f of findings) if (!still || f.stillDifferent !== false) c[f.kind]++;
  return c;
};

/**
 * Reconcile modules, one run per aggregate (migration.reconciliation_runs): compare legacy and own through
 * the mapping, optionally repair in the phase's direction, record what was found, repaired and is still
 * different. Aggregates are compared in declaration order (a repair of showtimes finds their movies).
 */
export async function reconcile(o: ReconcileOptions): Promise<AggregateReport[]> {
  const db = o.databases.forRole('migration', 'migration');
  const invocation = randomUUID();
  const reports: AggregateReport[] = [];
  for (const module of o.modules) {
    const mapping = o.mappings.find((m) => m.module === module);
    if (!mapping) throw new Error(`no mapping for module ${module}`);
    const phase = await o.phaseOf(module);
    const target = repairTarget(phase);
    for (const aggregate of mapping.aggregates) reports.push(await reconcileAggregate(o, { db, invocation, mapping, aggregate, phase, target }));
  }
  return reports;
}

async function reconcileAggregate(
  o: ReconcileOptions,
  r: { db: ReturnType<Databases['forRole']>; invocation: string; mapping: ModuleMapping; aggregate: AggregateMapping; phase: Phase; target: Side },
): Promise<AggregateReport> {
  const { db, mapping, aggregate } = r;
  const module = mapping.module;
  const hwm = o.mode === 'incremental' ? await runStore.highWaterMark(db, module, aggregate.name) : undefined;
  const mode = o.mode === 'incremental' && hwm ? 'incremental' : 'full';
  const runId = await runStore.start(db, {
    invocation: r.invocation, module, aggregate: aggregate.name, mode, repair: o.repair,
    direction: o.repair === 'none' ? null : r.target === 'own' ? 'to_own' : 'to_legacy', phase: r.phase, trigger: o.trigger ?? 'cli', hwm: hwm ?? null,
  });
  const started = performance.now();
  const ownDb = o.databases.forModuleDatabase(module);
  try {
    const compared = await compareAggregate({
      mapping, aggregate, legacySchema: o.legacySchema,
      legacyDb: db, ownDb: ownDb ?? db, sameDatabase: !ownDb,
      since: mode === 'incremental' ? hwm : undefined,
      ...(o.leafRows ? { leafRows: o.leafRows } : {}),
      owed: async (keys) => new Set(((await db('migration.dual_write_queue').where({ module, aggregate: aggregate.name }).whereIn('key', keys).pluck('key')) as string[])),
      onProgress: (p) => o.onProgress?.({ module, aggregate: aggregate.name, ...p }),
    });
    const findings = o.repair === 'none'
      ? compared.findings.map((f): RecordedFinding => ({ ...f, repair: 'none' }))
      : await repair({ mapping, aggregate, target: r.target, apply: o.repair === 'apply', db, ownDb }, compared.findings);
    const counts = countOf(findings, false);
    const remaining = o.repair === 'apply' ? countOf(findings, true) : counts;
    const seconds = (performance.now() - started) / 1000;
    await runStore.finish(db, runId, { rowsCompared: compared.rowsCompared, seconds, segments: compared.segments, counts, remaining, findings });
    const drift = FINDING_KINDS.some((k) => remaining[k] > 0);
    return { runId, module, aggregate: aggregate.name, mode, status: drift ? 'drift' : 'clean', rowsCompared: compared.rowsCompared, seconds, counts, remaining, findings };
  } catch (err) {
    await runStore.fail(db, runId, err);
    return {
      runId, module, aggregate: aggregate.name, mode, status: 'error', rowsCompared: 0, seconds: (performance.now() - started) / 1000,
      counts: noCounts(), remaining: noCounts(), findings: [], error: err instanceof Error ? err.message : String(err),
    };
  }
}
