import type { Command } from 'commander';
import { migrate } from '../../platform/migrate.ts';
import { cliContext } from '../context.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create the roles and schemas and apply every pending migration (idempotent)')
    .action(async () => {
      const { config, logger, out } = cliContext();
      const report = await migrate({
        databaseUrl: config.DATABASE_URL,
        rolePrefix: config.DB_ROLE_PREFIX,
        legacySchema: config.LEGACY_SCHEMA,
        logger,
      });
      let total = 0;
      for (const [schema, files] of Object.entries(report.applied)) {
        total += files.length;
        for (const f of files) out(`applied ${schema}/${f}`);
      }
      out(total === 0 ? 'database is up to date' : `applied ${total} migration(s)`);
    });
}
