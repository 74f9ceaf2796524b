import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { runMigrations } from 'bullmq';
import pg from 'pg';
import { createPool, isDatabaseUnavailable, sqlState } from './db.ts';
import { BULLMQ_SCHEMA } from './jobs/job-platform.ts';
import type { Logger } from './logger.ts';

/** Schemas in the order their migrations run. `legacy` is the old shared tables (in LEGACY_SCHEMA). */
export const MIGRATION_SCHEMAS = ['legacy', 'auth', 'movies', 'bookings', 'payments', 'notifications', 'migration'] as const;
export type MigrationSchema = (typeof MIGRATION_SCHEMAS)[number];

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/**
 * The role owning BullMQ's tables when jobs run on PostgreSQL (BACKEND=postgres, ADR 0078): they are in
 * BullMQ's own schema (BULLMQ_SCHEMA), brought to the installed BullMQ's version by `migrate`, never at
 * start-up.
 */
export const JOBS_ROLE = 'jobs';

/** What a migration file gets besides knex: role names and where the legacy tables live. */
export interface MigrationContext {
  /** the schema this migration runs in (for `legacy`, the LEGACY_SCHEMA) */
  schema: string;
  legacySchema: string;
  /** the prefixed role of a schema or of `legacy` / `migration` */
  role(name: MigrationSchema): string;
}

export interface MigrationFile {
  up(knex: Knex, ctx: MigrationContext): Promise<void>;
  down?(knex: Knex, ctx: MigrationContext): Promise<void>;
}

export interface MigrateOptions {
  databaseUrl: string;
  rolePrefix: string;
  legacySchema: string;
  logger?: Logger;
  /** create the database if it does not exist (default true) */
  createDatabase?: boolean;
  dir?: string;
  /** only these schemas (default: all) — e.g. a module's own database holds its schema only */
  schemas?: readonly MigrationSchema[];
  /** other logins made members of every module role (the app's DATABASE_URL login when migrate runs as DATABASE_ADMIN_URL) */
  memberLogins?: readonly string[];
}

export interface MigrateReport {
  applied: Record<MigrationSchema, string[]>;
  /** BullMQ's schema version in BULLMQ_SCHEMA after the run (absent when only some schemas were migrated) */
  jobsSchemaVersion?: number;
}

interface FileRef {
  name: string;
  path: string;
}

/** Migrations are TypeScript modules `NNNN_name.ts`, imported natively (Node strips the types). */
class FolderSource implements Knex.MigrationSource<FileRef> {
  private readonly dir: string;
  private readonly ctx: MigrationContext;

  constructor(dir: string, ctx: MigrationContext) {
    this.dir = dir;
    this.ctx = ctx;
  }

  async getMigrations(): Promise<FileRef[]> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return files
      .filter((f) => /^\d{4}_[a-z0-9_]+\.ts$/.test(f))
      .sort()
      .map((name) => ({ name, path: join(this.dir, name) }));
  }

  getMigrationName(ref: FileRef): string {
    return ref.name.replace(/\.ts$/, '');
  }

  async getMigration(ref: FileRef): Promise<Knex.Migration> {
    const mod = (await import(pathToFileURL(ref.path).href)) as MigrationFile;
    return {
      up: (knex: Knex) => mod.up(knex, this.ctx),
      down: (knex: Knex) => (mod.down ? mod.down(knex, this.ctx) : Promise.resolve()),
    };
  }
}

const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** Roles are cluster-wide: two migrate runs (or parallel test databases) may race to create them. */
async function withRaceRetry(fn: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fn();
      return;
    } catch (err) {
      const state = sqlState(err);
      const racy = state === '23505' || state === '42710' || state === 'XX000' || state === '40001';
      if (!racy || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
}

async function ensureDatabase(url: string, logger?: Logger): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return;
  } catch (err) {
    if (sqlState(err) !== '3D000') throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: maintenance.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    logger?.info({ database: name }, 'created database');
  } catch (err) {
    if (sqlState(err) !== '42P04') throw err;
  } finally {
    await admin.end();
  }
}

/**
 * Bring a database to the latest schema, idempotently: the per-module roles, one schema per module owned
 * by its role, and each schema's migrations run *as* that role with their own `knex_migrations` table.
 * Concurrent runs against one database serialize on an advisory lock.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateReport> {
  const { databaseUrl, rolePrefix, legacySchema, logger } = options;
  const dir = options.dir ?? MIGRATIONS_DIR;
  if (options.createDatabase !== false) await ensureDatabase(databaseUrl, logger);
  const role = (name: MigrationSchema) => `${rolePrefix}${name}`;

  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'boxoffice:migrate' });
  await admin.connect();
  let jobsSchemaVersion: number | undefined;
  const applied = Object.fromEntries(MIGRATION_SCHEMAS.map((s) => [s, [] as string[]])) as MigrateReport['applied'];
  try {
    await admin.query(`SELECT pg_advisory_lock(hashtext('boxoffice:migrate'))`);
    for (const name of [...MIGRATION_SCHEMAS, JOBS_ROLE]) {
      const r = `${rolePrefix}${name}`;
      await withRaceRetry(async () => {
        const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [r]);
        if (exists.rowCount === 0) await admin.query(`CREATE ROLE ${quoteIdent(r)} NOLOGIN`);
      });
      await withRaceRetry(async () => {
        const member = await admin.query('SELECT pg_has_role(current_user, $1, $2) AS ok', [r, 'MEMBER']);
        if (!member.rows[0]?.ok) await admin.query(`GRANT ${quoteIdent(r)} TO CURRENT_USER`);
      });
      for (const login of options.memberLogins ?? []) {
        await withRaceRetry(async () => {
          const member = await admin.query('SELECT pg_has_role($1, $2, $3) AS ok', [login, r, 'MEMBER']);
          if (!member.rows[0]?.ok) await admin.query(`GRANT ${quoteIdent(r)} TO ${quoteIdent(login)}`);
        });
      }
    }
    for (const name of MIGRATION_SCHEMAS) {
      if (options.schemas && !options.schemas.includes(name)) continue;
      const schema = name === 'legacy' ? legacySchema : name;
      const owner = role(name);
      if ((await ensureSchema(admin, schema, owner)) && name === 'legacy') {
        // e.g. `public`, owned by the database owner: the legacy role needs to create its tables there
        await admin.query(`GRANT USAGE, CREATE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(owner)}`);
      }
      const ctx: MigrationContext = { schema, legacySchema, role };
      const knex = createPool(databaseUrl, { role: owner, searchPath: schema, max: 1 });
      try {
        const [, files] = (await knex.migrate.latest({
          migrationSource: new FolderSource(join(dir, name), ctx),
          schemaName: schema,
          tableName: 'knex_migrations',
        })) as [number, string[]];
        applied[name] = files;
        if (files.length > 0) logger?.info({ schema, files }, 'applied migrations');
      } finally {
        await knex.destroy();
      }
    }
    if (!options.schemas) {
      jobsSchemaVersion = await migrateJobsSchema(admin, `${rolePrefix}${JOBS_ROLE}`);
      logger?.debug({ schema: BULLMQ_SCHEMA, version: jobsSchemaVersion }, 'job tables at the installed BullMQ version');
    }
  } finally {
    await admin.query(`SELECT pg_advisory_unlock(hashtext('boxoffice:migrate'))`).catch(() => undefined);
    await admin.end();
  }
  return { applied, ...(jobsSchemaVersion === undefined ? {} : { jobsSchemaVersion }) };
}

/** CREATE SCHEMA … AUTHORIZATION `owner` unless it exists (another migrate may race us); true when it already existed. */
async function ensureSchema(admin: pg.Client, schema: string, owner: string): Promise<boolean> {
  let existed = false;
  await withRaceRetry(async () => {
    existed = ((await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount ?? 0) > 0;
    if (!existed) await admin.query(`CREATE SCHEMA ${quoteIdent(schema)} AUTHORIZATION ${quoteIdent(owner)}`);
  });
  return existed;
}

/** BullMQ's own migrations (idempotent, one transaction, its own advisory lock), run as the jobs role. */
async function migrateJobsSchema(admin: pg.Client, owner: string): Promise<number> {
  await ensureSchema(admin, BULLMQ_SCHEMA, owner);
  // BullMQ's migration says CREATE SCHEMA IF NOT EXISTS, which asks for CREATE on the database even when
  // the schema is there: the role has it for the run only
  const database = quoteIdent((await admin.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db);
  await admin.query(`GRANT CREATE ON DATABASE ${database} TO ${quoteIdent(owner)}`);
  await admin.query(`SET ROLE ${quoteIdent(owner)}`);
  try {
    return await runMigrations(admin, BULLMQ_SCHEMA);
  } finally {
    await admin.query('RESET ROLE');
    await admin.query(`REVOKE CREATE ON DATABASE ${database} FROM ${quoteIdent(owner)}`);
  }
}

/**
 * What `boxoffice migrate` needs, said when the server refuses it: a bare ECONNREFUSED or "permission
 * denied" does not tell an operator which login to use or how to pass it. Undefined for other errors.
 */
export function explainMigrateFailure(err: unknown, urls: { databaseUrl: string; adminUrl?: string | undefined }): string | undefined {
  const used = new URL(urls.adminUrl ?? urls.databaseUrl);
  const variable = urls.adminUrl ? 'DATABASE_ADMIN_URL' : 'DATABASE_URL';
  const where = `${used.hostname}:${used.port || 5432}`;
  const login = decodeURIComponent(used.username) || '(the default user)';
  const reason = err instanceof Error ? err.message : String(err);
  const needs =
    'migrate needs a login that may create roles and schemas (CREATEROLE and CREATE on the database, or a superuser); ' +
    'give it as DATABASE_ADMIN_URL=postgres://admin:password@host:5432/boxoffice — the app keeps using DATABASE_URL, ' +
    'whose login migrate makes a member of the module roles';
  const state = sqlState(err);
  if (state === '28P01' || state === '28000') {
    return `PostgreSQL at ${where} refused the login ${login} from ${variable} (${reason}). ${needs}`;
  }
  if (state === '42501') {
    return `the login ${login} from ${variable} is not allowed to set up the database (${reason}). ${needs}`;
  }
  if (state === '3D000') {
    return `the database ${used.pathname.slice(1)} does not exist and ${login} could not create it (${reason}). ${needs}`;
  }
  if (isDatabaseUnavailable(err)) {
    return (
      `cannot reach PostgreSQL at ${where} from ${variable} (${reason}): start it or correct the URL. ` +
      'Outside production, leave DATABASE_URL unset and `npm start` / `npx boxoffice` use the embedded PostgreSQL in .data/pg'
    );
  }
  return undefined;
}
