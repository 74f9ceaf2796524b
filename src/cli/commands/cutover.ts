import { userInfo, hostname } from 'node:os';
import type { Command } from 'commander';
import { MODULE_NAMES, type ModuleName } from '../../platform/config.ts';
import { Databases } from '../../platform/db.ts';
import { advance, CutoverRefused, rollback, status, type CutoverDeps, type StepView } from '../../migration/cutover/cutover.ts';
import { FlagStoreError, flagStoreFor } from '../../migration/cutover/flag-store.ts';

import { loadPlan, PlanError } from '../../migration/cutover/plan.ts';
import { readLog, stepProgress } from '../../migration/cutover/state.ts';
import { serviceProbe } from '../../migration/extraction/service-probe.ts';
import { phaseFlags } from '../../migration/phases.ts';
import { loadInternalApiSecret, ServiceCredential } from '../../platform/auth/service-credential.ts';
import { MODULE_REGISTRY } from '../../module-registry.ts';
import { cliContext, CliError, positiveInt } from '../context.ts';

const HELP = `
The plan (CUTOVER_PLAN, default feature-flags/plan.yaml) is the documented order: auth decoupling, seat
locking, events and the saga, then each module off the shared tables — auth, movie, booking, payment,
notification — through DUAL_WRITE → BACKFILLED → SHADOW_READ → READ_NEW (10 → 50 → 100 %) → NEW_ONLY.
Flags change in Unleash (UNLEASH_URL + UNLEASH_ADMIN_TOKEN, for the app UNLEASH_APP_NAME); every change
is written to migration.cutover_log. Without Unleash, status still works and advance says what to set.
`;

async function withDeps<T>(fn: (deps: CutoverDeps, out: (line: string) => void) => Promise<T>): Promise<T> {
  const { config, out } = cliContext();
  const databases = new Databases({ ...config, DB_POOL_MAX: 2 });
  try {
    const deps: CutoverDeps = {
      db: databases.forRole('migration', 'migration'),
      flags: flagStoreFor(config),
      plan: loadPlan(config.CUTOVER_PLAN),
      mappings: new Map(MODULE_NAMES.map((m) => [m, MODULE_REGISTRY[m].mapping(config)])),
      separateDatabases: new Set(Object.keys(config.moduleDatabaseUrls) as ModuleName[]),
      services: serviceProbe({
        serviceUrls: config.serviceUrls,
        credential: new ServiceCredential({ secret: loadInternalApiSecret({ secret: config.INTERNAL_API_SECRET, keysDir: config.JWT_KEYS_DIR, production: config.NODE_ENV === 'production' }), caller: 'cutover' }),
      }),
    };
    return await fn(deps, out);
  } catch (err) {
    if (err instanceof FlagStoreError || err instanceof PlanError) throw new CliError(err.message, 1);
    if (err instanceof CutoverRefused) {
      for (const g of err.guards) process.stderr.write(`  ${g.ok ? '✓' : '✗'} ${g.guard}: ${g.detail}\n`);
      throw new CliError(err.message, 1);
    }
    throw err;
  } finally {
    await databases.closeAll();
  }
}

const actorOption = (raw?: string) => raw ?? `${userInfo().username}@${hostname()}`;
const pct = (r: number) => (r >= 100 ? 'on' : r <= 0 ? 'off' : `${r}%`);

function printStep(out: (line: string) => void, label: string, v: StepView): void {
  out(`${label}: ${v.step.id} — ${v.step.title}`);
  out(`  ${v.from} → ${v.to}${v.changes.length ? `  (${v.changes.map((c) => `${c.flag}=${pct(c.rollout)}`).join(', ')})` : ''}`);
  for (const g of v.guards) out(`  ${g.ok ? '✓' : '✗'} ${g.guard}: ${g.detail}`);
}

export function registerCutover(program: Command): void {
  const cutover = program.command('cutover').description('walk the documented migration order, step by step, with guards and rollback').addHelpText('after', HELP);

  cutover
    .command('status')
    .description("every stage's steps, every module's phase and flags, last backfill, the next step and its guards")
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withDeps(async (deps, out) => {
        const { state, next, perModule } = await status(deps);
        const backfills = (await deps.db('migration.backfill_runs as r')
          .select('r.module', 'r.aggregate', 'r.status', 'r.finished_at', deps.db.raw('(SELECT COALESCE(sum(p.rows_copied), 0) FROM migration.backfill_parts p WHERE p.run_id = r.id) AS rows_copied'))
          .whereIn('r.id', deps.db('migration.backfill_runs').max('id').where({ direction: 'to_own' }).groupBy('module', 'aggregate'))) as { module: string; aggregate: string; status: string; rows_copied: string; finished_at: Date | null }[];
        if (opts.json) {
          out(JSON.stringify({ flags: deps.flags.where, modules: state.modules, steps: deps.plan.steps.map((s) => ({ id: s.id, ...stepProgress(s, state) })), backfills, next, perModule }, null, 2));
          return;
        }
        out(`flags: ${deps.flags.where}`);
        out('');
        for (const step of deps.plan.steps.filter((s) => !s.module)) {
          const p = stepProgress(step, state);
          out(`  ${p.done ? '✓' : p.rollout > 0 ? '…' : ' '} ${step.id.padEnd(42)} ${pct(p.rollout)}`);
        }
        out('');
        out(`  ${'module'.padEnd(13)}${'phase'.padEnd(15)}${'dual'.padEnd(6)}${'verify'.padEnd(8)}${'read_new'.padEnd(10)}${'stop'.padEnd(6)}last backfill`);
        for (const m of deps.plan.modules) {
          const f = phaseFlags(m);
          const s = state.modules[m];
          const bf = backfills.filter((b) => b.module === m).map((b) => `${b.aggregate} ${b.status}${b.finished_at ? ` ${new Date(b.finished_at).toISOString().slice(0, 16)}` : ''} (${b.rows_copied})`).join(', ') || '—';
          const label = s.phase === 'READ_NEW' && s.rollout < 100 ? `READ_NEW ${s.rollout}%` : s.phase;
          out(`  ${m.padEnd(13)}${label.padEnd(15)}${pct(state.flags[f.dualWrite]!.rollout).padEnd(6)}${pct(state.flags[f.verifyReads]!.rollout).padEnd(8)}${pct(state.flags[f.readNew]!.rollout).padEnd(10)}${pct(state.flags[f.stopLegacyWrites]!.rollout).padEnd(6)}${bf}`);
        }
        out('');
        if (next) printStep(out, 'next', next);
        else out('next: every step of the plan is done');
        for (const [m, v] of Object.entries(perModule)) if (v && v.step.id !== next?.step.id && v.step.phase !== 'DUAL_WRITE') printStep(out, `next for ${m}`, v);
      }),
    );

  cutover
    .command('next')
    .description('the next step (of a module, or of the whole plan) and whether its guards pass')
    .argument('[module]', 'a module name')
    .action((module?: string) =>
      withDeps(async (deps, out) => {
        const { next, perModule } = await status(deps);
        const v = module ? perModule[module as ModuleName] : next;
        if (module && !(MODULE_NAMES as readonly string[]).includes(module)) throw new CliError(`unknown module "${module}"`, 2);
        if (!v) out(module ? `${module} has taken every step` : 'every step of the plan is done');
        else printStep(out, 'next', v);
      }),
    );

  cutover
    .command('advance')
    .description('take the next step (of a module, or of the whole plan), if its guards pass')
    .argument('[module]', 'a module name (default: the first step not done)')
    .option('--force', 'take the step although guards fail (needs --reason; logged)')
    .option('--reason <text>', 'why (required with --force; logged)')
    .option('--actor <name>', 'who is doing this (default: user@host)')
    .action((module: string | undefined, opts: { force?: boolean; reason?: string; actor?: string }) =>
      withDeps(async (deps, out) => {
        if (module && !(MODULE_NAMES as readonly string[]).includes(module)) throw new CliError(`unknown module "${module}"; one of ${MODULE_NAMES.join(', ')}`, 2);
        const v = await advance(deps, { ...(module ? { module: module as ModuleName } : {}), actor: actorOption(opts.actor), force: opts.force === true, ...(opts.reason ? { reason: opts.reason } : {}) });
        printStep(out, v.guards.some((g) => !g.ok) ? 'advanced (forced)' : 'advanced', v);
        out('in effect on every process within the flag refresh interval (UNLEASH_REFRESH_INTERVAL_MS)');
      }),
    );

  cutover
    .command('rollback')
    .description('return a module to its previous phase, or undo a flag step by its id (never refused; logged)')
    .argument('<target>', 'a module name, or a step id such as events/use_payment_events')
    .option('--reason <text>', 'why (logged)')
    .option('--actor <name>', 'who is doing this (default: user@host)')
    .action((target: string, opts: { reason?: string; actor?: string }) =>
      withDeps(async (deps, out) => {
        const r = await rollback(deps, target, { actor: actorOption(opts.actor), ...(opts.reason ? { reason: opts.reason } : {}) });
        out(`rolled back ${r.step}: ${r.from} → ${r.to}${r.changes.length ? ` (${r.changes.map((c) => `${c.flag}=${pct(c.rollout)}`).join(', ')})` : ''}`);
        if (r.note) out(`note: ${r.note}`);
        out('in effect on every process within the flag refresh interval (UNLEASH_REFRESH_INTERVAL_MS)');
      }),
    );

  cutover
    .command('log')
    .description('the cutover log: who changed what, when, with which guards and reason')
    .option('--module <module>', 'only this module')
    .option('--limit <n>', 'entries', positiveInt('--limit', 1, 10_000), 50)
    .option('--json', 'print JSON')
    .action((opts: { module?: string; limit: number; json?: boolean }) =>
      withDeps(async (deps, out) => {
        const entries = await readLog(deps.db, { ...(opts.module ? { module: opts.module } : {}), limit: opts.limit });
        if (opts.json) {
          out(JSON.stringify(entries, null, 2));
          return;
        }
        if (entries.length === 0) out('the cutover log is empty');
        for (const e of entries.reverse()) {
          const failed = e.guards.filter((g) => !g.ok).map((g) => g.guard);
          out(`${new Date(e.at).toISOString()}  ${e.actor}  ${e.action} ${e.step}  ${e.from_phase ?? ''} → ${e.to_phase ?? ''}${e.forced ? `  FORCED (${failed.join(', ')})` : ''}${e.reason ? `  "${e.reason}"` : ''}`);
        }
      }),
    );
}
