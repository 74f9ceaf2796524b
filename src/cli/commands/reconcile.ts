import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { MODULE_NAMES, type ModuleName } from '../../platform/config.ts';
import { Databases } from '../../platform/db.ts';
import { FlagStoreError } from '../../migration/cutover/flag-store.ts';
import { loadPlan } from '../../migration/cutover/plan.ts';
import { readState } from '../../migration/cutover/state.ts';
import { reconcile, type AggregateReport } from '../../migration/reconciliation/reconcile.ts';
import { FINDING_KINDS } from '../../migration/reconciliation/runs.ts';
import { MODULE_REGISTRY } from '../../module-registry.ts';
import { cliContext, CliError } from '../context.ts';
import { flagStoreFor } from '../../migration/cutover/flag-store.ts';

const HELP = `
Compares each aggregate of the module(s) between the legacy tables and the module's schema, through the
mapping: checksums of key ranges computed in Postgres on both sides, only the ranges that differ split
further, then the rows that differ explained field by field. Findings: missing_in_own, missing_in_legacy,
fields (each field with both values), orphan (a row the other side cannot hold). Every run is kept in
migration.reconciliation_runs and shown at /admin/migration.

  --repair           say what a repair would write (a dry run): to the module's schema while the legacy
                     tables are primary (up to SHADOW_READ), to the legacy tables from READ_NEW on
  --repair --apply   write it, then check again what still differs
  --incremental      only aggregates changed since the last run (by updated_at); deletions need a full run

Exit code: 0 clean, 1 drift remains, 2 error.
`;

function reporter(json: boolean) {
  if (json || !process.stderr.isTTY) return { update() {}, stop() {} };
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  return {
    update(p: { module: string; aggregate: string; compared: number; estimate: number; segments: number }) {
      const label = `${p.module}/${p.aggregate}`;
      if (label !== current) {
        bar?.stop();
        current = label;
        bar = new cliProgress.SingleBar({ stream: process.stderr, format: `${label.padEnd(26)} [{bar}] {value}/{total} rows | {segments} segments`, fps: 5 }, cliProgress.Presets.shades_classic);
        bar.start(Math.max(p.estimate, 1), 0, { segments: 0 });
      }
      bar?.setTotal(Math.max(p.estimate, p.compared, 1));
      bar?.update(p.compared, { segments: p.segments });
    },
    stop() {
      bar?.stop();
    },
  };
}

function table(reports: AggregateReport[], out: (line: string) => void): void {
  out(`${'aggregate'.padEnd(28)}${'mode'.padEnd(12)}${'status'.padEnd(8)}${'rows'.padStart(10)}${'rows/s'.padStart(11)}  ${FINDING_KINDS.map((k) => k.padStart(18)).join('')}`);
  for (const r of reports) {
    const cells = FINDING_KINDS.map((k) => (r.counts[k] === r.remaining[k] ? String(r.counts[k]) : `${r.counts[k]}→${r.remaining[k]}`).padStart(18)).join('');
    out(`${`${r.module}/${r.aggregate}`.padEnd(28)}${r.mode.padEnd(12)}${r.status.padEnd(8)}${String(r.rowsCompared).padStart(10)}${(r.seconds > 0 ? Math.round(r.rowsCompared / r.seconds) : 0).toString().padStart(11)}  ${cells}`);
    if (r.error) out(`  error: ${r.error}`);
  }
}

function sample(reports: AggregateReport[], out: (line: string) => void, limit = 5): void {
  for (const r of reports) {
    for (const f of r.findings.slice(0, limit)) {
      const what = f.kind === 'fields' ? f.fields.map((d) => `${d.field}: ${JSON.stringify(d.legacy)} ≠ ${JSON.stringify(d.own)}`).join('; ') : f.reason ?? '';
      out(`  ${r.module}/${r.aggregate} ${f.key} ${f.kind}${what ? ` — ${what}` : ''}${f.repair !== 'none' ? ` [${f.repair}${f.stillDifferent ? ', still different' : ''}]` : ''}`);
    }
    if (r.findings.length > limit) out(`  … ${r.findings.length - limit} more in run ${r.runId} (GET /api/v1/admin/migration/runs/${r.runId} or /admin/migration)`);
  }
}

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('compare (and repair) the legacy tables and the module schemas; exit 0 clean, 1 drift, 2 error')
    .argument('<module>', `all, or one of ${MODULE_NAMES.join(', ')}`)
    .option('--incremental', 'only what changed since the last run')
    .option('--repair', "what a repair in the phase's direction would write (dry run)")
    .option('--apply', 'with --repair: write it')
    .option('--json', 'print the runs as JSON')
    .addHelpText('after', HELP)
    .action(async (target: string, opts: { incremental?: boolean; repair?: boolean; apply?: boolean; json?: boolean }) => {
      const modules = target === 'all' ? [...MODULE_NAMES] : (MODULE_NAMES as readonly string[]).includes(target) ? [target as ModuleName] : undefined;
      if (!modules) throw new CliError(`unknown module "${target}"; all, or one of ${MODULE_NAMES.join(', ')}`, 2);
      if (opts.apply && !opts.repair) throw new CliError('--apply goes with --repair', 2);
      const { config, out } = cliContext();
      const databases = new Databases({ ...config, DB_POOL_MAX: 4 });
      const progress = reporter(opts.json === true);
      try {
        const plan = loadPlan(config.CUTOVER_PLAN);
        const state = await readState(databases.forRole('migration', 'migration'), flagStoreFor(config), plan).catch((err: unknown) => {
          if (err instanceof FlagStoreError && !opts.repair) return undefined; // comparing needs no phase
          throw err;
        });
        const reports = await reconcile({
          databases, legacySchema: config.LEGACY_SCHEMA, mappings: MODULE_NAMES.map((m) => MODULE_REGISTRY[m].mapping(config)), modules,
          mode: opts.incremental ? 'incremental' : 'full', repair: opts.repair ? (opts.apply ? 'apply' : 'dry_run') : 'none',
          phaseOf: async (m) => state?.modules[m].phase ?? 'LEGACY', onProgress: (p) => progress.update(p),
        });
        progress.stop();
        if (opts.json) out(JSON.stringify(reports.map(({ findings, ...r }) => ({ ...r, findings: findings.slice(0, 100) })), null, 2));
        else {
          table(reports, out);
          sample(reports, out);
        }
        process.exitCode = reports.some((r) => r.status === 'error') ? 2 : reports.some((r) => r.status === 'drift') ? 1 : 0;
      } catch (err) {
        progress.stop();
        if (err instanceof CliError) throw err;
        throw new CliError(err instanceof Error ? err.message : String(err), 2);
      } finally {
        await databases.closeAll();
      }
    });
}
