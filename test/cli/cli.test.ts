import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { api, startTestApp } from '../helpers/app.ts';
import { connectAs, createTestDatabase, PG_BASE } from '../helpers/db.ts';
import { unleashTestEnv } from '../helpers/unleash.ts';

const exec = promisify(execFile);

async function boxoffice(args: string[], env: Record<string, string> = {}) {
  return exec(process.execPath, ['bin/boxoffice.js', ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

test('--help lists every command, and each command has its own --help', async (t) => {
  const top = await boxoffice(['--help']);
  t.is(top.code, 0);
  for (const cmd of ['migrate', 'seed', 'keys', 'users', 'flags']) t.regex(top.stdout, new RegExp(`\\n\\s+${cmd}\\b`));
  for (const sub of [['migrate'], ['seed', 'legacy'], ['keys', 'rotate'], ['users', 'create-admin'], ['flags', 'list'], ['flags', 'sync']]) {
    const r = await boxoffice([...sub, '--help']);
    t.is(r.code, 0, sub.join(' '));
    t.regex(r.stdout, /Usage: boxoffice/);
  }
  const unknown = await boxoffice(['frobnicate']);
  t.not(unknown.code, 0);
});

test('migrate creates a missing database, then reports it up to date on a second run', async (t) => {
  const name = `bo_t_${Math.floor(Date.now() / 1000)}_cli${process.pid}`;
  const url = `${PG_BASE}/${name}`;
  t.teardown(async () => {
    const c = await connectAs(`${PG_BASE}/postgres`);
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.end();
  });
  const first = await boxoffice(['migrate'], { DATABASE_URL: url });
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /applied legacy\/0001_shared_tables/);
  t.regex(first.stdout, /applied auth\/0001_auth_schema/);
  const second = await boxoffice(['migrate'], { DATABASE_URL: url });
  t.is(second.code, 0);
  t.regex(second.stdout, /database is up to date/);
  const c = await connectAs(url);
  try {
    const { rows } = await c.query(`SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname IN ('auth','movies','bookings','payments','notifications','migration') ORDER BY 1`);
    t.deepEqual(rows.map((r) => `${r.nspname}:${r.owner}`), [
      'auth:boxoffice_auth', 'bookings:boxoffice_bookings', 'migration:boxoffice_migration',
      'movies:boxoffice_movies', 'notifications:boxoffice_notifications', 'payments:boxoffice_payments',
    ]);
    const tables = await c.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'knex_migrations' ORDER BY 1`);
    t.true(tables.rows.length >= 2, 'each schema keeps its own migrations table');
  } finally {
    await c.end();
  }
});

test('users create-admin creates an admin who can log in; a second run promotes and resets; bad input exits 2', async (t) => {
  const db = await createTestDatabase();
  const keys = await mkdtemp(join(tmpdir(), 'bo-cli-'));
  t.teardown(async () => {
    await db.drop();
    await rm(keys, { recursive: true, force: true });
  });
  const env = { DATABASE_URL: db.url, JWT_KEYS_DIR: keys };
  const created = await boxoffice(['users', 'create-admin', '--email', 'Boss@Example.com', '--password', 'Adm1n-secret!'], env);
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout, /created admin boss@example.com/);
  const again = await boxoffice(['users', 'create-admin', '--email', 'boss@example.com', '--password', 'N3w-secret-pw'], env);
  t.regex(again.stdout, /promoted admin boss@example.com/);
  const bad = await boxoffice(['users', 'create-admin', '--email', 'nope', '--password', 'x'], env);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--email: is not a valid email address/);
  t.regex(bad.stderr, /--password: must be at least 8 characters/);
  const app = await startTestApp({ db, env: { JWT_KEYS_DIR: keys } });
  t.teardown(() => app.stop());
  const login = await api(app.url, 'POST', '/api/v1/auth/login', { body: { email: 'boss@example.com', password: 'N3w-secret-pw' } });
  t.is(login.status, 200);
  const claims = JSON.parse(Buffer.from(login.body.access_token.split('.')[1], 'base64url').toString());
  t.deepEqual(claims.roles, ['admin']);
});

test('flags list shows bootstrap values without Unleash; flags sync creates the catalog in Unleash', async (t) => {
  const local = await boxoffice(['flags', 'list', '--json'], { FLAGS_BOOTSTRAP: 'use_local_jwt=true' });
  t.is(local.code, 0, local.stderr);
  const doc = JSON.parse(local.stdout);
  t.is(doc.source, 'bootstrap');
  t.is(doc.flags.find((f: { name: string }) => f.name === 'use_local_jwt').value, true);
  t.is(doc.flags.find((f: { name: string }) => f.name === 'use_rs256_tokens').value, false);

  const { url, adminToken, clientToken } = unleashTestEnv();
  const env = { UNLEASH_URL: url, UNLEASH_API_TOKEN: clientToken, UNLEASH_ADMIN_TOKEN: adminToken };
  const noToken = await boxoffice(['flags', 'sync'], { UNLEASH_URL: url, UNLEASH_API_TOKEN: clientToken });
  t.is(noToken.code, 2);
  t.regex(noToken.stderr, /UNLEASH_ADMIN_TOKEN/);
  const synced = await boxoffice(['flags', 'sync'], env);
  t.is(synced.code, 0, synced.stderr);
  const res = await fetch(`${url}/admin/projects/default/features/stop_legacy_writes_notification`, { headers: { Authorization: adminToken } });
  t.is(res.status, 200, 'a flag no test touches now exists in Unleash');
  const twice = await boxoffice(['flags', 'sync'], env);
  t.regex(twice.stdout, /already has every flag|created 0/);
  const listed = await boxoffice(['flags', 'list', '--json'], env);
  t.is(JSON.parse(listed.stdout).source, 'unleash');
});
