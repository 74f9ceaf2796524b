import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { seedLegacy } from '../../src/cli/seed/legacy-seed.ts';
import { backfill } from '../../src/migration/backfill/backfill.ts';
import { advance, rollback, type CutoverDeps } from '../../src/migration/cutover/cutover.ts';
import { reconcile, type AggregateReport } from '../../src/migration/reconciliation/reconcile.ts';
import { createPool } from '../../src/platform/db.ts';
import { MODULE_REGISTRY } from '../../src/module-registry.ts';
import { registerAndLogin, startTestApp, type TestApp } from '../helpers/app.ts';
import { unleashTestEnv } from '../helpers/unleash.ts';
import { cutoverDepsFor, writePlan } from '../helpers/cutover.ts';

/**
 * An app (real Postgres, Redis, Unleash) whose auth module has been backfilled, reconciled clean, then
 * given planted differences and reconciled twice: the dashboard's tests and its screenshots look at it.
 * The planted legacy name holds markup, which every page must show as text.
 */
export const PLAN = `
defaults: { hold: 0s, shadow_reads: { min_reads: 10, max_mismatch_rate: 0.1, window: 1h } }
stages:
  - id: databases
    title: dashboard test plan
    modules: [auth, movie, booking, payment, notification]
    phases:
      - { phase: DUAL_WRITE, title: dual-write, set: { "dual_write_{module}_db": true } }
      - { phase: BACKFILLED, title: backfilled, guards: [backfill_finished, no_copies_owed] }
      - { phase: SHADOW_READ, title: shadow reads, set: { "verify_{module}_reads": true } }
      - { phase: READ_NEW, title: read new, set: { "read_from_new_{module}_db": true }, rollout: [10, 100] }
      - { phase: NEW_ONLY, title: new only, set: { "stop_legacy_writes_{module}": true } }
`;

export const MARKUP_NAME = '<script>window.__planted = 1</script><b>Mallory</b>';
export const OWN_EMAIL = 'changed-on-own@example.com';

export interface DashboardScenario {
  app: TestApp;
  admin: { email: string; password: string };
  adminToken: string;
  userToken: string;
  cutover: CutoverDeps;
  planted: { markup: string; ownEmail: string; missing: string };
  /** the runs: clean, then twice with the planted drift */
  runs: AggregateReport[][];
  close(): Promise<void>;
}

export async function createDashboardScenario(): Promise<DashboardScenario> {
  const plan = await writePlan(PLAN);
  const app = await startTestApp({ unleash: true, env: { CUTOVER_PLAN: plan, UNLEASH_ADMIN_TOKEN: unleashTestEnv().adminToken } });
  const { config, databases } = app.app;
  let cutover: CutoverDeps | undefined;
  const close = async () => {
    // leave Unleash as other test files expect it: nothing of this app switched on
    if (cutover) await rollback(cutover, 'auth', { actor: 'dashboard-test' }).catch(() => undefined);
    await app.stop();
    await rm(dirname(plan), { recursive: true, force: true });
  };
  try {
    cutover = cutoverDepsFor(app, plan);
    await seedLegacy(databases.forRole('legacy', 'public'), {
      schema: 'public', users: 300, movies: 4, bookings: 100, seed: 52, epoch: '2026-01-01', batchSize: 1000, jobs: 1, truncate: true,
    }, { start() {}, update() {}, stop() {} }, () => undefined);
    const admin = { email: `dash-admin-${randomUUID().slice(0, 8)}@example.com`, password: 'Adm1n-dashboard-9' };
    await app.app.auth!.admin.createAdmin(admin);
    const adminLogin = await fetch(`${app.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) });
    const adminToken = ((await adminLogin.json()) as { access_token: string }).access_token;
    const user = await registerAndLogin(app.url, 'dash-user');
    const mapping = MODULE_REGISTRY.auth.mapping(config);
    await backfill({ db: cutover.db, legacySchema: 'public', mapping, batchSize: 5000, jobs: 1, restart: true, force: true });
    const run = () => reconcile({ databases, legacySchema: 'public', mappings: [mapping], modules: ['auth'], mode: 'full', repair: 'none', phaseOf: async () => 'LEGACY' });
    const runs = [await run()];

    const legacy = databases.forRole('legacy', 'public');
    const { rows } = (await legacy.raw(`SELECT id::text AS id FROM public.users WHERE id <> ? AND role <> 'admin' ORDER BY id LIMIT 3`, [user.id])) as { rows: { id: string }[] };
    const [markup, ownEmail, missing] = rows.map((r) => r.id) as [string, string, string];
    await legacy.raw(`UPDATE public.users SET full_name = ? WHERE id = ?`, [MARKUP_NAME, markup]);
    // the own side is changed as the migrate login would: the test database's owner
    const owner = createPool(app.db.url, { max: 1 });
    try {
      await owner.raw(`UPDATE auth.users SET email = ? WHERE id = ?`, [OWN_EMAIL, ownEmail]);
      await owner.raw(`DELETE FROM auth.users WHERE id = ?`, [missing]);
    } finally {
      await owner.destroy();
    }
    runs.push(await run(), await run());
    return { app, admin, adminToken, userToken: user.access, cutover, planted: { markup, ownEmail, missing }, runs, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Take auth's next step (LEGACY → DUAL_WRITE) through the cutover tool, as an operator would. */
export const advanceAuth = (s: DashboardScenario) => advance(s.cutover, { module: 'auth', actor: 'dashboard-test' });
