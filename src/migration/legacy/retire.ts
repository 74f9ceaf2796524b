import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import type { GuardResult } from '../cutover/guards.ts';
import type { Plan } from '../cutover/plan.ts';
import type { CutoverState } from '../cutover/state.ts';
import { phaseIndex } from '../phases.ts';
import { ident, qualified } from '../sql/values.ts';

export const ARCHIVE_SCHEMA = 'legacy_archive';

export interface RetireDeps {
  /** a connection that may act as the legacy role and create schemas (the migrate login) */
  admin: Knex;
  plan: Plan;
  state: CutoverState;
  mapping: ModuleMapping;
  legacySchema: string;
  /** role name of a module's schema (its pool's role), and the legacy role */
  roleOf(module: ModuleName | 'legacy' | 'migration'): string;
  /** how long table activity is watched for (ms); statistics lag a backend's activity by about a second */
  watchMs: number;
  now?: Date;
}

/** The old tables a module's aggregates live in. */
export const legacyTables = (mapping: ModuleMapping): string[] => [...new Set(mapping.aggregates.flatMap((a) => [a.legacy.table, ...(a.legacy.children ?? []).map((c) => c.table)]))];

async function activity(admin: Knex, schema: string, tables: string[]): Promise<Map<string, number>> {
  const { rows } = (await admin.raw(
    `SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del AS n
       FROM pg_stat_user_tables WHERE schemaname = ? AND relname = ANY(?)`,
    [schema, tables],
  )) as { rows: { relname: string; n: string }[] };
  return new Map(rows.map((r) => [r.relname, Number(r.n)]));
}

/**
 * Whether a module's legacy tables may go: it has been NEW_ONLY for the plan's minimum time, no process
 * dual-writes it, no other module that still uses the shared tables has a grant on them, and nobody
 * read or wrote them while we watched.
 */
export async function retirementChecks(deps: RetireDeps): Promise<GuardResult[]> {
  const { admin, mapping, state, plan } = deps;
  const module = mapping.module;
  const now = deps.now ?? new Date();
  const results: GuardResult[] = [];
  const phase = state.modules[module].phase;
  const newOnly = plan.steps.find((s) => s.module === module && s.phase === 'NEW_ONLY');
  const reached = state.lastEntry.get(`databases/${module}/NEW_ONLY`);
  const isNewOnly = phaseIndex(phase) >= phaseIndex('NEW_ONLY');
  const heldMs = reached?.action === 'advance' ? now.getTime() - new Date(reached.at).getTime() : -1;
  results.push({
    guard: 'new_only_held',
    ok: isNewOnly && heldMs >= (newOnly?.holdMs ?? 0),
    detail: !isNewOnly ? `${module} is ${phase}, not NEW_ONLY` : heldMs < 0 ? 'no record of when it became NEW_ONLY' : `NEW_ONLY for ${Math.round(heldMs / 60_000)} min of the ${Math.round((newOnly?.holdMs ?? 0) / 60_000)} min the plan asks`,
  });
  const [{ n: leases }] = (await admin('migration.dual_write_leases').where({ module }).where('expires_at', '>', admin.fn.now()).count({ n: '*' })) as [{ n: string }];
  results.push({ guard: 'no_dual_write', ok: Number(leases) === 0, detail: Number(leases) === 0 ? 'no process dual-writes it' : `${leases} process(es) still dual-write ${module}` });

  const tables = legacyTables(mapping);
  const { rows: grants } = (await admin.raw(
    `SELECT DISTINCT grantee, table_name FROM information_schema.role_table_grants
      WHERE table_schema = ? AND table_name = ANY(?) AND grantee NOT IN (?, ?, ?)`,
    [deps.legacySchema, tables, deps.roleOf('legacy'), deps.roleOf(module), deps.roleOf('migration')],
  )) as { rows: { grantee: string; table_name: string }[] };
  const users: string[] = [];
  for (const g of grants) {
    const other = plan.modules.find((m) => deps.roleOf(m) === g.grantee);
    if (other && phaseIndex(state.modules[other].phase) >= phaseIndex('NEW_ONLY')) continue;
    users.push(other ? `${other} (${state.modules[other].phase}) may still use ${g.table_name} (grant to ${g.grantee})` : `${g.grantee} has a grant on ${g.table_name} (another system may still use it)`);
  }
  results.push({ guard: 'no_other_readers', ok: users.length === 0, detail: users.length === 0 ? 'no module still on the shared tables has a grant on them' : users.join('; ') });

  const before = await activity(admin, deps.legacySchema, tables);
  await new Promise((r) => setTimeout(r, deps.watchMs));
  const after = await activity(admin, deps.legacySchema, tables);
  const busy = tables.filter((t) => (after.get(t) ?? 0) !== (before.get(t) ?? 0));
  results.push({ guard: 'no_activity', ok: busy.length === 0, detail: busy.length === 0 ? `not read or written in ${deps.watchMs / 1000} s` : `still read or written: ${busy.join(', ')}` });
  return results;
}

/** The statements that move the tables into legacy_archive (or back, with `restore`). */
export function retirementStatements(deps: Pick<RetireDeps, 'mapping' | 'legacySchema' | 'roleOf'>, restore = false): string[] {
  const tables = legacyTables(deps.mapping);
  const [from, to] = restore ? [ARCHIVE_SCHEMA, deps.legacySchema] : [deps.legacySchema, ARCHIVE_SCHEMA];
  return [
    `CREATE SCHEMA IF NOT EXISTS ${ident(ARCHIVE_SCHEMA)} AUTHORIZATION ${ident(deps.roleOf('legacy'))}`,
    `SET LOCAL ROLE ${ident(deps.roleOf('legacy'))}`,
    ...tables.map((t) => `ALTER TABLE ${qualified(from, t)} SET SCHEMA ${ident(to)}`),
  ];
}

/** Move (or restore) the tables in one transaction; nothing is dropped. */
export async function moveLegacyTables(deps: Pick<RetireDeps, 'admin' | 'mapping' | 'legacySchema' | 'roleOf'>, restore = false): Promise<string[]> {
  const statements = retirementStatements(deps, restore);
  await deps.admin.transaction(async (trx) => {
    for (const s of statements) await trx.raw(s);
  });
  return legacyTables(deps.mapping);
}
