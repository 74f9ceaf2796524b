import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import pg from 'pg';
import { api, newUser, startTestApp } from '../helpers/app.ts';

const run = promisify(execFile);

/**
 * Seed 000 §11 / ops/runbooks/restore-module.md: one module's schema is dumped, lost and restored on its
 * own, and the app serves that module's data again — with the module's migration state restored too.
 */
test('a module schema is dumped, dropped and restored, and the app serves its data again', async (t) => {
  const app = await startTestApp({ env: { STORE_AUTH: 'own' } });
  const dir = await mkdtemp(join(tmpdir(), 'bo-backup-'));
  const admin = new pg.Client({ connectionString: app.db.url });
  t.teardown(async () => {
    await admin.end().catch(() => undefined);
    await app.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await admin.connect();
  const env = { ...process.env, DATABASE_URL: app.db.url };

  const user = newUser('restore');
  t.is((await api(app.url, 'POST', '/api/v1/auth/register', { body: user })).status, 201);
  const login = () => api(app.url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
  t.is((await login()).status, 200);
  const migrationsBefore = (await admin.query('select name from auth.knex_migrations order by id')).rows;
  t.true(migrationsBefore.length > 0);

  const backup = await run('bash', ['ops/backup/backup.sh', '--schema', 'auth', '--dir', dir], { env });
  t.regex(backup.stdout, /^auth\t\d+ bytes\tsha256 [0-9a-f]{64}\tmigration head \S+/m);
  t.regex(await readFile(join(dir, 'MANIFEST'), 'utf8'), /^auth\t/);

  // the loss: the whole schema, its migration table included
  await admin.query('drop schema auth cascade');
  t.not((await login()).status, 200, 'with the schema gone the user cannot log in');

  const restore = await run('bash', ['ops/backup/restore.sh', '--schema', 'auth', '--file', join(dir, 'auth.dump'), '--yes'], { env });
  t.regex(restore.stdout, /schema auth restored/);

  const after = await login();
  t.is(after.status, 200, JSON.stringify(after.body));
  const me = await api(app.url, 'GET', '/api/v1/auth/me', { token: after.body.access_token });
  t.is(me.body.email, user.email);
  t.deepEqual((await admin.query('select name from auth.knex_migrations order by id')).rows, migrationsBefore);
  // the module still runs as its own role, which owns its restored schema
  const owner = await admin.query(`select nspowner::regrole::text as owner from pg_namespace where nspname = 'auth'`);
  t.is(owner.rows[0].owner, 'boxoffice_auth');
});

test('restore refuses a dump that holds another schema', async (t) => {
  const app = await startTestApp({ start: false });
  const dir = await mkdtemp(join(tmpdir(), 'bo-backup-'));
  t.teardown(async () => {
    await app.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const env = { ...process.env, DATABASE_URL: app.db.url };
  await run('bash', ['ops/backup/backup.sh', '--schema', 'movies', '--dir', dir], { env });
  const err = await t.throwsAsync(run('bash', ['ops/backup/restore.sh', '--schema', 'auth', '--file', join(dir, 'movies.dump'), '--yes'], { env }));
  t.regex((err as Error & { stderr: string }).stderr, /also holds schema\(s\) movies; refusing/);
});
