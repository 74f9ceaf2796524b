/**
 * The service under HTTP load, as a client sees it: `node src/main.ts` in a process of its own (as
 * `npm start` runs it, one web process), driven from this process by autocannon. Side by side in one run:
 * GET /health, GET /api/v1/auth/me (a token check and one read), and POST /api/v1/bookings on the own
 * stores (booking at NEW_ONLY) and on the legacy stores (no flags), `use_per_seat_locks` on, each
 * booking one seat nobody else wants (disjoint seats, round-robin over the showtimes). Prints req/s,
 * p50 and p99, each rate's ratio to /health, and legacy ÷ own; and the service's CPU time per request, which
 * holds still when other processes share the machine (the rates do not).
 *
 *   npm run bench -- http-load
 *   BENCH_CONNECTIONS=50 BENCH_SECONDS=8 BENCH_SHOWTIMES=4 BENCH_SEATS=2000 npm run bench -- http-load
 *
 * Timings are reported, never asserted.
 */
import { createTestDatabase } from '../test/helpers/db.ts';
import { asUsers, bookings, CONNECTIONS, get, load, PER_ROW, SEATS, SECONDS, SHOWTIMES, type Line } from './_load.ts';
import { adminLogin, createCatalog, forgeUsers, startService, type Service } from './_service.ts';

const STORES = [
  { label: 'POST /bookings, own stores', flags: 'stop_legacy_writes_booking=true' },
  { label: 'POST /bookings, legacy stores', flags: '' },
];

const db = await createTestDatabase();
const lines: Line[] = [];
try {
  for (const store of STORES) {
    const service: Service = await startService(db.url, {
      FLAGS_BOOTSTRAP: ['use_local_jwt=true', 'use_per_seat_locks=true', store.flags].filter(Boolean).join(','),
      BOOKING_MAX_PENDING_BOOKINGS: '1000', BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: '1000',
    });
    try {
      const admin = await adminLogin(service);
      const users = await forgeUsers(service, CONNECTIONS);
      if (lines.length === 0) {
        await load('warm-up', service, 2, get('/health'), 200);
        lines.push(await load('GET /health', service, SECONDS, get('/health'), 200));
        await load('warm-up', service, 2, asUsers('/api/v1/auth/me', users), 200);
        lines.push(await load('GET /api/v1/auth/me', service, SECONDS, asUsers('/api/v1/auth/me', users), 200));
      }
      const warm = await createCatalog(service, admin, { rows: 5, perRow: PER_ROW, showtimes: 2 });
      await load('warm-up', service, 3, bookings(users, warm), 201);
      const hot = await createCatalog(service, admin, { rows: Math.ceil(SEATS / PER_ROW), perRow: PER_ROW, showtimes: SHOWTIMES });
      lines.push(await load(store.label, service, SECONDS, bookings(users, hot), 201));
    } finally {
      await service.stop();
    }
  }
} finally {
  await db.drop();
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const health = lines[0]!.rate;
out(`${CONNECTIONS} connections from another process (autocannon), ${SECONDS} s each; bookings: ${SHOWTIMES} showtimes × ${SEATS} seats, one seat each, disjoint, use_per_seat_locks on (Node ${process.version})`);
out('request                           ok      req/s   p50 ms   p99 ms   ÷ /health   app CPU ms/req');
for (const l of lines) {
  out(`${l.label.padEnd(30)} ${String(l.ok).padStart(6)} ${l.rate.toFixed(0).padStart(9)} ${l.p50.toFixed(1).padStart(8)} ${l.p99.toFixed(1).padStart(8)} ${(l.rate / health).toFixed(3).padStart(10)} ${l.cpu.toFixed(3).padStart(16)}${l.other ? `   (${l.other} other statuses)` : ''}`);
}
out(`app CPU per request ÷ /health's: /auth/me ${(lines[1]!.cpu / lines[0]!.cpu).toFixed(1)}×, own booking ${(lines[2]!.cpu / lines[0]!.cpu).toFixed(1)}×, legacy booking ${(lines[3]!.cpu / lines[0]!.cpu).toFixed(1)}× (CPU-bound, the rate ratios tend to their inverses)`);
const own = lines.find((l) => l.label === STORES[0]!.label)!;
const legacy = lines.find((l) => l.label === STORES[1]!.label)!;
out(`bookings legacy ÷ own: ${(legacy.rate / own.rate).toFixed(2)}   (targets: legacy ≥ 0.7 × own; own bookings ÷ /health ≥ 0.15; /auth/me ÷ /health ≥ 0.5)`);
process.exit(0);
