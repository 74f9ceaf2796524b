import test from 'ava';
import { seedLegacy } from '../../src/cli/seed/legacy-seed.ts';
import { SEED_PASSWORD } from '../../src/cli/seed/password-pool.ts';
import { backfill } from '../../src/migration/backfill/backfill.ts';
import { reconcile, type AggregateReport } from '../../src/migration/reconciliation/reconcile.ts';
import { createPool, type Knex } from '../../src/platform/db.ts';
import { MODULE_REGISTRY } from '../../src/module-registry.ts';
import { api, newUser, startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { count, waitFor } from '../helpers/events.ts';

/**
 * Reconciliation while traffic writes both sides, with auth's own schema in a database of its own: the
 * copy of each write is made after commit, so at any moment some keys differ in flight. A run must report
 * none of them (each finding is read again, apart, and dropped while its copy is owed) — but a difference
 * planted during the same traffic must still be reported.
 */
let main: TestDatabase;
let second: TestDatabase;
let app: TestApp;
let secondAdmin: Knex;
test.before(async () => {
  [main, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  app = await startTestApp({
    db: main,
    env: { AUTH_DATABASE_URL: second.url, FLAGS_BOOTSTRAP: 'dual_write_auth_db=true', DUAL_WRITE_RETRY_DELAYS_MS: '100,200', LOGIN_MAX_FAILURES_PER_IP: '100000', DB_POOL_MAX: '6' },
  });
  secondAdmin = createPool(second.url, { max: 2 });
  await seedLegacy(app.app.databases.forRole('legacy', 'public'), {
    schema: 'public', users: 3000, movies: 5, bookings: 100, seed: 3, epoch: '2026-01-01', batchSize: 1000, jobs: 1, truncate: true,
  }, { start() {}, update() {}, stop() {} }, () => undefined);
  const db = app.app.databases;
  await backfill({ db: db.forRole('migration', 'migration'), legacySchema: 'public', mapping: MODULE_REGISTRY.auth.mapping(app.app.config), separate: { legacy: db.forModule('auth'), own: db.forModuleDatabase('auth')! }, batchSize: 1000 });
});
test.after.always(async () => {
  await secondAdmin?.destroy();
  await app?.stop();
  await Promise.all([main?.drop(), second?.drop()]);
});

function reconcileAuth(): Promise<AggregateReport[]> {
  return reconcile({
    databases: app.app.databases, legacySchema: 'public', mappings: [MODULE_REGISTRY.auth.mapping(app.app.config)], modules: ['auth'], mode: 'full', repair: 'none',
    phaseOf: async () => 'DUAL_WRITE',
  });
}

test('runs during writes report no drift; a difference planted during the same traffic is reported', async (t) => {
  const seeded = (await app.app.databases.forRole('legacy', 'public')('users').where('is_active', true).whereNot('role', 'admin').orderBy('id').limit(400).pluck('email')) as string[];
  let running = true;
  let requests = 0;
  const failures: string[] = [];
  const client = async (i: number) => {
    for (let n = 0; running; n++) {
      // registrations insert users; a seeded user's first login rewrites its password hash
      const r = n % 2 === 0
        ? await api(app.url, 'POST', '/api/v1/auth/register', { body: newUser('rt') })
        : await api(app.url, 'POST', '/api/v1/auth/login', { body: { email: seeded[(i * 97 + n) % seeded.length], password: SEED_PASSWORD } });
      requests++;
      if (r.status >= 400) failures.push(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    }
  };
  const clients = Array.from({ length: 4 }, (_, i) => client(i));
  try {
    const runs: AggregateReport[] = [];
    for (let i = 0; i < 4; i++) {
      const before = requests;
      const [report] = await reconcileAuth();
      runs.push(report!);
      t.is(report!.status, 'clean', `run ${i + 1} reported ${JSON.stringify(report!.findings.slice(0, 3))}`);
      await waitFor('traffic between runs', () => requests >= before + 20);
    }
    const planted = (await secondAdmin('auth.users').orderBy('id').first('id')) as { id: string };
    await secondAdmin('auth.users').where({ id: planted.id }).update({ full_name: 'planted under traffic' });
    const [found] = await reconcileAuth();
    t.deepEqual(found!.findings.map((f) => [f.key, f.kind, f.fields.map((d) => d.field)]), [[planted.id, 'fields', ['full_name']]], 'the planted difference, and nothing else');
    t.log(`${runs.length} clean runs compared ${runs.map((r) => r.rowsCompared).join(', ')} users during ${requests} requests`);
  } finally {
    running = false;
    await Promise.all(clients);
  }
  t.deepEqual(failures.slice(0, 5), []);
  t.true(requests >= 80, `only ${requests} requests`);
  await waitFor('every copy made', async () => (await count(app.app.databases.forRole('migration', 'migration'), `SELECT count(*) AS n FROM migration.dual_write_queue WHERE module = 'auth'`)) === 0);
  const [last] = await reconcileAuth();
  t.deepEqual(last!.findings.map((f) => f.key), [(await secondAdmin('auth.users').where({ full_name: 'planted under traffic' }).first('id') as { id: string }).id]);
});
