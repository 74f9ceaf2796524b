import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Knex } from '../../src/platform/db.ts';
import { setupDatabase } from '../../src/setup-database.ts';
import { waitFor } from './events.ts';

export const PG_BASE = process.env['TEST_PG_BASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const root = fileURLToPath(new URL('../..', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** The template is keyed by everything that shapes the schema, so a changed migration builds a new one. */
function templateName(): string {
  const hash = createHash('sha256');
  for (const file of [
    ...filesUnder(join(root, 'migrations')).sort(),
    join(root, 'src/platform/migrate.ts'),
    join(root, 'src/platform/events/outbox-ddl.ts'),
    join(root, 'src/platform/events/event-deliveries-ddl.ts'),
    // the generated dual-write functions and triggers come from the mappings and their SQL generator
    ...filesUnder(join(root, 'src/migration/sql')).sort(),
    ...filesUnder(join(root, 'src/modules')).filter((f) => f.endsWith('-mapping.ts')).sort(),
    join(root, 'src/setup-database.ts'),
    // and the settings this file builds the template with (e.g. the default currency the mappings bake in)
    fileURLToPath(import.meta.url),
    join(root, 'src/module-registry.ts'),
  ]) {
    // relative paths: every checkout of the same code (worktrees, CI clones) shares one template
    hash.update(relative(root, file)).update(readFileSync(file));
  }
  return `bo_tpl_${hash.digest('hex').slice(0, 16)}`;
}

/** `fn` with a superuser connection to the maintenance database (create or drop databases and roles). */
export async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, fully migrated database of its own (copied from a template migrated once per schema
 * version), so test files can run in parallel without seeing each other's rows.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `bo_t_${Math.floor(Date.now() / 1000)}_${randomBytes(5).toString('hex')}`;
  await withAdmin(async (admin) => {
    await admin.query(`SELECT pg_advisory_lock(hashtext('boxoffice:test-template'))`);
    try {
      if (options.migrated === false) {
        await admin.query(`CREATE DATABASE "${name}"`);
        return;
      }
      const template = templateName();
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (exists.rowCount === 0) {
        const building = `${template}_build`;
        await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
        await setupDatabase({ DATABASE_URL: `${PG_BASE}/${building}`, DB_ROLE_PREFIX: 'boxoffice_', LEGACY_SCHEMA: 'public', DEFAULT_CURRENCY: 'VND' });
        await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
        const stale = await admin.query<{ datname: string }>(
          `SELECT datname FROM pg_database WHERE datname LIKE 'bo\\_tpl\\_%' AND datname <> $1`,
          [template],
        );
        for (const { datname } of stale.rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    } finally {
      await admin.query(`SELECT pg_advisory_unlock(hashtext('boxoffice:test-template'))`);
    }
  });
  return {
    name,
    url: `${PG_BASE}/${name}`,
    drop: () => withAdmin(async (admin) => void (await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

/** A plain pg client on a database as a given role (SET ROLE at connection start), for boundary tests. */
export async function connectAs(url: string, role?: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, ...(role ? { options: `-c role=${role}` } : {}) });
  await client.connect();
  return client;
}

/**
 * Plant a difference between the two sides of a dual-writing module: runs `sql` as the superuser with
 * the capture triggers off (session_replication_role = replica), as a write that bypassed the app and the
 * triggers would — the drift reconciliation exists to find.
 */
export async function plantDrift(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const client = await connectAs(url);
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(sql, params);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

/** the backend process of `trx`'s connection (to wait for someone else to queue behind its locks) */
export async function backendPid(trx: Knex.Transaction): Promise<number> {
  return ((await trx.raw('SELECT pg_backend_pid() AS pid')) as { rows: { pid: number }[] }).rows[0]!.pid;
}

/**
 * Resolves once another session is waiting for a lock that backend `pid` holds. It looks on a connection of
 * its own, opened as `db`'s are but outside its pool: the pool may be spent on the very sessions it watches.
 */
export async function waitUntilBlockedBy(db: Knex, pid: number): Promise<true> {
  const client = db.client as { acquireRawConnection(): Promise<pg.Client>; destroyRawConnection(c: pg.Client): Promise<void> };
  const own = await client.acquireRawConnection();
  try {
    return await waitFor(`a session waiting on backend ${pid}'s lock`, async () =>
      (await own.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [pid])).rows[0]!.n > 0 || undefined, 10_000, 10);
  } finally {
    await client.destroyRawConnection(own);
  }
}
