/**
 * What dual-write costs a booking: the service (a child process) with booking in LEGACY against the same
 * with booking in DUAL_WRITE (every booking also written to the booking schema by the database, in the
 * same transaction), side by side in one run, in two alternating rounds. N clients in this process book
 * disjoint seats of one showtime (per-seat holds on, so no request waits for another).
 *
 *   npm run bench -- dual-write
 *   BENCH_CLIENTS=50 BENCH_BOOKINGS=2000 npm run bench -- dual-write
 */
import { createCatalog } from '../test/helpers/catalog.ts';
import type { TestApp } from '../test/helpers/app.ts';
import { createTestDatabase } from '../test/helpers/db.ts';
import { adminLogin, drive, forgeUsers, percentile, startService, timedRequest, type Driven } from './_service.ts';

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 40);
const BOOKINGS = Number(process.env['BENCH_BOOKINGS'] ?? 1500);
const PER_ROW = 60;

interface Result extends Driven { label: string }

async function measure(dbUrl: string, label: string, flags: string): Promise<Result> {
  const service = await startService(dbUrl, { FLAGS_BOOTSTRAP: `use_per_seat_locks=true${flags ? `,${flags}` : ''}`, DB_POOL_MAX: '10', MOVIE_CACHE_TTL_SECONDS: '30',
    // every client holds many unpaid single-seat bookings: lift the seat-hoarding caps
    BOOKING_MAX_PENDING_BOOKINGS: '1000', BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: '1000' });
  try {
    const admin = await adminLogin(service);
    const users = await forgeUsers(service, CLIENTS);
    const app = { url: service.url } as unknown as TestApp;
    const run = async (count: number): Promise<Result> => {
      const catalog = await createCatalog(app, admin, { rows: Math.ceil(count / PER_ROW), perRow: PER_ROW });
      const driven = await drive(CLIENTS, count, 201, (agent, c, i) =>
        timedRequest(agent, service.url, 'POST', '/api/v1/bookings', users[c]!.token, { showtime_id: catalog.showtimeId, seat_ids: [catalog.seatIds[i]] }));
      return { label, ...driven };
    };
    await run(Math.min(300, BOOKINGS)); // warm-up: JIT, pools, caches
    return await run(BOOKINGS);
  } finally {
    await service.stop();
  }
}

const db = await createTestDatabase();
const results: Result[] = [];
try {
  for (let round = 1; round <= 2; round++) {
    results.push(await measure(db.url, `LEGACY     (round ${round})`, ''));
    results.push(await measure(db.url, `DUAL_WRITE (round ${round})`, 'dual_write_booking_db=true'));
  }
} finally {
  await db.drop();
}
const out = (s: string) => process.stdout.write(`${s}\n`);
out(`${BOOKINGS} bookings of one seat each by ${CLIENTS} clients from another process (Node ${process.version})`);
out('booking phase            bookings/s   p50 ms   p99 ms   failed');
for (const r of results) {
  out(`${r.label}   ${(r.ok / r.seconds).toFixed(1).padStart(10)}  ${percentile(r.latencies, 50).toFixed(1).padStart(7)}  ${percentile(r.latencies, 99).toFixed(1).padStart(7)}  ${String(r.failed).padStart(7)}${r.failed ? ` ${JSON.stringify(r.failures)}` : ''}`);
}
const sum = (label: string, f: (r: Result) => number) => results.filter((r) => r.label.startsWith(label)).map(f);
const tput = (label: string) => sum(label, (r) => r.ok / r.seconds).reduce((a, b) => a + b) / 2;
const p = (label: string, q: number) => sum(label, (r) => percentile(r.latencies, q)).reduce((a, b) => a + b) / 2;
out(`throughput DUAL_WRITE ÷ LEGACY: ${(tput('DUAL_WRITE') / tput('LEGACY')).toFixed(2)}   (target ≥ 0.8)`);
out(`p50 DUAL_WRITE ÷ LEGACY: ${(p('DUAL_WRITE', 50) / p('LEGACY', 50)).toFixed(2)}   p99: ${(p('DUAL_WRITE', 99) / p('LEGACY', 99)).toFixed(2)}`);
process.exit(0);
