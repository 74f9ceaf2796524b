import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerBackfill } from './commands/backfill.ts';
import { registerCutover } from './commands/cutover.ts';
import { registerFlags } from './commands/flags.ts';
import { registerLegacy } from './commands/legacy.ts';
import { registerKeys } from './commands/keys.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerReconcile } from './commands/reconcile.ts';
import { registerSeed } from './commands/seed.ts';
import { registerUsers } from './commands/users.ts';
import { CliError } from './context.ts';
import { dataDirFor, startEmbeddedPostgres, wantsEmbeddedPostgres, type EmbeddedPostgres } from '../platform/embedded-postgres.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { setupDatabase } from '../setup-database.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('boxoffice')
  .description('boxoffice operations: database, seed data, keys, users, feature flags, the migration off the shared tables')
  .version(pkg.version)
  .showHelpAfterError()
  .exitOverride();

registerMigrate(program);
registerSeed(program);
registerKeys(program);
registerUsers(program);
registerFlags(program);
registerBackfill(program);
registerCutover(program);
registerLegacy(program);
registerReconcile(program);

// no DATABASE_URL outside production: the embedded cluster `npm start` uses (ADR 0075) — found running, or
// started (and migrated) for this command and stopped after it
let embedded: EmbeddedPostgres | undefined;
program.hook('preAction', async (_program, action) => {
  if (!wantsEmbeddedPostgres(process.env)) return;
  const logger = createLogger('warn');
  embedded = await startEmbeddedPostgres({ dataDir: dataDirFor(process.env), logger });
  process.env['DATABASE_URL'] = embedded.url;
  if (embedded.owned) {
    // the server runs in its own process group: a Ctrl-C must stop it here, not leave it behind
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void embedded?.stop().finally(() => process.exit(130)));
    }
  }
  process.stderr.write(`boxoffice: the embedded PostgreSQL in ${embedded.dataDir}${embedded.owned ? ' (started for this command)' : ''}; set DATABASE_URL to use another\n`);
  if (embedded.owned && action.name() !== 'migrate') {
    await setupDatabase(loadConfig(), logger);
  }
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof CliError) {
    process.stderr.write(`boxoffice: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`boxoffice: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
await embedded?.stop();
