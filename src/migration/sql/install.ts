import type { Knex } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import { aggregateSyncObjects, type SyncObjects, type SyncTarget } from './sync-objects.ts';

export interface SyncInstallOptions {
  legacySchema: string;
  /** the Postgres role of a module (its pool's role) */
  moduleRole(module: ModuleMapping['module']): string;
  migrationRole: string;
  logger?: Logger | undefined;
}

function objectsOf(mappings: ModuleMapping[], options: SyncInstallOptions): SyncObjects[] {
  return mappings.flatMap((m) => {
    const target: SyncTarget = { legacySchema: options.legacySchema, moduleRole: options.moduleRole(m.module), migrationRole: options.migrationRole };
    return m.aggregates.map((a) => aggregateSyncObjects(m, a, target));
  });
}

/**
 * Create or replace the generated dual-write functions and capture triggers of every mapped aggregate
 * whose installed version differs from the code's (`boxoffice migrate` runs this after the schema
 * migrations). One transaction: a concurrent migrate waits, a failure leaves the previous version.
 * Needs a connection that may act as every module role (the migrate login).
 */
export async function installSyncObjects(admin: Knex, mappings: ModuleMapping[], options: SyncInstallOptions): Promise<{ installed: string[]; unchanged: string[] }> {
  const wanted = objectsOf(mappings, options);
  const installed: string[] = [];
  const unchanged: string[] = [];
  await admin.transaction(async (trx) => {
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('boxoffice:sync-objects'))`);
    const rows = (await trx('migration.sync_objects').select('module', 'aggregate', 'version')) as { module: string; aggregate: string; version: string }[];
    const current = new Map(rows.map((r) => [`${r.module}/${r.aggregate}`, r.version]));
    for (const o of wanted) {
      const id = `${o.module}/${o.aggregate}`;
      if (current.get(id) === o.version) {
        unchanged.push(id);
        continue;
      }
      for (const statement of o.statements) await trx.raw(statement.replaceAll('?', '\\?'));
      await trx.raw(
        `INSERT INTO migration.sync_objects (module, aggregate, version) VALUES (?, ?, ?)
         ON CONFLICT (module, aggregate) DO UPDATE SET version = EXCLUDED.version, installed_at = now()`,
        [o.module, o.aggregate, o.version],
      );
      installed.push(id);
    }
  });
  if (installed.length > 0) options.logger?.info({ installed }, 'installed dual-write functions and capture triggers');
  return { installed, unchanged };
}

/** Aggregates whose installed sync objects are missing or older than the code (run `boxoffice migrate`). */
export async function staleSyncObjects(db: Knex, mappings: ModuleMapping[], options: SyncInstallOptions): Promise<string[]> {
  const rows = (await db('migration.sync_objects').select('module', 'aggregate', 'version')) as { module: string; aggregate: string; version: string }[];
  const current = new Map(rows.map((r) => [`${r.module}/${r.aggregate}`, r.version]));
  return objectsOf(mappings, options)
    .filter((o) => current.get(`${o.module}/${o.aggregate}`) !== o.version)
    .map((o) => `${o.module}/${o.aggregate}`);
}
