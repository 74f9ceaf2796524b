import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { MODULE_NAMES, MODULE_SCHEMAS, roleFor, type ModuleName } from '../../platform/config.ts';
import { createPool, Databases } from '../../platform/db.ts';
import { loadPlan } from '../../migration/cutover/plan.ts';
import { readState } from '../../migration/cutover/state.ts';
import { moveLegacyTables, retirementChecks, retirementStatements } from '../../migration/legacy/retire.ts';
import { MODULE_REGISTRY } from '../../module-registry.ts';
import { cliContext, CliError, positiveInt } from '../context.ts';
import { flagStoreFor } from '../../migration/cutover/flag-store.ts';

const HELP = `
Once a module has been NEW_ONLY for the plan's minimum time, its old tables can leave the shared schema.
They are not dropped: they move into the legacy_archive schema (--restore moves them back). Refused while
any process still dual-writes the module, any module still on the shared tables holds a grant on them, or
anyone reads or writes them during the watch (--watch seconds).

  boxoffice legacy retire auth             # dry run: the checks and the SQL it would run
  boxoffice legacy retire auth --apply
  boxoffice legacy retire auth --restore --apply
`;

export function registerLegacy(program: Command): void {
  const legacy = program.command('legacy').description("the old shared tables: retire a module's once it no longer uses them");
  legacy
    .command('retire')
    .description("move a NEW_ONLY module's legacy tables into legacy_archive (dry run unless --apply)")
    .argument('<module>', MODULE_NAMES.join(', '))
    .option('--apply', 'do it (default: dry run)')
    .option('--dry-run', 'only show the checks and the SQL (the default)')
    .option('--restore', 'move the tables back from legacy_archive')
    .option('--watch <seconds>', 'how long to watch the tables for reads and writes', positiveInt('--watch', 0, 3600), 5)
    .option('--force', 'retire although checks fail (needs --reason; logged)')
    .option('--reason <text>', 'why (logged)')
    .addHelpText('after', HELP)
    .action(async (raw: string, opts: { apply?: boolean; restore?: boolean; watch: number; force?: boolean; reason?: string }) => {
      if (!(MODULE_NAMES as readonly string[]).includes(raw)) throw new CliError(`unknown module "${raw}"; one of ${MODULE_NAMES.join(', ')}`, 2);
      if (opts.force && !opts.reason) throw new CliError('--force needs --reason "…"', 2);
      const module = raw as ModuleName;
      const { config, out } = cliContext();
      const databases = new Databases({ ...config, DB_POOL_MAX: 2 });
      const admin = createPool(config.DATABASE_URL, { max: 2 });
      try {
        const plan = loadPlan(config.CUTOVER_PLAN);
        const migrationDb = databases.forRole('migration', 'migration');
        const roleOf = (m: ModuleName | 'legacy' | 'migration') => roleFor(config, m === 'legacy' || m === 'migration' ? m : MODULE_SCHEMAS[m]);
        const deps = { admin, plan, mapping: MODULE_REGISTRY[module].mapping(config), legacySchema: config.LEGACY_SCHEMA, roleOf, watchMs: opts.watch * 1000 };
        const action = opts.restore ? 'restore' : 'retire';
        const checks = opts.restore ? [] : await retirementChecks({ ...deps, state: await readState(migrationDb, flagStoreFor(config), plan) });
        for (const c of checks) out(`  ${c.ok ? '✓' : '✗'} ${c.guard}: ${c.detail}`);
        const failed = checks.filter((c) => !c.ok);
        out(`${opts.apply ? 'running' : 'would run'}:`);
        for (const s of retirementStatements(deps, opts.restore)) out(`  ${s};`);
        if (!opts.apply) return;
        if (failed.length > 0 && !opts.force) throw new CliError(`refused: ${failed.map((c) => c.guard).join(', ')} (see above)`, 1);
        const tables = await moveLegacyTables(deps, opts.restore);
        await migrationDb('migration.cutover_log').insert({
          actor: `${userInfo().username}@${hostname()}`, action, step: `legacy/${module}`, module,
          from_phase: opts.restore ? 'legacy_archive' : config.LEGACY_SCHEMA, to_phase: opts.restore ? config.LEGACY_SCHEMA : 'legacy_archive',
          guards: JSON.stringify(checks), forced: failed.length > 0, reason: opts.reason ?? null, flags: JSON.stringify({ tables }),
        });
        out(`${opts.restore ? 'restored' : 'retired'} ${tables.join(', ')}`);
      } finally {
        await admin.destroy();
        await databases.closeAll();
      }
    });
}
