import type { Command } from 'commander';
import { explainMigrateFailure } from '../../platform/migrate.ts';
import { setupDatabase } from '../../setup-database.ts';
import { cliContext, CliError } from '../context.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create the roles and schemas and apply every pending migration (idempotent)')
    .action(async () => {
      const { config, logger, out } = cliContext();
      const report = await setupDatabase(config, logger).catch((err: unknown) => {
        const explained = explainMigrateFailure(err, { databaseUrl: config.DATABASE_URL, adminUrl: config.DATABASE_ADMIN_URL });
        throw explained ? new CliError(explained) : err;
      });
      let total = 0;
      for (const [schema, files] of Object.entries(report.applied)) {
        total += files.length;
        for (const f of files) out(`applied ${schema}/${f}`);
      }
      for (const id of report.syncObjects) out(`installed dual-write functions and triggers of ${id}`);
      for (const [module, files] of Object.entries(report.moduleDatabases)) {
        for (const f of files) out(`applied ${module} (own database)/${f}`);
      }
      out(total === 0 ? 'database is up to date' : `applied ${total} migration(s)`);
    });
}
