/**
 * What tracing costs a request: a mix of GET /api/v1/showtimes/:id and POST /api/v1/bookings (4 : 1)
 * against the service in a child process, in three builds side by side, alternating rounds:
 *   untraced     no OTEL_* at all (the SDK is never loaded; the default)
 *   flag off     an OTLP endpoint configured, enable_tracing off (what production runs until it is turned on)
 *   flag on      the same with enable_tracing on, spans exported to a local OTLP sink in this process
 * Prints throughput, p50/p99 and the service's CPU time per request of each, and the ratios to the
 * untraced build (on a shared machine the CPU column is the steadier one). Never asserts timings.
 *
 *   npm run bench -- tracing
 *   BENCH_CLIENTS=20 BENCH_REQUESTS=3000 npm run bench -- tracing
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createTestDatabase } from '../test/helpers/db.ts';
import { adminLogin, drive, forgeUsers, percentile, startService, timedRequest, type Driven, type Service } from './_service.ts';

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 20);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 3000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const WARMUP = 500;
const BUILDS = ['untraced', 'flag off', 'flag on'] as const;
type Build = (typeof BUILDS)[number];

interface Result extends Driven {
  build: Build;
  /** the service's CPU time per request (process_cpu_seconds_total): steadier than wall time on a busy machine */
  cpuMs: number;
}

async function cpuSeconds(service: Service): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_cpu_seconds_total '));
  if (!line) throw new Error('no process_cpu_seconds_total in /metrics');
  return Number(line.split(' ')[1]);
}

/** an OTLP/HTTP endpoint that accepts and counts what it is sent */
let exported = 0;
const sink = createServer((req, res) => {
  req.on('data', (d: Buffer) => (exported += d.length));
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;

async function post(service: Service, token: string, path: string, body: unknown): Promise<{ id: string; seats?: { id: string }[] }> {
  const res = await fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; seats?: { id: string }[] };
}

/** a showtime with a seat for every booking the run makes */
async function showtime(service: Service, seats: number): Promise<{ id: string; seatIds: string[] }> {
  const admin = await adminLogin(service);
  const perRow = 100;
  const rows = Array.from({ length: Math.ceil(seats / perRow) }, (_, i) => ({ row: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[i]!, seats: perRow, type: 'standard' }));
  const movie = await post(service, admin, '/api/v1/movies', { title: `Bench ${randomBytes(3).toString('hex')}`, duration_minutes: 100, genre: 'Drama' });
  const theater = await post(service, admin, '/api/v1/theaters', { name: `Bench ${randomBytes(3).toString('hex')}`, city: 'Hanoi', layout: { rows } });
  const start = new Date(Date.now() + 48 * 3600_000 + Math.floor(Math.random() * 1e6) * 60_000).toISOString();
  const st = await post(service, admin, '/api/v1/showtimes', { movie_id: movie.id, theater_id: theater.id, start_time: start, base_price: '90000' });
  return { id: st.id, seatIds: theater.seats!.map((s) => s.id) };
}

const ENV: Record<Build, Record<string, string>> = {
  untraced: {},
  'flag off': { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl },
  'flag on': { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl },
};

async function measure(dbUrl: string, build: Build): Promise<Result> {
  const service = await startService(dbUrl, {
    ...ENV[build],
    FLAGS_BOOTSTRAP: `use_local_jwt=true,use_per_seat_locks=true,enable_tracing=${build === 'flag on'}`,
    DB_POOL_MAX: '10',
    BOOKING_MAX_PENDING_BOOKINGS: '1000',
    BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: '1000',
  });
  try {
    const users = await forgeUsers(service, CLIENTS);
    const st = await showtime(service, Math.ceil((WARMUP + REQUESTS) / 5) + CLIENTS);
    let seat = 0;
    // every fifth request books one seat of its own (201); the others read the showtime (200)
    const run = async (n: number) => drive(CLIENTS, n, 0, async (agent, c, i) => {
      const r = i % 5 === 4
        ? await timedRequest(agent, service.url, 'POST', '/api/v1/bookings', users[c]!.token, { showtime_id: st.id, seat_ids: [st.seatIds[seat++]!] })
        : await timedRequest(agent, service.url, 'GET', `/api/v1/showtimes/${st.id}`);
      return { ...r, status: r.status === 200 || r.status === 201 ? 0 : r.status };
    });
    await run(WARMUP);
    const cpu0 = await cpuSeconds(service);
    const driven = await run(REQUESTS);
    const cpuMs = ((await cpuSeconds(service)) - cpu0) * 1000 / REQUESTS;
    return { build, cpuMs, ...driven };
  } finally {
    await service.stop();
  }
}

const db = await createTestDatabase();
const results: Result[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) for (const build of BUILDS) results.push(await measure(db.url, build));
} finally {
  await db.drop();
  sink.close();
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const of = (build: Build) => results.filter((r) => r.build === build);
const rps = (b: Build) => mean(of(b).map((r) => r.ok / r.seconds));
const cpu = (b: Build) => mean(of(b).map((r) => r.cpuMs));
const p = (b: Build, q: number) => mean(of(b).map((r) => percentile(r.latencies, q)));
out(`${REQUESTS} requests (GET showtime : POST booking = 4 : 1) by ${CLIENTS} clients from another process, ${ROUNDS} rounds (Node ${process.version})`);
out('build        req/s    p50 ms   p99 ms   failed   req/s ÷ untraced   p50 ÷   p99 ÷   CPU ms/req   CPU ÷ untraced');
for (const b of BUILDS) {
  const failed = of(b).reduce((n, r) => n + r.failed, 0);
  const statuses = of(b).reduce<Record<string, number>>((acc, r) => { for (const [s, n] of Object.entries(r.failures)) acc[s] = (acc[s] ?? 0) + n; return acc; }, {});
  if (failed) out(`  ${b} failures by status: ${JSON.stringify(statuses)}`);
  out(`${b.padEnd(10)} ${rps(b).toFixed(0).padStart(7)}  ${p(b, 50).toFixed(2).padStart(7)}  ${p(b, 99).toFixed(2).padStart(7)}  ${String(failed).padStart(7)}   ${(rps(b) / rps('untraced')).toFixed(2).padStart(16)}  ${(p(b, 50) / p('untraced', 50)).toFixed(2).padStart(6)}  ${(p(b, 99) / p('untraced', 99)).toFixed(2).padStart(6)}  ${cpu(b).toFixed(3).padStart(11)}  ${(cpu(b) / cpu('untraced')).toFixed(2).padStart(15)}`);
}
out(`flag on ÷ flag off: CPU ${(cpu('flag on') / cpu('flag off')).toFixed(2)}, throughput ${(rps('flag on') / rps('flag off')).toFixed(2)}, p50 ${(p('flag on', 50) / p('flag off', 50)).toFixed(2)}, p99 ${(p('flag on', 99) / p('flag off', 99)).toFixed(2)}; ${(exported / 1024).toFixed(0)} KiB of OTLP exported`);
process.exit(0);
