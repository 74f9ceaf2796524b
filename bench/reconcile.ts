/**
 * Reconciliation speed against the floor: a full `boxoffice reconcile auth` (checksums of key ranges on
 * both sides, bisection of the ranges that differ, findings explained field by field) on a seeded pair of
 * 1M users with 100 planted differences, next to `SELECT count(*)` of both tables in the same run; then an
 * incremental run after 1 % of the rows changed on both sides.
 *
 *   npm run bench -- reconcile                 # 1,000,000 users (seeding and backfill take ~2 minutes)
 *   BENCH_USERS=200000 npm run bench -- reconcile
 */
import { seedLegacy } from '../src/cli/seed/legacy-seed.ts';
import { backfill } from '../src/migration/backfill/backfill.ts';
import { reconcile, type AggregateReport } from '../src/migration/reconciliation/reconcile.ts';
import { loadConfig } from '../src/platform/config.ts';
import { Databases, createPool } from '../src/platform/db.ts';
import { MODULE_REGISTRY } from '../src/module-registry.ts';
import { createTestDatabase } from '../test/helpers/db.ts';

const USERS = Number(process.env['BENCH_USERS'] ?? 1_000_000);
const out = (s: string) => process.stdout.write(`${s}\n`);
const seconds = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

const db = await createTestDatabase();
const admin = createPool(db.url, { max: 2 });
const config = loadConfig({ DATABASE_URL: db.url, DB_POOL_MAX: '4' });
const databases = new Databases(config);
const mapping = MODULE_REGISTRY.auth.mapping(config);
const run = (mode: 'full' | 'incremental') =>
  reconcile({ databases, legacySchema: 'public', mappings: [mapping], modules: ['auth'], mode, repair: 'none', phaseOf: async () => 'DUAL_WRITE' }).then((r) => r[0] as AggregateReport);
const counts = async () => ({
  legacy: await seconds(() => admin.raw('SELECT count(*) FROM public.users')),
  own: await seconds(() => admin.raw('SELECT count(*) FROM auth.users')),
});
const kinds = (r: AggregateReport) => Object.entries(r.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

try {
  out(`seeding ${USERS} legacy users and copying them to auth.users…`);
  const t0 = performance.now();
  await seedLegacy(databases.forRole('legacy', 'public'), {
    schema: 'public', users: USERS, movies: 1, bookings: 0, seed: 7, epoch: '2026-01-01', batchSize: 10_000, jobs: 2, truncate: true,
  }, { start() {}, update() {}, stop() {} }, () => undefined);
  await backfill({ db: databases.forRole('migration', 'migration'), legacySchema: 'public', mapping, batchSize: 5000, jobs: 2, force: true });
  await admin.raw('VACUUM ANALYZE public.users');
  await admin.raw('VACUUM ANALYZE auth.users');
  out(`ready in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  // 100 differences: 40 fields changed on legacy, 20 on own, 20 rows missing in own, 20 missing in legacy
  const ids = ((await admin.raw(`SELECT id FROM public.users ORDER BY md5(id::text) LIMIT 100`)).rows as { id: string }[]).map((r) => r.id);
  const list = (from: number, to: number) => ids.slice(from, to);
  await admin.raw(`UPDATE public.users SET full_name = full_name || ' (legacy)' WHERE id = ANY(?)`, [list(0, 40)]);
  await admin.raw(`UPDATE auth.users SET email = 'own-' || email WHERE id = ANY(?)`, [list(40, 60)]);
  await admin.raw(`DELETE FROM auth.users WHERE id = ANY(?)`, [list(60, 80)]);
  await admin.raw(`DELETE FROM public.users WHERE id = ANY(?)`, [list(80, 100)]);

  await counts(); // the same cache state for both
  const before = await counts();
  let full: AggregateReport | undefined;
  const fullSeconds = await seconds(async () => (full = await run('full')));
  const after = await counts();
  const countSeconds = (before.legacy + before.own + after.legacy + after.own) / 2;

  // 1 % of the rows change on both sides alike (an application write, not drift), then an incremental run
  const changed = Math.round(USERS / 100);
  const changeSeconds = await seconds(async () => {
    await admin.raw(`UPDATE public.users SET full_name = full_name || '.', updated_at = now() WHERE id IN (SELECT id FROM public.users ORDER BY md5(id::text) DESC LIMIT ?)`, [changed]);
    await admin.raw(`UPDATE auth.users o SET full_name = l.full_name, updated_at = l.updated_at FROM public.users l WHERE l.id = o.id AND l.updated_at > now() - interval '1 hour' AND o.full_name <> l.full_name`);
  });
  let incremental: AggregateReport | undefined;
  const incSeconds = await seconds(async () => (incremental = await run('incremental')));
  let fullAgain: AggregateReport | undefined;
  const fullAgainSeconds = await seconds(async () => (fullAgain = await run('full')));

  out('');
  out(`rows: ${USERS} legacy users, ${USERS} own (100 planted differences)`);
  out(`select count(*) of both tables:   ${countSeconds.toFixed(2)} s`);
  out(`full run:                          ${fullSeconds.toFixed(2)} s = ${Math.round(full!.rowsCompared / fullSeconds).toLocaleString('en')} rows/s, found ${full!.findings.length} (${kinds(full!)})`);
  out(`  full ÷ count(*) both =           ${(fullSeconds / countSeconds).toFixed(1)}×   (target ≤ 10×)`);
  out(`1 % changed (${changed} rows, both sides) in ${changeSeconds.toFixed(1)} s`);
  out(`incremental run:                   ${incSeconds.toFixed(2)} s, compared ${incremental!.rowsCompared} changed rows, found ${incremental!.findings.length}  → ${(fullSeconds / incSeconds).toFixed(1)}× faster than full`);
  out(`full run again:                    ${fullAgainSeconds.toFixed(2)} s, found ${fullAgain!.findings.length} (${kinds(fullAgain!)})`);
  if (full!.findings.length !== 100) out(`!! expected 100 findings, got ${full!.findings.length}`);
} finally {
  await admin.destroy();
  await databases.closeAll();
  await db.drop();
}
process.exit(0);
