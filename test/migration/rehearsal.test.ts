
import test from 'ava';
import { seedLegacy } from '../../src/cli/seed/legacy-seed.ts';
import { SEED_PASSWORD } from '../../src/cli/seed/password-pool.ts';
import { createPool, type Knex } from '../../src/platform/db.ts';
import { backfill } from '../../src/migration/backfill/backfill.ts';
import { advance, rollback, type CutoverDeps } from '../../src/migration/cutover/cutover.ts';
import type { Phase } from '../../src/migration/phases.ts';
import { reconcile } from '../../src/migration/reconciliation/reconcile.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { adminToken } from '../helpers/catalog.ts';
import { createTestVhost, waitFor, type TestVhost } from '../helpers/events.ts';
import { compareSides } from '../helpers/strangler.ts';
import { Traffic } from './traffic.ts';
import { cutoverDepsFor, writePlan } from '../helpers/cutover.ts';

/**
 * The rehearsal: seeded legacy data, a traffic generator running the whole time (logins, token checks,
 * registrations, catalog reads, admin catalog writes, bookings), and `boxoffice cutover` walking auth, then
 * movie, through every phase on a real Unleash — DUAL_WRITE, backfill, BACKFILLED, SHADOW_READ, READ_NEW
 * 10 → 50 → 100 %, NEW_ONLY — with one rollback from READ_NEW to SHADOW_READ. Every response must be right
 * in every phase, shadow reads must find nothing, and no write made during READ_NEW may be missing from
 * the legacy tables after the rollback.
 */
const PLAN = `
defaults: { hold: 0s, shadow_reads: { min_reads: 25, max_mismatch_rate: 0, window: 1h } }
stages:
  - id: events
    title: events (the movie schema's seat map is a projection of booking events)
    steps:
      - { id: publish_booking_events, title: booking events out, set: { publish_booking_events: true } }
  - id: databases
    title: rehearsal
    modules: [auth, movie, booking, payment, notification]
    phases:
      - { phase: DUAL_WRITE, title: dual, set: { "dual_write_{module}_db": true } }
      - { phase: BACKFILLED, title: backfilled, guards: [backfill_finished, no_copies_owed] }
      - { phase: SHADOW_READ, title: shadow, set: { "verify_{module}_reads": true }, guards: [reconciliation_clean] }
      - { phase: READ_NEW, title: read new, set: { "read_from_new_{module}_db": true }, rollout: [10, 50, 100], guards: [shadow_reads, reconciliation_clean, no_copies_owed] }
      - { phase: NEW_ONLY, title: new only, set: { "stop_legacy_writes_{module}": true } }
`;

let app: TestApp;
let admin: Knex;
let deps: CutoverDeps;
let traffic: Traffic;
let vhost: TestVhost;
test.before(async () => {
  vhost = await createTestVhost();
  app = await startTestApp({ unleash: true, env: { AMQP_URL: vhost.url, DB_POOL_MAX: '6', SHADOW_READ_RECHECK_MS: '500', LOGIN_MAX_FAILURES_PER_IP: '100000' } });
  admin = createPool(app.db.url, { max: 3 });
  const epoch = new Date().toISOString().slice(0, 10);
  await seedLegacy(app.app.databases.forRole('legacy', 'public'), {
    schema: 'public', users: 300, movies: 20, bookings: 1500, seed: 7, epoch, batchSize: 500, jobs: 1, truncate: true,
  }, { start() {}, update() {}, stop() {} }, () => undefined);
  deps = cutoverDepsFor(app, await writePlan(PLAN));
  traffic = await Traffic.start({ app, admin, adminToken: await adminToken(app), password: SEED_PASSWORD });
});
test.after.always(async () => {
  await traffic?.stop();
  for (const m of ['auth', 'movie'] as const) for (let i = 0; i < 6; i++) await rollback(deps, m, { actor: 'rehearsal cleanup' }).catch(() => undefined);
  await admin?.destroy();
  await app?.stop();
  await vhost?.drop();
});

const actor = 'rehearsal';
const described = (m: 'auth' | 'movie') => app.app.strangler.router.describe(m);

/** advance one step and wait until the app is on it; traffic keeps flowing meanwhile */
async function step(m: 'auth' | 'movie', expected: string): Promise<void> {
  const v = await advance(deps, { module: m, actor }).catch(async (err: unknown) => {
    const found = (await admin('migration.shadow_mismatches').select('aggregate', 'key', 'method', 'kind', 'fields').limit(5)) as unknown[];
    throw new Error(`${String(err)}\nshadow mismatches: ${JSON.stringify(found, null, 1)}`);
  });
  if (v.to !== expected) throw new Error(`expected ${m} → ${expected}, the plan took it to ${v.to}`);
  traffic.phase = `${m} ${expected}`;
  const want = expected.startsWith('READ_NEW') ? 'READ_NEW' : expected === 'BACKFILLED' ? 'DUAL_WRITE' : expected;
  await waitFor(`the app on ${m} ${expected}`, () => described(m).phase === want, 10_000);
  await traffic.waitRequests(150);
}

async function shadowReadsCompared(m: string, n: number): Promise<void> {
  await waitFor(`${n} shadow reads of ${m} compared`, async () => {
    const [row] = (await admin('migration.shadow_read_stats').where({ module: m }).sum({ n: 'compared' })) as { n: string | null }[];
    return Number(row?.n ?? 0) >= n;
  }, 60_000);
}

/** reconciliation runs while the traffic writes both sides: every one must come back clean (no false drift) */
const reconciled = { runs: 0, rows: 0 };
async function reconcileUnderTraffic(m: 'auth' | 'movie'): Promise<void> {
  const reports = await reconcile({
    databases: app.app.databases, legacySchema: 'public', mappings: [...deps.mappings.values()], modules: [m], mode: 'full', repair: 'none',
    phaseOf: async () => described(m).phase as Phase,
  });
  const drift = reports.filter((r) => r.status !== 'clean');
  if (drift.length > 0) throw new Error(`reconciliation of ${m} under traffic reported drift: ${JSON.stringify(drift.map((r) => ({ aggregate: r.aggregate, error: r.error, findings: r.findings.slice(0, 3) })))}`);
  reconciled.runs += reports.length;
  reconciled.rows += reports.reduce((n, r) => n + r.rowsCompared, 0);
}

async function walk(m: 'auth' | 'movie', options: { rollbackFromReadNew?: () => Promise<void> } = {}): Promise<void> {
  await step(m, 'DUAL_WRITE');
  await waitFor(`the app's ${m} lease`, async () => (await admin('migration.dual_write_leases').where({ module: m }).first()) !== undefined);
  await backfill({ db: deps.db, legacySchema: 'public', mapping: deps.mappings.get(m)!, batchSize: 200 });
  await step(m, 'BACKFILLED');
  // the plan's reconciliation_clean guard: SHADOW_READ (and each READ_NEW share) needs a clean run
  await reconcileUnderTraffic(m);
  await step(m, 'SHADOW_READ');
  await shadowReadsCompared(m, 25);
  await step(m, 'READ_NEW 10%');
  if (options.rollbackFromReadNew) await options.rollbackFromReadNew();
  await reconcileUnderTraffic(m);
  await step(m, 'READ_NEW 50%');
  await reconcileUnderTraffic(m);
  await step(m, 'READ_NEW');
  if (m === 'auth') await traffic.waitRequests(300);
  const differences = await compareSides(admin, deps.mappings.get(m)!);
  if (differences.length > 0) throw new Error(`${m} sides differ before NEW_ONLY: ${JSON.stringify(differences.slice(0, 3))}`);
  await step(m, 'NEW_ONLY');
}

test.serial('auth and movie walk every phase under traffic; every response right; a rollback from READ_NEW loses no write', async (t) => {
  t.timeout(600_000);
  await traffic.waitRequests(200);
  t.is((await advance(deps, { actor })).step.id, 'events/publish_booking_events');
  await waitFor('booking events flow', () => app.app.flags.isEnabled('publish_booking_events'));
  await walk('auth');
  await walk('movie', {
    async rollbackFromReadNew() {
      // writes while movie reads and writes its own schema first…
      await traffic.waitRequests(100);
      const written = await traffic.catalogWrites(8);
      const back = await rollback(deps, 'movie', { actor, reason: 'rehearsal: step back and check the legacy side' });
      t.is(back.to, 'SHADOW_READ');
      traffic.phase = 'movie SHADOW_READ (rolled back)';
      await waitFor('the app back on movie SHADOW_READ', () => described('movie').phase === 'SHADOW_READ');
      // …are all in the legacy tables, and served from them now
      for (const w of written.descriptions) {
        const row = (await admin('public.movies').where({ id: w.id }).first()) as { description: string } | undefined;
        t.is(row?.description, w.description, `legacy movie ${w.id} misses a write made during READ_NEW`);
      }
      for (const id of written.showtimes) t.truthy(await admin('public.showtimes').where({ id }).first(), `legacy misses showtime ${id} created during READ_NEW`);
      await traffic.waitRequests(150);
      await step('movie', 'READ_NEW 10%');
    },
  });
  await traffic.waitRequests(200);
  const report = await traffic.stop();
  t.log(report.summary);
  t.log(`${reconciled.runs} reconciliation runs under traffic compared ${reconciled.rows} rows: no drift reported`);
  t.deepEqual(report.failures.slice(0, 10), [], 'responses went wrong');
  t.true(report.total > 2000, `only ${report.total} requests`);
  const mismatches = (await admin('migration.shadow_mismatches').select('module', 'aggregate', 'key', 'kind', 'fields')) as unknown[];
  t.deepEqual(mismatches, [], 'shadow reads found differences');
  const log = (await deps.db('migration.cutover_log').orderBy('id')) as { action: string }[];
  t.is(log.filter((e) => e.action === 'advance').length, 16);
  t.is(log.filter((e) => e.action === 'rollback').length, 1);
});
