/**
 * Saga latency by event transport (ADR 0077), side by side from one run: bench/saga-latency.ts once over
 * RabbitMQ (EVENTS_TRANSPORT=amqp) and once through Postgres (EVENTS_TRANSPORT=postgres), one after the
 * other on the same machine, then its rows next to each other with the ratio postgres ÷ amqp.
 *
 *   npm run bench -- profiles
 *   BENCH_SAGAS=200 npm run bench -- profiles
 *
 * Timings are reported, never asserted. Booking throughput per profile is not measured yet. Over Postgres
 * "marked published" is the relay's commit after the consumers' rows were inserted, so the split between
 * relay and consumer is not comparable across transports; the end-to-end hops are.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const latency = fileURLToPath(new URL('./saga-latency.ts', import.meta.url));
const ROW = /^(.+?)\s+(\d+\.\d)\s+(\d+\.\d)$/;

/** saga-latency's rows in order (labels repeat across hops, so rows are matched by position) */
function run(transport: 'amqp' | 'postgres'): [string, number, number][] {
  // EVENTS_RELAY_POLL_MS etc. pass through to the service (saga-latency forwards EVENTS_*)
  const r = spawnSync(process.execPath, [latency], { env: { ...process.env, EVENTS_TRANSPORT: transport }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`saga-latency (${transport}) failed: ${r.stderr}`);
  return r.stdout.split('\n').flatMap((line) => {
    const m = ROW.exec(line);
    return m ? [[m[1]!, Number(m[2]), Number(m[3])] as [string, number, number]] : [];
  });
}

const amqp = run('amqp');
const postgres = run('postgres');
const out = (s: string) => process.stdout.write(`${s}\n`);
const n = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1)).padStart(8);
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? (b / a).toFixed(2) : '—').padStart(7);
out(`${process.env['BENCH_SAGAS'] ?? 100} sagas per transport, one client, idle service (Node ${process.version})`);
out(`${'hop'.padEnd(58)} ${'amqp p50'.padStart(8)} ${'amqp p99'.padStart(8)} ${'pg p50'.padStart(8)} ${'pg p99'.padStart(8)} ${'p50 ÷'.padStart(7)} ${'p99 ÷'.padStart(7)}`);
for (const [i, [label, a50, a99]] of amqp.entries()) {
  const [, p50, p99] = postgres[i] ?? [];
  out(`${label.padEnd(58)} ${n(a50)} ${n(a99)} ${n(p50)} ${n(p99)} ${ratio(a50, p50)} ${ratio(a99, p99)}`);
}
