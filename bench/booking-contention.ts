/**
 * Booking under contention: one hot showtime, N concurrent clients booking disjoint seats (so every request
 * could succeed), the old whole-showtime lock against per-seat holds, on each booking store, side by side in
 * one run. A client whose request is turned away by the showtime lock ("showtime-busy", the old system's
 * answer) tries again, as the old clients had to. Prints successful bookings/s, the ratios, and p50/p99 of the
 * time from a booking's first attempt to its 201.
 *
 *   npm run bench -- booking-contention
 *   BENCH_CLIENTS=50 BENCH_SEATS=600 BENCH_SEATS_PER_BOOKING=2 npm run bench -- booking-contention
 *
 * The service runs as `npm start` runs it, in a process of its own (bench/_service.ts), so the clients never
 * share its event loop. It makes and drops its own database (migrated template, as the tests do) and uses
 * its own Redis key prefix. Timings are reported, never asserted.
 */
import { Agent, request } from 'node:http';
import { createTestDatabase } from '../test/helpers/db.ts';
import { adminLogin, createCatalog, forgeUsers, startService, type Service } from './_service.ts';

type TestUser = { token: string };

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 50);
const SEATS = Number(process.env['BENCH_SEATS'] ?? 600);
const PER_BOOKING = Number(process.env['BENCH_SEATS_PER_BOOKING'] ?? 2);
const LIMIT_MS = Number(process.env['BENCH_LIMIT_MS'] ?? 30_000);
const PER_ROW = 25;

interface Run {
  label: string;
  bookings: number;
  attempts: number;
  busy: number;
  other: number;
  seconds: number;
  latencies: number[];
}

function post(agent: Agent, base: string, token: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(new URL('/api/v1/bookings', base), {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** every client books its own seats, PER_BOOKING at a time, retrying a booking turned away as busy */
async function drive(app: Service, users: TestUser[], showtimeId: string, seatIds: string[], label: string): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });
  const run: Run = { label, bookings: 0, attempts: 0, busy: 0, other: 0, seconds: 0, latencies: [] };
  const deadline = Date.now() + LIMIT_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const mine = seatIds.filter((_, i) => i % CLIENTS === c);
      for (let i = 0; i + PER_BOOKING <= mine.length && Date.now() < deadline; i += PER_BOOKING) {
        const started = performance.now();
        for (;;) {
          run.attempts++;
          const status = await post(agent, app.url, users[c % users.length]!.token, { showtime_id: showtimeId, seat_ids: mine.slice(i, i + PER_BOOKING) });
          if (status === 201) {
            run.bookings++;
            run.latencies.push(performance.now() - started);
            break;
          }
          if (status === 409) run.busy++;
          else run.other++;
          if (status !== 409 || Date.now() >= deadline) break;
          await new Promise((r) => setTimeout(r, Math.random() * 2));
        }
      }
    }),
  );
  run.seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return run;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

const db = await createTestDatabase();
const runs: Run[] = [];
try {
  for (const store of ['legacy', 'own'] as const) {
    for (const perSeat of [false, true]) {
      const label = `${store.padEnd(6)} store, ${perSeat ? 'per-seat holds ' : 'showtime lock  '}`;
      const app = await startService(db.url, {
        STORE_MOVIE: store, STORE_BOOKING: store, FLAGS_BOOTSTRAP: `use_per_seat_locks=${perSeat}`, DB_POOL_MAX: '10', BOOKING_MAX_SEATS: '10',
        BOOKING_MAX_PENDING_BOOKINGS: '1000', BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: '1000',
      });
      try {
        const admin = await adminLogin(app);
        const users = await forgeUsers(app, CLIENTS);
        const warm = await createCatalog(app, admin, { rows: 2, perRow: PER_ROW });
        await drive(app, users, warm.showtimeIds[0]!, warm.seatIds, 'warm-up');
        const hot = await createCatalog(app, admin, { rows: Math.ceil(SEATS / PER_ROW), perRow: PER_ROW });
        runs.push(await drive(app, users, hot.showtimeIds[0]!, hot.seatIds.slice(0, SEATS), label));
      } finally {
        await app.stop();
      }
    }
  }
} finally {
  await db.drop();
}

const out = (s: string) => process.stdout.write(`${s}\n`);
out(`one showtime of ${SEATS} seats, ${CLIENTS} concurrent clients from another process, disjoint seats, ${PER_BOOKING} seats per booking (Node ${process.version})`);
out('configuration                  bookings  seconds  bookings/s  attempts  busy-409  p50 ms  p99 ms');
for (const r of runs) {
  out(`${r.label}  ${String(r.bookings).padStart(8)}  ${r.seconds.toFixed(2).padStart(7)}  ${(r.bookings / r.seconds).toFixed(1).padStart(10)}  ${String(r.attempts).padStart(8)}  ${String(r.busy).padStart(8)}  ${pct(r.latencies, 50).toFixed(1).padStart(6)}  ${pct(r.latencies, 99).toFixed(1).padStart(6)}${r.other ? `  (${r.other} other errors)` : ''}`);
}
const rate = (i: number) => runs[i]!.bookings / runs[i]!.seconds;
out(`per-seat / showtime-lock, legacy store: ${(rate(1) / rate(0)).toFixed(2)}x`);
out(`per-seat / showtime-lock, own store:    ${(rate(3) / rate(2)).toFixed(2)}x`);
out(`new (own store, per-seat) / old (legacy store, showtime lock): ${(rate(3) / rate(0)).toFixed(2)}x   (seed 002 claims 10x)`);
process.exit(0);
