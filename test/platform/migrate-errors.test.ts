import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import pg from 'pg';
import { explainMigrateFailure } from '../../src/platform/migrate.ts';
import { PG_BASE, withAdmin } from '../helpers/db.ts';

/** Issue 12: `boxoffice migrate` says what it needs when the server refuses it, and takes DATABASE_ADMIN_URL. */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');
const database = `bo_zero_migrate_${suffix}`;
const weak = `bo_zero_weak_${suffix}`;


test.before(async () => {
  await withAdmin(async (c) => {
    await c.query(`CREATE DATABASE ${database}`);
    // a login that may connect but not create roles or schemas: what an app's own credentials usually are
    await c.query(`CREATE ROLE ${weak} LOGIN PASSWORD 'weak-password-1'`);
  });
});

test.after.always(async () => {
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS ${weak}`);
  });
});

async function migrate(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/DATABASE_URL|DATABASE_ADMIN_URL/.test(k)));
  try {
    const { stdout, stderr } = await run(process.execPath, ['src/cli/main.ts', 'migrate'], { cwd: ROOT, env: { ...clean, NODE_ENV: 'test', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const weakUrl = () => {
  const u = new URL(`${PG_BASE}/${database}`);
  u.username = weak;
  u.password = 'weak-password-1';
  return u.toString();
};

test.serial('an unreachable server: names where it looked and the embedded default', async (t) => {
  const r = await migrate({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/boxoffice' });
  t.is(r.code, 1);
  t.regex(r.stderr, /cannot reach PostgreSQL at 127\.0\.0\.1:1 from DATABASE_URL \(.*ECONNREFUSED/);
  t.regex(r.stderr, /embedded PostgreSQL/);
});

test.serial('a login that may not create roles: says what migrate needs and how to pass it; DATABASE_ADMIN_URL then works', async (t) => {
  const refused = await migrate({ DATABASE_URL: weakUrl() });
  t.is(refused.code, 1);
  t.regex(refused.stderr, new RegExp(`the login ${weak} from DATABASE_URL is not allowed to set up the database`));
  t.regex(refused.stderr, /CREATEROLE/);
  t.regex(refused.stderr, /DATABASE_ADMIN_URL=postgres:\/\//);

  const ok = await migrate({ DATABASE_URL: weakUrl(), DATABASE_ADMIN_URL: `${PG_BASE}/${database}` });
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /applied \d+ migration\(s\)/);
  // the app's own login can now act as a module's role (what its pools do)
  const c = new pg.Client({ connectionString: weakUrl() });
  await c.connect();
  try {
    await c.query('SET ROLE boxoffice_auth');
    const r = await c.query('SELECT count(*)::int AS n FROM auth.users');
    t.is(r.rows[0].n, 0);
  } finally {
    await c.end();
  }
});

test('a refused password is explained too', (t) => {
  const err = Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
  const text = explainMigrateFailure(err, { databaseUrl: 'postgres://app:x@db.example:5433/boxoffice' });
  t.regex(text ?? '', /PostgreSQL at db\.example:5433 refused the login app from DATABASE_URL/);
  t.regex(text ?? '', /DATABASE_ADMIN_URL/);
  t.is(explainMigrateFailure(Object.assign(new Error('syntax error'), { code: '42601' }), { databaseUrl: 'postgres://a@b/c' }), undefined);
});
