import type { Command } from 'commander';
import { composeApp } from '../../compose.ts';
import { ValidationError } from '../../platform/errors.ts';
import { cliContext, CliError } from '../context.ts';

export function registerUsers(program: Command): void {
  const users = program.command('users').description('user accounts');
  users
    .command('create-admin')
    .description('create an admin account, or promote an existing one and set its password')
    .requiredOption('--email <email>', 'the admin\'s email address')
    .requiredOption('--password <password>', 'at least 8 characters, letters mixed with digits or symbols')
    .option('--full-name <name>', 'display name')
    .action(async (opts: { email: string; password: string; fullName?: string }) => {
      const { config, logger, out } = cliContext();
      const app = await composeApp({ ...config, MODULES: ['auth'], ROLE: 'web', DB_POOL_MAX: 2 }, { logger });
      try {
        if (!app.auth) throw new CliError('the auth module is not available');
        const { user, created } = await app.auth.admin.createAdmin({
          email: opts.email,
          password: opts.password,
          ...(opts.fullName ? { fullName: opts.fullName } : {}),
        });
        out(`${created ? 'created' : 'promoted'} admin ${user.email} (${user.id})`);
      } catch (err) {
        if (err instanceof ValidationError) {
          throw new CliError(err.errors.map((e) => `--${e.field}: ${e.message}`).join('; '), 2);
        }
        throw err;
      } finally {
        await app.stop();
      }
    });
}
