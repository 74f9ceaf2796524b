import { loadConfig, MODULE_SCHEMAS, type Config, type ModuleName } from '../../src/platform/config.ts';
import type { TestFn } from 'ava';
import { createPool, Databases, type Knex } from '../../src/platform/db.ts';
import type { FlagName } from '../../src/platform/flag-names.ts';
import { createFlags, type Flags } from '../../src/platform/flags.ts';
import type { ModuleMapping } from '../../src/platform/mapping/aggregate-mapping.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import { diff, type FieldDifference } from '../../src/migration/compare.ts';
import { functionNames } from '../../src/migration/sql/sync-objects.ts';
import { createStrangler, type Strangler } from '../../src/migration/strangler.ts';
import { MODULE_REGISTRY } from '../../src/module-registry.ts';
import { testLogger } from './events.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface StranglerRig {
  config: Config;
  databases: Databases;
  flags: Flags;
  strangler: Strangler;
  mapping(module: ModuleName): ModuleMapping;
  close(): Promise<void>;
}

/**
 * The strangler machinery on a test database without the rest of the app: a routing store whose flags
 * are fixed (FLAGS_BOOTSTRAP), its dual-write leases running — for store-level tests.
 */
export async function createStranglerRig(db: TestDatabase, flags: Partial<Record<FlagName, boolean>>, env: Record<string, string> = {}): Promise<StranglerRig> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DB_POOL_MAX: '4',
    FLAGS_BOOTSTRAP: Object.entries(flags).map(([k, v]) => `${k}=${v}`).join(','),
    ...env,
  });
  const databases = new Databases(config);
  const logger = testLogger();
  const flagClient = createFlags({ appName: 'rig', environment: 'test', refreshIntervalMs: 60_000, overrides: config.FLAGS_BOOTSTRAP, logger });
  const mappings = config.MODULES.map((m) => MODULE_REGISTRY[m].mapping(config));
  const strangler = createStrangler({ config, databases, flags: flagClient, metrics: createMetrics(), logger, mappings });
  for (const s of strangler.services) await s.start();
  return {
    config,
    databases,
    flags: flagClient,
    strangler,
    mapping: (m) => mappings.find((x) => x.module === m)!,
    async close() {
      for (const s of strangler.services) await s.stop();
      for (const w of strangler.workers) await w.stop();
      await databases.closeAll();
    },
  };
}

export interface SideDifference {
  aggregate: string;
  key: string;
  kind: 'missing_in_own' | 'missing_in_legacy' | 'fields';
  fields: FieldDifference[];
}

/**
 * Every aggregate of a module, legacy against own, through its mapping: the keys either side has, and
 * for keys both have, the fields that differ (minus the declared not-compared ones). Empty when equal.
 * With both sides in one database both are read in one snapshot (REPEATABLE READ), so writes that go on
 * meanwhile — each of which changes both sides in its own transaction — never show half-applied.
 */
export async function compareSides(
  db: Knex,
  mapping: ModuleMapping,
  options: { legacySchema?: string; ownDb?: Knex } = {},
): Promise<SideDifference[]> {
  if (options.ownDb && options.ownDb !== db) return compareSidesOn(db, options.ownDb, mapping, options.legacySchema ?? 'public');
  return db.transaction((trx) => compareSidesOn(trx, trx, mapping, options.legacySchema ?? 'public'), { isolationLevel: 'repeatable read' });
}

async function compareSidesOn(db: Knex, ownDb: Knex, mapping: ModuleMapping, legacySchema: string): Promise<SideDifference[]> {
  const found: SideDifference[] = [];
  for (const a of mapping.aggregates) {
    const names = functionNames(a);
    const legacyKeys = (await db.withSchema(legacySchema).table(a.legacy.table).pluck('id')) as string[];
    const ownKeys = (await ownDb.withSchema(mapping.ownSchema).table(a.own.table).pluck('id')) as string[];
    const keys = [...new Set([...legacyKeys, ...ownKeys])];
    if (keys.length === 0) continue;
    const docs = async (conn: Knex, side: 'legacy' | 'own') => {
      const { rows } = (await conn.raw(`SELECT key, doc FROM migration.${names.docs(side)}(?::uuid[])`, [keys])) as { rows: { key: string; doc: unknown }[] };
      return new Map(rows.map((r) => [r.key, r.doc]));
    };
    const legacy = await docs(db, 'legacy');
    const own = await docs(ownDb, 'own');
    const ignored = Object.keys(a.notCompared ?? {});
    for (const key of keys) {
      const l = legacy.get(key);
      const o = own.get(key);
      if (l === undefined) found.push({ aggregate: a.name, key, kind: 'missing_in_legacy', fields: [] });
      else if (o === undefined) found.push({ aggregate: a.name, key, kind: 'missing_in_own', fields: [] });
      else {
        const fields = diff(l, o, { ignored });
        if (fields.length > 0) found.push({ aggregate: a.name, key, kind: 'fields', fields });
      }
    }
  }
  return found;
}

/** How many aggregates of each kind a module has on each side (to show a comparison compared something). */
export async function countSides(db: Knex, mapping: ModuleMapping, legacySchema = 'public'): Promise<Record<string, { legacy: number; own: number }>> {
  const out: Record<string, { legacy: number; own: number }> = {};
  for (const a of mapping.aggregates) {
    const [{ n: legacy }] = (await db.withSchema(legacySchema).table(a.legacy.table).count({ n: '*' })) as [{ n: string }];
    const [{ n: own }] = (await db.withSchema(mapping.ownSchema).table(a.own.table).count({ n: '*' })) as [{ n: string }];
    out[a.name] = { legacy: Number(legacy), own: Number(own) };
  }
  return out;
}

export const ownSchemaOf = (m: ModuleName): string => MODULE_SCHEMAS[m];

export interface MappingDatabase {
  db: TestDatabase;
  databases: Databases;
  /** a pool as the migrate login: sees every schema, runs the generated functions */
  admin: Knex;
}

/**
 * A database of the test file's own for a mapping test: registers the before/after hooks and returns the
 * handles, filled in once the `before` hook has run.
 */
export function useMappingDatabase(test: TestFn): MappingDatabase {
  const fx = {} as MappingDatabase;
  // serial: a file's own before hooks that use the handles run after this one
  test.serial.before(async () => {
    fx.db = await createTestDatabase();
    fx.databases = new Databases({ DATABASE_URL: fx.db.url, DB_POOL_MAX: 4, DB_ROLE_PREFIX: 'boxoffice_' });
    fx.admin = createPool(fx.db.url, { max: 2 });
  });
  test.after.always(async () => {
    await fx.admin?.destroy();
    await fx.databases?.closeAll();
    await fx.db?.drop();
  });
  return fx;
}
