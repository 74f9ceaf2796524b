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
