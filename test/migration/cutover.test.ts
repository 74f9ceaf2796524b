
import test from 'ava';
import { advance, CutoverRefused, rollback, status, type CutoverDeps } from '../../src/migration/cutover/cutover.ts';
import { backfill } from '../../src/migration/backfill/backfill.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { waitFor } from '../helpers/events.ts';
import { cutoverDepsFor, writePlan } from '../helpers/cutover.ts';

/**
 * `boxoffice cutover` against a real Unleash: a step it advances changes the running app's path within
 * the flag refresh interval; guards refuse what the plan forbids and say why; --force needs a reason and
 * is logged; rollback returns a module to its previous phase.
 */
const PLAN = `
defaults: { hold: 0s, shadow_reads: { min_reads: 10, max_mismatch_rate: 0.1, window: 1h } }
stages:
  - id: databases
    title: test plan
    modules: [auth, movie, booking, payment, notification]
    phases:
      - { phase: DUAL_WRITE, title: dual, set: { "dual_write_{module}_db": true } }
      - { phase: BACKFILLED, title: backfilled, guards: [backfill_finished, no_copies_owed] }
      - { phase: SHADOW_READ, title: shadow, set: { "verify_{module}_reads": true } }
      - { phase: READ_NEW, title: read new, set: { "read_from_new_{module}_db": true }, rollout: [10, 100], guards: [shadow_reads], hold: 1h }
      - { phase: NEW_ONLY, title: new only, set: { "stop_legacy_writes_{module}": true } }
`;

let app: TestApp;
let deps: CutoverDeps;
test.before(async () => {
  app = await startTestApp({ unleash: true });
  deps = cutoverDepsFor(app, await writePlan(PLAN));
});
test.after.always(async () => {
  // leave Unleash as other test files expect it: nothing of this app switched on
  if (deps) for (const m of ['auth', 'movie', 'booking'] as const) await rollbackAll(m).catch(() => undefined);
  await app?.stop();
});

async function rollbackAll(module: 'auth' | 'movie' | 'booking') {
  for (let i = 0; i < 6; i++) await rollback(deps, module, { actor: 'test' });
}

const phaseOfApp = (m: 'auth' | 'movie') => app.app.strangler.router.describe(m);
const actor = 'test-runner';

test.serial('an advanced step reaches the running app within the refresh interval', async (t) => {
  t.is(phaseOfApp('auth').phase, 'LEGACY');
  const step = await advance(deps, { module: 'auth', actor });
  t.is(step.to, 'DUAL_WRITE');
  const started = Date.now();
  await waitFor('the app dual-writes auth', () => phaseOfApp('auth').phase === 'DUAL_WRITE', 5_000);
  t.log(`app followed in ${Date.now() - started} ms (UNLEASH_REFRESH_INTERVAL_MS=${app.env['UNLEASH_REFRESH_INTERVAL_MS']})`);
});

test.serial('order: movie and booking may dual-write, but not go past DUAL_WRITE while the module before is not NEW_ONLY', async (t) => {
  t.is((await advance(deps, { module: 'movie', actor })).to, 'DUAL_WRITE');
  const refused = await t.throwsAsync(advance(deps, { module: 'movie', actor }), { instanceOf: CutoverRefused });
  t.regex(refused.message, /order: movie may go past DUAL_WRITE only once auth is NEW_ONLY \(it is DUAL_WRITE\)/);
  t.is((await advance(deps, { module: 'booking', actor })).to, 'DUAL_WRITE');
  const booking = await t.throwsAsync(advance(deps, { module: 'booking', actor }), { instanceOf: CutoverRefused });
  t.regex(booking.message, /order: booking may go past DUAL_WRITE only once movie is NEW_ONLY \(it is DUAL_WRITE\)/);
});

test.serial('BACKFILLED needs a finished backfill since dual-write began', async (t) => {
  const refused = await t.throwsAsync(advance(deps, { module: 'auth', actor }), { instanceOf: CutoverRefused });
  t.regex(refused.message, /backfill_finished: no finished backfill since dual-write began for users/);
  await waitFor('the app holds its dual-write lease', async () => (await deps.db('migration.dual_write_leases').where({ module: 'auth' }).first()) !== undefined, 5_000);
  await backfill({ db: deps.db, legacySchema: 'public', mapping: deps.mappings.get('auth')!, batchSize: 100 });
  t.is((await advance(deps, { module: 'auth', actor })).to, 'BACKFILLED');
  t.is((await advance(deps, { module: 'auth', actor })).to, 'SHADOW_READ');
  await waitFor('the app shadow-reads auth', () => phaseOfApp('auth').phase === 'SHADOW_READ', 5_000);
});

test.serial('shadow mismatches over the threshold refuse READ_NEW; --force needs a reason and is logged', async (t) => {
  await deps.db('migration.shadow_read_stats').insert({ module: 'auth', bucket: new Date(Math.floor(Date.now() / 60_000) * 60_000), compared: 20, mismatched: 5 });
  const refused = await t.throwsAsync(advance(deps, { module: 'auth', actor }), { instanceOf: CutoverRefused });
  t.regex(refused.message, /shadow_reads: 5 of 20 shadow reads mismatched/);
  t.true(refused.guards.some((g) => g.guard === 'shadow_reads' && !g.ok));
  await t.throwsAsync(advance(deps, { module: 'auth', actor, force: true }), { message: /--force needs --reason/ });
  const forced = await advance(deps, { module: 'auth', actor, force: true, reason: 'mismatches are the planted ones of this test' });
  t.is(forced.to, 'READ_NEW 10%');
  const [entry] = (await deps.db('migration.cutover_log').orderBy('id', 'desc').limit(1)) as { forced: boolean; reason: string; actor: string; guards: { guard: string; ok: boolean }[] }[];
  t.true(entry!.forced);
  t.is(entry!.reason, 'mismatches are the planted ones of this test');
  t.is(entry!.actor, actor);
  t.true(entry!.guards.some((g) => g.guard === 'shadow_reads' && !g.ok));
  // READ_NEW at 10 %: every write goes to the own schema first (the write-path strategy), reads are split
  await waitFor('the app writes auth to its own schema', () => phaseOfApp('auth').writes === 'own', 5_000);
  t.is(phaseOfApp('auth').reads, 'split');
});

test.serial('the plan holds READ_NEW for its minimum time before the next share', async (t) => {
  const refused = await t.throwsAsync(advance(deps, { module: 'auth', actor }), { instanceOf: CutoverRefused });
  t.regex(refused.message, /held: databases\/auth\/READ_NEW held .* of the 1\.0 h the plan asks/);
});

test.serial('rollback returns a module to its previous phase; status and log say so', async (t) => {
  const back = await rollback(deps, 'auth', { actor, reason: 'test rollback' });
  t.is(back.from, 'READ_NEW 10%');
  t.is(back.to, 'SHADOW_READ');
  await waitFor('the app writes the legacy tables first again', () => phaseOfApp('auth').phase === 'SHADOW_READ', 5_000);
  const { state } = await status(deps);
  t.is(state.modules.auth.phase, 'SHADOW_READ');
  t.is(state.modules.movie.phase, 'DUAL_WRITE');
  t.is(state.modules.booking.phase, 'DUAL_WRITE');
  const log = (await deps.db('migration.cutover_log').orderBy('id')) as { action: string; step: string; to_phase: string }[];
  t.deepEqual(log.map((e) => `${e.action} ${e.step} → ${e.to_phase}`), [
    'advance databases/auth/DUAL_WRITE → DUAL_WRITE',
    'advance databases/movie/DUAL_WRITE → DUAL_WRITE',
    'advance databases/booking/DUAL_WRITE → DUAL_WRITE',
    'advance databases/auth/BACKFILLED → BACKFILLED',
    'advance databases/auth/SHADOW_READ → SHADOW_READ',
    'advance databases/auth/READ_NEW → READ_NEW 10%',
    'rollback databases/auth/READ_NEW → SHADOW_READ',
  ]);
});
