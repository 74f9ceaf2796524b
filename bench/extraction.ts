/**
 * Extraction's cost (issue 10): bookings served by the monolith in process, against the same bookings routed
 * by a monolith to booking's own deployment (`MODULES=booking`, EXTRACTED at 100 %), and — for scale — sent
 * to that deployment directly. Three `node src/main.ts` processes on one database, driven from this process
 * over HTTP (keep-alive), rounds interleaved so drift hits every target alike. Every booking takes one seat
 * nobody else wants (per-seat holds, own stores). Prints bookings/s, p50 and p99, and the ratios.
 *
 *   npm run bench -- extraction
 *   BENCH_CLIENTS=50 BENCH_BOOKINGS=3000 BENCH_ROUNDS=3 npm run bench -- extraction
 *
 * Timings are reported, never asserted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_INTERNAL_API_SECRET, type TestApp } from '../test/helpers/app.ts';
import { createCatalog } from '../test/helpers/catalog.ts';
import { createTestDatabase } from '../test/helpers/db.ts';
import { adminLogin, drive, forgeUsers, freePort, percentile, startService, timedRequest, type Driven, type Service } from './_service.ts';

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 32);
const BOOKINGS = Number(process.env['BENCH_BOOKINGS'] ?? 1500);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const ROWS = 26;
const PER_ROW = 40;

const db = await createTestDatabase();
const keys = await mkdtemp(join(tmpdir(), 'bo-bench-extraction-keys-'));
const services: Service[] = [];
const out = (s: string) => process.stdout.write(`${s}\n`);
try {
  const common = {
    FLAGS_BOOTSTRAP: 'use_per_seat_locks=true,use_rs256_tokens=true,use_local_jwt=true',
    STORE_MOVIE: 'own', STORE_BOOKING: 'own',
    BOOKING_MAX_PENDING_BOOKINGS: '1000', BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: '1000',
    DB_POOL_MAX: '10', INTERNAL_API_SECRET: TEST_INTERNAL_API_SECRET, JWT_KEYS_DIR: keys,
    REDIS_KEY_PREFIX: `bench-x-${randomBytes(3).toString('hex')}:`, RECONCILE_INTERVAL_MS: '0', AUTO_ROLLBACK_CHECK_MS: '0',
  };
  const bookingPort = await freePort();
  const inProcess = await startService(db.url, common);
  services.push(inProcess);
  const routing = await startService(db.url, {
    ...common,
    SERVICE_URL_BOOKING: `http://127.0.0.1:${bookingPort}`,
    FLAGS_BOOTSTRAP: `${common.FLAGS_BOOTSTRAP},route_booking_to_service=true`,
  });
  services.push(routing);
  const booking = await startService(db.url, {
    ...common, MODULES: 'booking', SERVICE_URL_AUTH: routing.url, SERVICE_URL_MOVIE: routing.url, TRUST_PROXY: 'true',
  }, { port: bookingPort });
  services.push(booking);

  const admin = await adminLogin(inProcess);
  const users = await forgeUsers(inProcess, CLIENTS);
  const showtimes: { id: string; seats: string[] }[] = [];
  const seatsFor = async (n: number): Promise<{ showtimeId: string; seatId: string }[]> => {
    const out: { showtimeId: string; seatId: string }[] = [];
    while (out.length < n) {
      const c = await createCatalog({ url: inProcess.url } as TestApp, admin, { rows: ROWS, perRow: PER_ROW });
      showtimes.push({ id: c.showtimeId, seats: c.seatIds });
      for (const s of c.seatIds) out.push({ showtimeId: c.showtimeId, seatId: s });
    }
    return out.slice(0, n);
  };
  const bookAll = async (base: string, n: number, clients = CLIENTS): Promise<Driven> => {
    const seats = await seatsFor(n);
    return drive(clients, n, 201, (agent, c, i) => timedRequest(agent, base, 'POST', '/api/v1/bookings', users[c]!.token, { showtime_id: seats[i]!.showtimeId, seat_ids: [seats[i]!.seatId] }));
  };

  const targets = [
    { label: 'monolith, booking in process    ', url: inProcess.url },
    { label: 'monolith → booking deployment   ', url: routing.url },
    { label: 'booking deployment, direct      ', url: booking.url },
  ];
  // warm-up: JIT, pools, JWKS caches, keep-alive connections on every hop
  for (const t of targets) await bookAll(t.url, 300);
  const results = targets.map(() => ({ ok: 0, failed: 0, seconds: 0, latencies: [] as number[], failures: {} as Record<number, number> }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) {
      const r = await bookAll(t.url, BOOKINGS);
      const acc = results[i]!;
      acc.ok += r.ok;
      acc.failed += r.failed;
      acc.seconds += r.seconds;
      acc.latencies.push(...r.latencies);
      for (const [s, n] of Object.entries(r.failures)) acc.failures[Number(s)] = (acc.failures[Number(s)] ?? 0) + n;
    }
  }

  // the hop's own latency, with nothing queued: one client, one booking at a time
  const alone = targets.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) alone[i]!.push(...(await bookAll(t.url, 200, 1)).latencies);
  }

  out(`${ROUNDS} rounds × ${BOOKINGS} bookings per target, ${CLIENTS} concurrent clients, one seat each (Node ${process.version})`);
  out('target                             bookings/s  p50 ms  p99 ms  failed');
  const rate = (i: number) => results[i]!.ok / results[i]!.seconds;
  const p = (i: number, q: number) => percentile(results[i]!.latencies, q);
  for (const [i, t] of targets.entries()) {
    const r = results[i]!;
    out(`${t.label}  ${rate(i).toFixed(1).padStart(10)}  ${p(i, 50).toFixed(1).padStart(6)}  ${p(i, 99).toFixed(1).padStart(6)}  ${String(r.failed).padStart(6)}${r.failed ? ` ${JSON.stringify(r.failures)}` : ''}`);
  }
  out(`routed ÷ in process: throughput ${(rate(1) / rate(0)).toFixed(2)} (target ≥ 0.7), p50 ${(p(1, 50) - p(0, 50) >= 0 ? '+' : '')}${(p(1, 50) - p(0, 50)).toFixed(1)} ms (target ≤ +2 ms), p99 ${(p(1, 99) / p(0, 99)).toFixed(2)}×`);
  out('one client, one booking at a time (the hop itself, nothing queued):');
  for (const [i, t] of targets.entries()) out(`${t.label}  p50 ${percentile(alone[i]!, 50).toFixed(2).padStart(6)} ms  p99 ${percentile(alone[i]!, 99).toFixed(2).padStart(6)} ms`);
  const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(2)} ms`;
  out(`routed − in process, one client: p50 ${signed(percentile(alone[1]!, 50) - percentile(alone[0]!, 50))} (target ≤ +2 ms); routed − direct: p50 ${signed(percentile(alone[1]!, 50) - percentile(alone[2]!, 50))}`);
  out(`routed ÷ direct:     throughput ${(rate(1) / rate(2)).toFixed(2)}, p50 ${(p(1, 50) - p(2, 50) >= 0 ? '+' : '')}${(p(1, 50) - p(2, 50)).toFixed(1)} ms (the hop itself)`);
} finally {
  for (const s of services.reverse()) await s.stop().catch(() => undefined);
  await rm(keys, { recursive: true, force: true });
  await db.drop();
}
process.exit(0);
