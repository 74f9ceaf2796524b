/**
 * The Postgres-only profile against the full stack (issue 12, ADR 0077, 0078), side by side from one run:
 *  1. booking throughput: `node src/main.ts` on BACKEND=full (Redis, RabbitMQ) and on BACKEND=postgres,
 *     the saga's flags on, own stores, 50 clients from this process (autocannon), each booking one seat
 *     nobody else wants; rounds interleaved (full, postgres, full, postgres) so drift on a shared machine
 *     hits both;
 *  2. saga latency: bench/saga-latency.ts once per profile (booking 201 → payment's snapshot; payment
 *     201 → booking confirmed), p50/p99 and postgres ÷ full.
 *
 *   npm run bench -- profiles
 *   BENCH_SAGAS=200 BENCH_SECONDS=10 npm run bench -- profiles
 *
 * Timings are reported, never asserted. Over Postgres "marked published" is the relay's commit after the
 * consumers' rows were inserted, so the split between relay and consumer is not comparable across
 * profiles; the end-to-end hops are.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../test/helpers/db.ts';
import { createTestVhost } from '../test/helpers/events.ts';
import { bookings, CONNECTIONS, load, PER_ROW, SEATS, SECONDS, SHOWTIMES, type Line } from './_load.ts';
import { adminLogin, createCatalog, forgeUsers, sagaEnv, startService } from './_service.ts';

const PROFILES = ['full', 'postgres'] as const;
type Profile = (typeof PROFILES)[number];
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);

/** one round of bookings on a fresh service of this profile (its own database) */
async function throughput(profile: Profile): Promise<Line> {
  const db = await createTestDatabase();
  const vhost = profile === 'full' ? await createTestVhost() : undefined;
  try {
    const service = await startService(db.url, sagaEnv(vhost?.url));
    try {
      const admin = await adminLogin(service);
      const users = await forgeUsers(service, CONNECTIONS);
      const warm = await createCatalog(service, admin, { rows: 5, perRow: PER_ROW, showtimes: 2 });
      await load('warm-up', service, 3, bookings(users, warm), 201);
      const hall = await createCatalog(service, admin, { rows: Math.ceil(SEATS / PER_ROW), perRow: PER_ROW, showtimes: SHOWTIMES });
      return await load(profile, service, SECONDS, bookings(users, hall), 201);
    } finally {
      await service.stop();
    }
  } finally {
    await vhost?.drop();
    await db.drop();
  }
}

const ROW = /^(.+?)\s+(\d+\.\d)\s+(\d+\.\d)$/;

/** saga-latency's rows in order (labels repeat across hops, so rows are matched by position) */
function sagaLatency(profile: Profile): [string, number, number][] {
  const latency = fileURLToPath(new URL('./saga-latency.ts', import.meta.url));
  const r = spawnSync(process.execPath, [latency], { env: { ...process.env, BENCH_BACKEND: profile }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`saga-latency (${profile}) failed: ${r.stderr}`);
  return r.stdout.split('\n').flatMap((line) => {
    const m = ROW.exec(line);
    return m ? [[m[1]!, Number(m[2]), Number(m[3])] as [string, number, number]] : [];
  });
}

const rounds: Record<Profile, Line[]> = { full: [], postgres: [] };
for (let i = 0; i < ROUNDS; i++) for (const p of PROFILES) rounds[p].push(await throughput(p));
const full = sagaLatency('full');
const postgres = sagaLatency('postgres');

const out = (s: string) => process.stdout.write(`${s}\n`);
const sum = (ls: Line[], f: (l: Line) => number) => ls.reduce((n, l) => n + f(l), 0);
/** the rounds pooled: requests over time; latency percentiles averaged over rounds */
const pooled = (p: Profile) => {
  const ls = rounds[p];
  const seconds = sum(ls, (l) => l.ok / l.rate);
  return { ok: sum(ls, (l) => l.ok), rate: sum(ls, (l) => l.ok) / seconds, p50: sum(ls, (l) => l.p50) / ls.length, p99: sum(ls, (l) => l.p99) / ls.length, cpu: sum(ls, (l) => l.cpu * l.ok) / sum(ls, (l) => l.ok), other: sum(ls, (l) => l.other) };
};
out(`bookings: ${CONNECTIONS} connections from another process (autocannon), ${ROUNDS} × ${SECONDS} s per profile (interleaved), ${SHOWTIMES} showtimes × ${SEATS} seats, one seat each, the saga's flags on, own stores (Node ${process.version})`);
out('profile      bookings   per s   p50 ms   p99 ms   app CPU ms/booking');
const [f, p] = [pooled('full'), pooled('postgres')];
for (const [label, l] of [['full', f], ['postgres', p]] as const) {
  out(`${label.padEnd(10)} ${String(l.ok).padStart(10)} ${l.rate.toFixed(0).padStart(7)} ${l.p50.toFixed(1).padStart(8)} ${l.p99.toFixed(1).padStart(8)} ${l.cpu.toFixed(3).padStart(20)}${l.other ? `   (${l.other} other statuses)` : ''}`);
}
out(`bookings/s postgres ÷ full: ${(p.rate / f.rate).toFixed(2)}   p99 postgres ÷ full: ${(p.p99 / f.p99).toFixed(2)}`);
out('');
out(`saga latency: ${process.env['BENCH_SAGAS'] ?? 100} sagas per profile, one client, idle service`);
const n = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1)).padStart(8);
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? (b / a).toFixed(2) : '—').padStart(7);
out(`${'hop'.padEnd(58)} ${'full p50'.padStart(8)} ${'full p99'.padStart(8)} ${'pg p50'.padStart(8)} ${'pg p99'.padStart(8)} ${'p50 ÷'.padStart(7)} ${'p99 ÷'.padStart(7)}`);
for (const [i, [label, a50, a99]] of full.entries()) {
  const [, p50, p99] = postgres[i] ?? [];
  out(`${label.padEnd(58)} ${n(a50)} ${n(a99)} ${n(p50)} ${n(p99)} ${ratio(a50, p50)} ${ratio(a99, p99)}`);
}
process.exit(0);
