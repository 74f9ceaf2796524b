/**
 * Backfill speed against the floor: `boxoffice backfill booking` (key-ordered batches through the
 * generated functions: documents built from the legacy rows — snapshots rebuilt from the catalog tables —
 * share-locked, upserted, checkpointed) against ONE hand-written `INSERT … SELECT` of the same rows with the
 * same transformation into the same own tables (same indexes, keys and triggers, emptied before each),
 * side by side in one run, on seeded legacy bookings.
 *
 *   npm run bench -- backfill                      # 1,000,000 bookings (seeding takes ~2-3 minutes)
 *   BENCH_BOOKINGS=100000 npm run bench -- backfill
 */
import { seedLegacy } from '../src/cli/seed/legacy-seed.ts';
import { Databases, createPool } from '../src/platform/db.ts';
import { loadConfig } from '../src/platform/config.ts';
import { backfill } from '../src/migration/backfill/backfill.ts';
import { MODULE_REGISTRY } from '../src/module-registry.ts';
import { createTestDatabase } from '../test/helpers/db.ts';

const BOOKINGS = Number(process.env['BENCH_BOOKINGS'] ?? 1_000_000);
const BATCHES = (process.env['BENCH_BATCH'] ?? '1000,5000').split(',').map(Number);
const JOBS = (process.env['BENCH_JOBS'] ?? '1,2').split(',').map(Number);
const out = (s: string) => process.stdout.write(`${s}\n`);

const RAW = `
INSERT INTO bookings.bookings (id, user_id, user_email, showtime_id, showtime_snapshot, status, total_price, currency, expires_at, cancel_reason, created_at, updated_at)
SELECT b.id, b.user_id, COALESCE(b.user_email, u.email, ''), b.showtime_id,
       COALESCE(b.showtime_snapshot, jsonb_build_object('showtime_id', s.id, 'movie_id', m.id, 'movie_title', m.title, 'theater_id', th.id,
         'theater_name', th.name, 'screen', substring(th.name from '[Ss]creen\\s+\\S+$'), 'city', th.location, 'start_time', s.start_time, 'end_time', s.end_time,
         'base_price', s.price::text, 'currency', 'VND', 'status', CASE WHEN s.cancelled_at IS NULL THEN 'scheduled' ELSE 'cancelled' END)),
       COALESCE(b.status, 'pending'), b.total_price, COALESCE(b.currency, 'VND'), b.expires_at, b.cancel_reason,
       COALESCE(b.created_at, 'epoch'), COALESCE(b.updated_at, b.created_at, 'epoch')
  FROM public.bookings b LEFT JOIN public.users u ON u.id = b.user_id LEFT JOIN public.showtimes s ON s.id = b.showtime_id
  LEFT JOIN public.movies m ON m.id = s.movie_id LEFT JOIN public.theaters th ON th.id = s.theater_id;
INSERT INTO bookings.booking_seats (booking_id, showtime_id, seat_id, seat_snapshot, price, active, created_at)
SELECT bs.booking_id, bs.showtime_id, bs.seat_id,
       COALESCE(bs.seat_snapshot, jsonb_build_object('row', se.row_label, 'number', se.seat_number, 'type', COALESCE(se.seat_type, 'standard'))),
       COALESCE(bs.price, s.price), COALESCE(b.status, 'pending') IN ('pending', 'confirmed'), COALESCE(bs.created_at, 'epoch')
  FROM public.booking_seats bs JOIN public.bookings b ON b.id = bs.booking_id LEFT JOIN public.seats se ON se.id = bs.seat_id
  LEFT JOIN public.showtimes s ON s.id = bs.showtime_id;`;

const db = await createTestDatabase();
const admin = createPool(db.url, { max: 2 });
const config = loadConfig({ DATABASE_URL: db.url, DB_POOL_MAX: '4' });
const databases = new Databases(config);
try {
  out(`seeding ${BOOKINGS} legacy bookings…`);
  const t0 = performance.now();
  await seedLegacy(databases.forRole('legacy', 'public'), {
    schema: 'public', users: Math.max(1000, BOOKINGS / 10), movies: 500, bookings: BOOKINGS, seed: 42, epoch: '2026-01-01', batchSize: 10_000, jobs: 2, truncate: true,
  }, { start() {}, update() {}, stop() {} }, () => undefined);
  const [{ seats }] = (await admin.raw('SELECT count(*)::int AS seats FROM public.booking_seats')).rows as [{ seats: number }];
  out(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${BOOKINGS} bookings with ${seats} seats`);

  await admin.raw('SELECT count(*) FROM public.bookings b JOIN public.booking_seats bs ON bs.booking_id = b.id'); // same cache state for both
  await admin.raw('TRUNCATE bookings.booking_seats, bookings.bookings');
  const r0 = performance.now();
  await admin.raw(RAW);
  const rawSeconds = (performance.now() - r0) / 1000;

  const mapping = MODULE_REGISTRY.booking.mapping(config);
  const results: { batch: number; jobs: number; seconds: number; copied: number }[] = [];
  for (const jobs of JOBS) {
    for (const batch of BATCHES) {
      await admin.raw('TRUNCATE bookings.booking_seats, bookings.bookings');
      const b0 = performance.now();
      const [r] = await backfill({ db: databases.forRole('migration', 'migration'), legacySchema: 'public', mapping, batchSize: batch, jobs, restart: true, force: true });
      results.push({ batch, jobs, seconds: (performance.now() - b0) / 1000, copied: r!.copied });
    }
  }
  out(`raw INSERT … SELECT into the own tables (bookings + seats, snapshots built): ${rawSeconds.toFixed(1)} s = ${Math.round(BOOKINGS / rawSeconds)} bookings/s`);
  for (const r of results) {
    const rate = r.copied / r.seconds;
    out(`boxoffice backfill booking --batch ${String(r.batch).padEnd(5)} --jobs ${r.jobs}: ${r.seconds.toFixed(1)} s = ${Math.round(rate)} bookings/s  →  backfill ÷ raw = ${(rate / (BOOKINGS / rawSeconds)).toFixed(2)}   (target ≥ 0.5)`);
  }
} finally {
  await admin.destroy();
  await databases.closeAll();
  await db.drop();
}
process.exit(0);
