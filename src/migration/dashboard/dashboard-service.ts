import type { Config, ModuleName } from '../../platform/config.ts';
import type { Databases, Knex } from '../../platform/db.ts';
import type { Flags } from '../../platform/flags.ts';
import type { ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import { status, type CutoverDeps } from '../cutover/cutover.ts';
import { evaluatedFlagStore, flagStoreFor, type FlagStore } from '../cutover/flag-store.ts';
import type { GuardResult } from '../cutover/guards.ts';
import type { ServiceProbe } from '../extraction/service-probe.ts';
import { loadPlan, type Plan } from '../cutover/plan.ts';
import { phaseLabel, readLog, type LogEntry } from '../cutover/state.ts';
import { PHASES, phaseFlags, type Phase } from '../phases.ts';
import type { FindingKind } from '../reconciliation/engine.ts';
import { runStore, type FindingRow, type RunRow } from '../reconciliation/runs.ts';

export interface ModuleView {
  module: ModuleName;
  phase: Phase;
  /** the phase as the cutover tool prints it (`READ_NEW 10%`) */
  label: string;
  rollout: number;
  since: Date | null;
  /** the documented path, for drawing where the module stands on it */
  path: readonly Phase[];
  flags: { flag: string; rollout: number; source: string }[];
  next: { step: string; title: string; from: string; to: string; changes: { flag: string; rollout: number }[]; guards: GuardResult[] } | null;
  /** the newest finished run of each aggregate */
  latest_runs: RunRow[];
}

export interface RunPage {
  items: RunRow[];
  nextBefore: number | null;
}

export interface RunWithFindings {
  run: RunRow;
  findings: { items: FindingRow[]; total: number; nextAfter: number | null };
}

export interface MigrationDashboardService {
  /** where the flags are read (Unleash, or the bootstrap values) */
  readonly flagSource: string;
  modules(): Promise<ModuleView[]>;
  runs(filter: { module?: ModuleName | undefined; aggregate?: string | undefined; limit: number; before?: number | undefined }): Promise<RunPage>;
  run(id: number, page: { kind?: FindingKind | undefined; limit: number; after?: number | undefined }): Promise<RunWithFindings | undefined>;
  log(filter: { module?: ModuleName | undefined; limit: number }): Promise<LogEntry[]>;
  /** finished runs of the last `days` days, oldest first (the drift chart) */
  history(options: { days: number; limit: number }): Promise<RunRow[]>;
}

export interface MigrationDashboardDeps {
  /** the migration role's pool */
  db: Knex;
  flags: FlagStore;
  /** the cutover plan, read when first needed (a bad plan file must not stop the app from starting) */
  plan: () => Plan;
  /** every module's mapping (the guards check aggregates of modules this process may not host) */
  mappings: ReadonlyMap<ModuleName, ModuleMapping>;
  separateDatabases: ReadonlySet<ModuleName>;
  /** the EXTRACTED step's service_ready guard */
  services?: ServiceProbe | undefined;
}

/**
 * What the migration dashboard and its JSON API show, read the way `boxoffice cutover status` and
 * `boxoffice reconcile` read it: phases from the flags (and the cutover log for BACKFILLED), the next
 * step's guards evaluated now, runs and findings from migration.reconciliation_*. Read-only.
 */
export function createMigrationDashboardService(deps: MigrationDashboardDeps): MigrationDashboardService {
  const cutoverDeps = (): CutoverDeps => ({ db: deps.db, flags: deps.flags, plan: deps.plan(), mappings: deps.mappings, separateDatabases: deps.separateDatabases, services: deps.services });
  return {
    flagSource: deps.flags.where,

    async modules() {
      const cutover = cutoverDeps();
      const [{ state, perModule }, latest] = await Promise.all([status(cutover), runStore.latest(deps.db)]);
      return cutover.plan.modules.map((m): ModuleView => {
        const s = state.modules[m];
        const next = perModule[m];
        return {
          module: m,
          phase: s.phase,
          label: phaseLabel(s.phase, s.rollout),
          rollout: s.rollout,
          since: s.since ?? null,
          path: PHASES,
          flags: Object.values(phaseFlags(m)).map((flag) => ({ flag, rollout: state.flags[flag]?.rollout ?? 0, source: state.flags[flag]?.source ?? 'default' })),
          next: next ? { step: next.step.id, title: next.step.title, from: next.from, to: next.to, changes: next.changes, guards: next.guards } : null,
          latest_runs: latest.filter((r) => r.module === m),
        };
      });
    },

    runs: (filter) => runStore.page(deps.db, filter),

    async run(id, page) {
      const run = await runStore.get(deps.db, id);
      if (!run) return undefined;
      const findings = await runStore.findings(deps.db, id, page);
      return { run, findings: { ...findings, items: findings.items.map(redactFinding) } };
    },

    log: (filter) => readLog(deps.db, filter),

    history: ({ days, limit }) => runStore.history(deps.db, { since: new Date(Date.now() - days * 86_400_000), limit }),
  };
}

/**
 * Credentials stay in the findings table but are not shown: a password hash or token in a page or an
 * API answer is one more place to leak it from. Whether such a field differs still shows (each side's
 * value is replaced by a marker that says whether it was set, and the differing field stays listed).
 */
const SECRET_FIELD = /password|secret|token|hash/i;
const redacted = (v: unknown) => (v === null || v === undefined || v === '' ? v : '[redacted]');
function redactDoc(doc: unknown): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc;
  return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, SECRET_FIELD.test(k) ? redacted(v) : v]));
}
function redactFinding(f: FindingRow): FindingRow {
  return {
    ...f,
    legacy: redactDoc(f.legacy),
    own: redactDoc(f.own),
    before: redactDoc(f.before),
    after: redactDoc(f.after),
    fields: f.fields.map((d) => (SECRET_FIELD.test(d.field) ? { field: d.field, legacy: redacted(d.legacy), own: redacted(d.own) } : d)),
  };
}

/**
 * The dashboard of an app process: the migration role's pool, the plan named by CUTOVER_PLAN, and the
 * flags from Unleash's admin API when UNLEASH_ADMIN_TOKEN is set (shares exactly as `boxoffice cutover`
 * sees them), else as this process evaluates them.
 */
export function migrationDashboardFor(options: { config: Config; databases: Databases; flags: Flags; mappings: ModuleMapping[]; services?: ServiceProbe }): MigrationDashboardService {
  const { config, databases } = options;
  let plan: Plan | undefined;
  return createMigrationDashboardService({
    db: databases.forRole('migration', 'migration'),
    flags: config.UNLEASH_ADMIN_TOKEN ? flagStoreFor(config) : evaluatedFlagStore(options.flags, `the flags this process evaluates (${options.flags.status().source}); set UNLEASH_ADMIN_TOKEN for rollout shares`),
    plan: () => (plan ??= loadPlan(config.CUTOVER_PLAN)),
    mappings: new Map(options.mappings.map((m) => [m.module, m])),
    separateDatabases: new Set(Object.keys(config.moduleDatabaseUrls) as ModuleName[]),
    services: options.services,
  });
}
