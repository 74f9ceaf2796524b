import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { MODULE_NAMES, type ModuleName } from '../../platform/config.ts';
import { Databases } from '../../platform/db.ts';
import { backfill, BackfillRefused, type BackfillProgress } from '../../migration/backfill/backfill.ts';
import { MODULE_REGISTRY } from '../../module-registry.ts';
import { cliContext, CliError, positiveInt } from '../context.ts';

const HELP = `
Copies the module's aggregates from the legacy shared tables into its own schema, in key order, through
its mapping (the same one dual-write uses). Run it once the module dual-writes (DUAL_WRITE phase):
  - safe while the application writes: a row written during the run is never overwritten with an older copy;
  - idempotent: a second run changes nothing; resumable: after a crash or Ctrl-C, run it again and it
    continues after its last committed batch (--restart starts over);
  - records each finished aggregate for the cutover guards (\`boxoffice cutover status\` shows it).
Progress: a bar with rows/s and ETA on a terminal, one JSON line per batch otherwise (--json forces them).

Examples:
  boxoffice backfill auth
  boxoffice backfill booking --batch 2000 --rate 5000
  boxoffice backfill booking --jobs 2          # two key ranges at once (one per core of the database)
`;

function isModule(raw: string): ModuleName {
  if (!(MODULE_NAMES as readonly string[]).includes(raw)) throw new CliError(`unknown module "${raw}"; one of ${MODULE_NAMES.join(', ')}`, 2);
  return raw as ModuleName;
}

function reporter(json: boolean) {
  if (json || !process.stderr.isTTY) {
    return { update: (p: BackfillProgress) => process.stderr.write(`${JSON.stringify({ event: 'backfill', ...p, rowsPerSecond: Math.round(p.rowsPerSecond) })}\n`), stop() {} };
  }
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  return {
    update(p: BackfillProgress) {
      if (current !== p.aggregate) {
        bar?.stop();
        current = p.aggregate;
        bar = new cliProgress.SingleBar({
          stream: process.stderr,
          format: `${`${p.module}/${p.aggregate}`.padEnd(24)} [{bar}] {percentage}% | {value}/{total} | {rate} rows/s | ETA {eta_formatted}`,
          barsize: 30,
          fps: 5,
          etaBuffer: 50,
        }, cliProgress.Presets.shades_classic);
        bar.start(Math.max(p.estimate, p.copied, 1), p.copied, { rate: 0 });
      }
      bar?.setTotal(Math.max(p.estimate, p.copied, 1));
      bar?.update(p.copied, { rate: Math.round(p.rowsPerSecond) });
    },
    stop() {
      bar?.stop();
    },
  };
}

export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description("copy a module's legacy data into its own schema (resumable, throttleable, safe under dual-write)")
    .argument('<module>', `one of ${MODULE_NAMES.join(', ')}`, isModule)
    .option('--aggregate <name...>', 'only these aggregates (default: all of the module, in order)')
    .option('--batch <n>', 'aggregates per batch (one transaction each, with its checkpoint; smaller batches hold their share locks for less time)', positiveInt('--batch', 1, 100_000), 5000)
    .option('--rate <n>', 'at most this many aggregates per second, all workers together (0: unthrottled)', positiveInt('--rate', 0, 10_000_000), 0)
    .option('--jobs <n>', 'key ranges copied at once, each by a worker of its own (a resumed run keeps its ranges)', positiveInt('--jobs', 1, 16), 2)
    .option('--restart', 'start over instead of resuming an unfinished run')
    .option('--force', 'copy even though no process dual-writes the module yet')
    .option('--to <side>', 'own (default): legacy → own schema; legacy: own → legacy tables (after a rollback from NEW_ONLY)', (raw: string) => {
      if (raw !== 'own' && raw !== 'legacy') throw new CliError(`--to must be own or legacy, got "${raw}"`, 2);
      return raw;
    }, 'own')
    .option('--json', 'JSON progress lines even on a terminal')
    .addHelpText('after', HELP)
    .action(async (module: ModuleName, opts: { aggregate?: string[]; batch: number; rate: number; jobs: number; restart?: boolean; force?: boolean; json?: boolean; to: 'own' | 'legacy' }) => {
      const { config, out } = cliContext();
      const databases = new Databases({ ...config, DB_POOL_MAX: opts.jobs + 2 });
      const own = databases.forModuleDatabase(module);
      const abort = new AbortController();
      const onSignal = () => {
        process.stderr.write('\nstopping after the current batch (run the command again to resume)\n');
        abort.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress = reporter(opts.json === true);
      try {
        const results = await backfill({
          db: databases.forRole('migration', 'migration'),
          separate: own ? { legacy: databases.forModule(module), own } : undefined,
          legacySchema: config.LEGACY_SCHEMA,
          mapping: MODULE_REGISTRY[module].mapping(config),
          aggregates: opts.aggregate,
          batchSize: opts.batch,
          jobs: opts.jobs,
          rate: opts.rate,
          restart: opts.restart,
          force: opts.force,
          to: opts.to,
          onProgress: (p) => progress.update(p),
          signal: abort.signal,
        });
        progress.stop();
        for (const r of results) {
          const rate = r.seconds > 0 ? Math.round(r.copied / r.seconds) : 0;
          out(`${module}/${r.aggregate}: ${r.interrupted ? 'interrupted at' : 'finished with'} ${r.copied} copied in ${r.seconds.toFixed(1)} s (${rate}/s)${r.resumed ? ', resumed' : ''} — run ${r.runId}`);
        }
        if (results.some((r) => r.interrupted)) process.exitCode = 130;
      } catch (err) {
        progress.stop();
        if (err instanceof BackfillRefused) throw new CliError(err.message, 1);
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await databases.closeAll();
      }
    });
}
