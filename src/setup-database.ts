import { loadConfig, MODULE_NAMES, MODULE_SCHEMAS, roleFor, type Config, type ModuleName } from './platform/config.ts';
import { createPool } from './platform/db.ts';
import type { Logger } from './platform/logger.ts';
import { migrate, type MigrateReport, type MigrationSchema } from './platform/migrate.ts';
import { installSyncObjects } from './migration/sql/install.ts';
import { separateDatabaseObjects } from './migration/sql/sync-objects.ts';
import { allMappings } from './module-registry.ts';

/**
 * What setup needs. DEFAULT_CURRENCY is part of it because mappings bake it into the generated SQL (the
 * currency old legacy rows without one are read in); the mappings see this object as their Config.
 */
export type SetupConfig = Pick<Config, 'DATABASE_URL' | 'DB_ROLE_PREFIX' | 'LEGACY_SCHEMA' | 'DEFAULT_CURRENCY'> & Partial<Pick<Config, 'moduleDatabaseUrls' | 'DATABASE_ADMIN_URL'>>;

export interface SetupReport extends MigrateReport {
  /** mapped aggregates whose dual-write functions and triggers were (re)installed */
  syncObjects: string[];
  /** per module in a database of its own: the migrations applied there */
  moduleDatabases: Partial<Record<ModuleName, string[]>>;
}

/**
 * `boxoffice migrate`: every schema's migrations, then the strangler's generated dual-write functions and
 * capture triggers for every mapped aggregate (ADR 0050), then each module database of its own
 * (<MODULE>_DATABASE_URL) with that module's schema and the functions that write into it. Idempotent.
 */
export async function setupDatabase(config: SetupConfig, logger?: Logger): Promise<SetupReport> {
  const base = { rolePrefix: config.DB_ROLE_PREFIX, legacySchema: config.LEGACY_SCHEMA, logger };
  // DATABASE_ADMIN_URL: a login that may create roles and schemas does the set-up, and the app's own login
  // (DATABASE_URL) becomes a member of the module roles it acts as
  const adminUrl = config.DATABASE_ADMIN_URL ?? config.DATABASE_URL;
  const appLogin = decodeURIComponent(new URL(config.DATABASE_URL).username);
  const memberLogins = config.DATABASE_ADMIN_URL && appLogin ? [appLogin] : [];
  const report = await migrate({ ...base, databaseUrl: adminUrl, memberLogins });
  // a mapping may read any setting (e.g. DEFAULT_CURRENCY for old rows): the defaults fill what the caller left out
  const mappings = allMappings({ ...loadConfig({}), ...config });
  const roles = {
    legacySchema: config.LEGACY_SCHEMA,
    moduleRole: (m: ModuleName) => roleFor(config, MODULE_SCHEMAS[m]),
    migrationRole: roleFor(config, 'migration'),
    logger,
  };
  const admin = createPool(adminUrl, { max: 1 });
  let syncObjects: string[];
  try {
    syncObjects = (await installSyncObjects(admin, mappings, roles)).installed;
  } finally {
    await admin.destroy();
  }
  const moduleDatabases: SetupReport['moduleDatabases'] = {};
  for (const m of MODULE_NAMES) {
    const url = config.moduleDatabaseUrls?.[m];
    if (!url) continue;
    const schemas: MigrationSchema[] = [MODULE_SCHEMAS[m] as MigrationSchema, 'migration'];
    const applied = await migrate({ ...base, databaseUrl: url, schemas });
    moduleDatabases[m] = Object.values(applied.applied).flat();
    const pool = createPool(url, { max: 1 });
    try {
      const mapping = mappings.find((x) => x.module === m)!;
      await pool.transaction(async (trx) => {
        for (const a of mapping.aggregates) {
          const objects = separateDatabaseObjects(mapping, a, { legacySchema: config.LEGACY_SCHEMA, moduleRole: roles.moduleRole(m), migrationRole: roles.migrationRole });
          for (const statement of objects.statements) await trx.raw(statement.replaceAll('?', '\\?'));
        }
      });
    } finally {
      await pool.destroy();
    }
  }
  return { ...report, syncObjects, moduleDatabases };
}
